/**
 * The invite mail path against a hostile or broken mail API (redirects, endless error bodies) and
 * hostile IdP-supplied text (recipients with several addresses or line breaks, markup and header
 * injection in names). The mail API is a real HTTP server on 127.0.0.1 (test/mail-hub.ts).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { getInvite } from '../../src/db/invites.ts'
import { renderInviteEmail } from '../../src/invites/email.ts'
import { scopeOf } from '../helpers/scope.ts'
import { newTenant } from '../helpers/tenant.ts'
import { consume, consumerDeps, newSink, userWithInvite } from '../invites/helpers.ts'

async function hubServer(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${env.MAIL_HUB_URL}/sinks`, { method: 'POST', body: JSON.stringify(body) })
  expect(res.status).toBe(201)
  return ((await res.json()) as { url: string }).url
}

describe('mail API answers', () => {
  it('a 307 redirect to another 127.0.0.1 port is not followed: the target receives nothing, the invite fails naming status and host', async () => {
    const tenant = await newTenant()
    const target = await newSink()
    const redirector = await hubServer({ kind: 'redirect', location: `${target.url}/emails` })
    const { invite, message } = await userWithInvite(tenant, 'redirected@example.com')
    const result = await consume(consumerDeps(redirector), [message])

    expect(await target.messages()).toHaveLength(0)
    expect(result.explicitAcks).toHaveLength(1)
    const stored = (await getInvite(scopeOf(tenant), invite.id))!
    expect(stored.state).toBe('failed')
    expect(stored.lastError).toContain('307')
    expect(stored.lastError).toContain(new URL(target.url).host)
  })

  it('a 40 MiB error body is not read whole: the server could write only a small part before the client cancelled', async () => {
    const tenant = await newTenant()
    const bytes = 40 * 1024 * 1024
    const huge = await hubServer({ kind: 'huge', bytes })
    const { invite, message } = await userWithInvite(tenant, 'huge@example.com')
    await consume(consumerDeps(huge), [message])

    const stored = (await getInvite(scopeOf(tenant), invite.id))!
    expect(stored.state).toBe('failed')
    expect(stored.lastError).toMatch(/^resend answered 400: x+$/)
    expect(stored.lastError!.length).toBeLessThan(4096)
    // Give the server a moment to notice the closed connection, then ask how much it wrote.
    await new Promise((r) => setTimeout(r, 200))
    const { written } = (await (await fetch(`${huge}/_written`)).json()) as { written: number }
    expect(written).toBeGreaterThan(0)
    expect(written).toBeLessThan(bytes / 2)
  })
})

describe('recipients', () => {
  const hostile = [
    ['a CRLF and a Bcc header', 'victim@example.com\r\nBcc: all@evil.example'],
    ['a comma', 'victim@example.com,attacker@evil.example'],
    ['two addresses separated by a space', 'victim@example.com attacker@evil.example'],
    ['a semicolon', 'victim@example.com;attacker@evil.example'],
    ['angle brackets', 'Victim <victim@example.com>'],
    ['two @', 'victim@example.com@evil.example'],
    ['more than 254 characters', `${'a'.repeat(60)}@${'b'.repeat(200)}.example`],
  ] as const

  for (const [what, address] of hostile) {
    it(`an email with ${what} fails the invite with a reason and sends nothing`, async () => {
      const tenant = await newTenant()
      const sink = await newSink()
      const { invite, message } = await userWithInvite(tenant, `plain-${crypto.randomUUID().slice(0, 8)}`, {
        emails: [{ value: address, primary: true }],
      })
      const result = await consume(consumerDeps(sink.url), [message])

      expect(result.explicitAcks).toHaveLength(1)
      expect(result.retryMessages).toEqual([])
      expect(await sink.messages()).toHaveLength(0)
      const stored = (await getInvite(scopeOf(tenant), invite.id))!
      expect(stored.state).toBe('failed')
      expect(stored.lastError).toMatch(/recipient address/)
    })
  }
})

describe('IdP-supplied text in the mail', () => {
  const payload = 'Eve</p><script>alert(1)</script><img src=x onerror=alert(2)>\r\nBcc: all@evil.example'

  it('markup and a \\r\\nBcc: line in displayName are escaped in the HTML and stripped of line breaks in the text and Subject', async () => {
    const tenant = await newTenant({ name: 'Acme\r\nBcc: boss@evil.example' })
    const sink = await newSink()
    const { message } = await userWithInvite(tenant, 'eve@example.com', { displayName: payload })
    await consume(consumerDeps(sink.url), [message])

    const [mail] = await sink.messages()
    expect(mail).toBeDefined()
    expect(mail!.to).toBe('eve@example.com')
    expect(mail!.subject).not.toMatch(/[\r\n]/)
    expect(mail!.subject).toBe('Acme Bcc: boss@evil.example invited you to Demo App')
    expect(mail!.html).not.toContain('<script>')
    expect(mail!.html).not.toContain('<img')
    expect(mail!.html).toContain('Eve&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(mail!.html).not.toMatch(/\r|\nBcc:/)
    for (const line of mail!.text.split('\n')) expect(line).not.toMatch(/^Bcc:/)
    expect(mail!.text).not.toContain('\r')
    expect(mail!.text).toContain(
      'Hello Eve</p><script>alert(1)</script><img src=x onerror=alert(2)> Bcc: all@evil.example,',
    )
  })

  it('renderInviteEmail keeps no line break from the app name, tenant name or person in Subject or greeting', () => {
    const mail = renderInviteEmail({
      to: 'a@example.com',
      person: 'Ada\u2028Bcc: x@evil.example',
      appName: 'App\nX-Evil: 1',
      tenantName: 'T\r',
      link: 'https://scim.example/invite#t',
      expiresAt: new Date('2026-12-09T00:00:00Z'),
    })
    expect(mail.subject).toBe('T invited you to App X-Evil: 1')
    expect(mail.text.split('\n')[0]).toBe('Hello Ada Bcc: x@evil.example,')
    expect(mail.html).not.toMatch(/[\r\u2028]|\nX-Evil/)
  })
})
