/** The invite page /invite/{token}: the open invite, accepting (twice), and every dead link with its status. */
import { SELF, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { getUser } from '../../src/db/users.ts'
import { reinvite } from '../../src/invites/reinvite.ts'
import { deleteScimUser, patchScimUser } from '../../src/provisioning/users.ts'
import { tenantDocumentKey } from '../../src/tenants/document.ts'
import { PATCH, consume, consumerDeps, newSink, userWithInvite } from '../invites/helpers.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'
import { scopeOf } from '../helpers/scope.ts'

/** A user whose invite mail went out; returns the link from the mail. */
async function invited(tenant: TestTenant, userName: string, sentAt = new Date()) {
  const sink = await newSink()
  const { user, invite } = await userWithInvite(tenant, userName)
  await consume(consumerDeps(sink.url, { now: () => sentAt }), [{ v: 2, tenantKey: tenant.key, inviteId: invite.id }])
  const [mail] = await sink.messages()
  return { user, invite, link: mail!.link! }
}

async function expectPage(res: Response, status: number, heading: string | RegExp) {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  expect(res.headers.get('content-type')).toContain('text/html')
  expect(res.headers.get('cache-control')).toBe('no-store')
  expect(res.headers.get('referrer-policy')).toBe('no-referrer')
  expect(text.startsWith('<!doctype html><html lang="en">')).toBe(true)
  expect(text).toMatch(heading)
  expect(text).not.toMatch(/at .*\.ts:\d+|Error:|stack/)
  return text
}

describe('GET /invite/{token}', () => {
  it('shows the app, the tenant and the person, with one button that posts to the same URL', async () => {
    const tenant = await newTenant({ name: 'Acme <Corp>' })
    const { link } = await invited(tenant, 'ada@example.com')
    const html = await expectPage(await SELF.fetch(link), 200, /<h1>Join Demo App at Acme &lt;Corp&gt;<\/h1>/)
    expect(html).toContain('Ada Lovelace')
    expect(html).toContain('ada@example.com')
    expect(html.match(/<button/g)).toHaveLength(1)
    expect(html).toContain(`<form method="post" action="${new URL(link).pathname}">`)
    expect(html).toContain('<button type="submit">Accept invitation</button>')
  })

  it('answers 404 for unknown and malformed tokens', async () => {
    await expectPage(
      await SELF.fetch(`${env.PUBLIC_URL}/invite/${'A'.repeat(43)}`),
      404,
      'This invite link is not valid',
    )
    await expectPage(await SELF.fetch(`${env.PUBLIC_URL}/invite/short`), 404, 'This invite link is not valid')
    await expectPage(
      await SELF.fetch(`${env.PUBLIC_URL}/invite/${'A'.repeat(43)}`, { method: 'POST' }),
      404,
      'This invite link is not valid',
    )
  })

  it('answers 410 for an expired link, and accepting it changes nothing', async () => {
    const tenant = await newTenant()
    const { user, link } = await invited(tenant, 'late@example.com', new Date(Date.now() - 8 * 86_400_000))
    await expectPage(await SELF.fetch(link), 410, 'This invite has expired')
    await expectPage(await SELF.fetch(link, { method: 'POST', redirect: 'manual' }), 410, 'This invite has expired')
    expect((await getUser(scopeOf(tenant), user.id))!.state).toBe('invited')
  })

  it('answers 410 for a link replaced by a reinvite', async () => {
    const tenant = await newTenant()
    const { link } = await invited(tenant, 'again@example.com')
    await reinvite(scopeOf(tenant, { outbox: { announce: async () => {} } }), { userName: 'again@example.com' })
    await expectPage(await SELF.fetch(link), 410, 'This invite was withdrawn')
  })

  it('answers 403 once the person is deactivated and 410 once deleted', async () => {
    const tenant = await newTenant()
    const off = await invited(tenant, 'off@example.com')
    await patchScimUser(scopeOf(tenant), off.user.id, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    })
    await expectPage(await SELF.fetch(off.link), 403, 'Your access has been turned off')
    const gone = await invited(tenant, 'gone@example.com')
    await deleteScimUser(scopeOf(tenant), gone.user.id)
    await expectPage(await SELF.fetch(gone.link), 410, 'This account no longer exists')
    await expectPage(await SELF.fetch(gone.link, { method: 'POST' }), 410, 'This account no longer exists')
  })

  it('answers 403 while the tenant is disabled', async () => {
    const tenant = await newTenant()
    const { link } = await invited(tenant, 'paused@example.com')
    await env.TENANTS.put(tenantDocumentKey(tenant.id), JSON.stringify({ ...tenant.doc, status: 'disabled' }))
    await expectPage(await SELF.fetch(link), 403, 'This organisation is not available')
  })
})

describe('POST /invite/{token}', () => {
  it('marks the person joined and redirects to the app with 303; accepting twice is harmless', async () => {
    const tenant = await newTenant({ appUrl: 'https://acme.example.com/start' })
    const { user, link } = await invited(tenant, 'yes@example.com')
    const first = await SELF.fetch(link, { method: 'POST', redirect: 'manual' })
    expect(first.status).toBe(303)
    expect(first.headers.get('location')).toBe('https://acme.example.com/start')
    expect((await getUser(scopeOf(tenant), user.id))!.state).toBe('joined')

    const again = await SELF.fetch(link, { method: 'POST', redirect: 'manual' })
    expect(again.status).toBe(303)
    expect(again.headers.get('location')).toBe('https://acme.example.com/start')
    const html = await expectPage(await SELF.fetch(link), 410, 'This invite has already been used')
    expect(html).toContain('<a href="https://acme.example.com/start">Go to the app</a>')
  })

  it('two accepts at once both land on the app and join once', async () => {
    const tenant = await newTenant()
    const { user, link } = await invited(tenant, 'race@example.com')
    const [a, b] = await Promise.all([
      SELF.fetch(link, { method: 'POST', redirect: 'manual' }),
      SELF.fetch(link, { method: 'POST', redirect: 'manual' }),
    ])
    expect([a.status, b.status]).toEqual([303, 303])
    const record = (await getUser(scopeOf(tenant), user.id))!
    expect(record.state).toBe('joined')
  })
})
