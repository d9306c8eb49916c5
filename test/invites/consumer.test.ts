/**
 * The INVITES consumer against real HTTP servers on 127.0.0.1 standing in for each provider
 * (src/dev/mail-sink.ts, started by test/mail-hub.ts): one email per invite, whatever the queue does.
 */
import { describe, expect, it } from 'vitest'
import { getUser } from '../../src/db/users.ts'
import { getInvite } from '../../src/db/invites.ts'
import { tokenHash } from '../../src/invites/token.ts'
import { patchScimUser, deleteScimUser } from '../../src/provisioning/users.ts'
import { newTenant } from '../helpers/tenant.ts'
import { PATCH, PROVIDER_PATH, consume, consumerDeps, hangingServer, newSink, userWithInvite } from './helpers.ts'
import { scopeOf } from '../helpers/scope.ts'

const providers = ['resend', 'postmark', 'sendgrid'] as const

describe.each(providers)('consumer with the %s adapter', (provider) => {
  it('sends on 2xx: one mail naming app, tenant and person with the /invite#{token} link; invite sent, user invited, message acked', async () => {
    const tenant = await newTenant({ name: 'Acme Corp' })
    const sink = await newSink()
    const { user, invite, message } = await userWithInvite(tenant, 'ada@example.com')
    const result = await consume(consumerDeps(sink.url, { provider }), [message])

    expect(result.explicitAcks).toHaveLength(1)
    expect(result.retryMessages).toEqual([])
    const mails = await sink.messages()
    expect(mails).toHaveLength(1)
    const mail = mails[0]!
    expect(mail.provider).toBe(provider)
    expect(mail.to).toBe('ada@example.com')
    expect(mail.subject).toBe('Acme Corp invited you to Demo App')
    for (const body of [mail.text, mail.html]) {
      expect(body).toContain('Acme Corp')
      expect(body).toContain('Demo App')
      expect(body).toContain('Ada Lovelace')
    }
    expect(mail.headers['idempotency-key']).toBe(invite.id)
    expect(mail.link).toMatch(/^http:\/\/127\.0\.0\.1:8787\/invite#[A-Za-z0-9_-]{43}$/)
    expect(mail.html).toContain(mail.link!)

    const stored = (await getInvite(scopeOf(tenant), invite.id))!
    expect(stored.state).toBe('sent')
    expect(stored.attempts).toBe(1)
    // Only the hash of the link's token is stored.
    const token = mail.link!.split('#').at(-1)!
    expect(stored.tokenHash).toBe(await tokenHash(token))
    expect(JSON.stringify(stored)).not.toContain(token)
    expect(Date.parse(stored.expiresAt!) - Date.parse(stored.sentAt!)).toBe(7 * 86_400_000)
    expect((await getUser(scopeOf(tenant), user.id))!.state).toBe('invited')
  })

  it('retries on 429 with a delay, sends nothing, then sends once when the API recovers', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    await sink.failNext(429)
    const { invite, message } = await userWithInvite(tenant, 'busy@example.com')
    const deps = consumerDeps(sink.url, { provider })

    const first = await consume(deps, [message], 1)
    expect(first.explicitAcks).toEqual([])
    expect(first.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: 30 }])
    expect(await sink.messages()).toHaveLength(0)
    const pending = (await getInvite(scopeOf(tenant), invite.id))!
    expect(pending).toMatchObject({ state: 'pending', attempts: 1, leaseUntil: null })
    expect(pending.lastError).toContain('429')

    const second = await consume(deps, [message], 2)
    expect(second.explicitAcks).toHaveLength(1)
    expect(await sink.messages()).toHaveLength(1)
    expect((await getInvite(scopeOf(tenant), invite.id))!.state).toBe('sent')
  })

  it('retries on 500 with a growing delay, then sends once', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    await sink.failNext(500, 2)
    const { invite, message } = await userWithInvite(tenant, 'flaky@example.com')
    const deps = consumerDeps(sink.url, { provider })

    expect((await consume(deps, [message], 1)).retryMessages[0]!.delaySeconds).toBe(30)
    expect((await consume(deps, [message], 2)).retryMessages[0]!.delaySeconds).toBe(60)
    const third = await consume(deps, [message], 3)
    expect(third.explicitAcks).toHaveLength(1)
    expect(await sink.messages()).toHaveLength(1)
    expect((await getInvite(scopeOf(tenant), invite.id))!).toMatchObject({ state: 'sent', attempts: 3 })
  })

  it('marks the invite failed with the reason on 400 and acks; the user stays provisioned', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    await sink.failNext(400)
    const { user, invite, message } = await userWithInvite(tenant, 'bounce@example.com')
    const result = await consume(consumerDeps(sink.url, { provider }), [message])

    expect(result.explicitAcks).toHaveLength(1)
    expect(result.retryMessages).toEqual([])
    expect(await sink.messages()).toHaveLength(0)
    const failed = (await getInvite(scopeOf(tenant), invite.id))!
    expect(failed.state).toBe('failed')
    expect(failed.lastError).toMatch(new RegExp(`${provider} answered 400`))
    expect((await getUser(scopeOf(tenant), user.id))!.state).toBe('provisioned')
  })

  it('the same message delivered twice sends one email', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    const { message } = await userWithInvite(tenant, 'twice@example.com')
    const deps = consumerDeps(sink.url, { provider })
    const first = await consume(deps, [message])
    const again = await consume(deps, [message], 2)
    expect(first.explicitAcks).toHaveLength(1)
    expect(again.explicitAcks).toHaveLength(1)
    expect(await sink.messages()).toHaveLength(1)
  })
})

describe('consumer', () => {
  it('sends one email when one batch carries the same invite twice (a sweep re-enqueued it)', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    const { message } = await userWithInvite(tenant, 'dup@example.com')
    const result = await consume(consumerDeps(sink.url), [message, { ...message }])
    expect(result.explicitAcks).toHaveLength(2)
    expect(await sink.messages()).toHaveLength(1)
  })

  it('retries when the mail API does not answer in time', async () => {
    const tenant = await newTenant()
    const url = await hangingServer()
    const { invite, message } = await userWithInvite(tenant, 'slow@example.com')
    const result = await consume(consumerDeps(url, { timeoutMs: 300 }), [message])
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: 30 }])
    const stored = (await getInvite(scopeOf(tenant), invite.id))!
    expect(stored).toMatchObject({ state: 'pending', leaseUntil: null })
    expect(stored.lastError).toMatch(/timed out after 300 ms/)
  })

  it('honours Retry-After when it is longer than the backoff', async () => {
    const tenant = await newTenant()
    const { message } = await userWithInvite(tenant, 'later@example.com')
    const fakeFetch = async () => new Response('slow down', { status: 429, headers: { 'Retry-After': '120' } })
    const deps = consumerDeps('http://127.0.0.1:9', {})
    deps.mail = (await import('../../src/invites/mail.ts')).createMailClient({
      fetch: fakeFetch,
      url: 'http://127.0.0.1:9/emails',
      apiKey: 'k',
      from: 'a@b',
    })
    const result = await consume(deps, [message])
    expect(result.retryMessages[0]!.delaySeconds).toBe(120)
  })

  it('marks the invite failed and lets the message go to the dead letter queue after the last retry', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    await sink.failNext(503)
    const { invite, message } = await userWithInvite(tenant, 'gone@example.com')
    const result = await consume(consumerDeps(sink.url, { maxRetries: 8 }), [message], 9)
    expect(result.retryMessages).toHaveLength(1)
    const stored = (await getInvite(scopeOf(tenant), invite.id))!
    expect(stored.state).toBe('failed')
    expect(stored.lastError).toMatch(/gave up after 9 attempts/)
  })

  it('sends nothing for a user deactivated or deleted before the mail went out, and acks', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    const deactivated = await userWithInvite(tenant, 'leaver@example.com')
    await patchScimUser(scopeOf(tenant), deactivated.user.id, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    })
    const deleted = await userWithInvite(tenant, 'deleted@example.com')
    await deleteScimUser(scopeOf(tenant), deleted.user.id)

    const result = await consume(consumerDeps(sink.url), [deactivated.message, deleted.message])
    expect(result.explicitAcks).toHaveLength(2)
    expect(await sink.messages()).toHaveLength(0)
    expect((await getInvite(scopeOf(tenant), deactivated.invite.id))!.state).toBe('void')
    expect((await getInvite(scopeOf(tenant), deleted.invite.id))!.state).toBe('void')
  })

  it('acks malformed bodies and unknown invites without sending', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    const result = await consume(consumerDeps(sink.url), [
      { v: 2, tenantKey: tenant.key, inviteId: 'x' },
      'nonsense',
      { v: 2, tenantKey: tenant.key, inviteId: crypto.randomUUID() },
    ])
    expect(result.explicitAcks).toHaveLength(3)
    expect(await sink.messages()).toHaveLength(0)
  })

  it('marks the invite failed when the user has no email address', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    const { invite, message } = await userWithInvite(tenant, 'no-mail', { emails: [] })
    const result = await consume(consumerDeps(sink.url), [message])
    expect(result.explicitAcks).toHaveLength(1)
    expect((await getInvite(scopeOf(tenant), invite.id))!).toMatchObject({
      state: 'failed',
      lastError: 'the user has no email address',
    })
  })

  it('uses the tenant inviteTtlDays setting for the expiry', async () => {
    const tenant = await newTenant()
    const { env } = await import('cloudflare:test')
    const { tenantDocumentKey } = await import('../../src/tenants/document.ts')
    await env.TENANTS.put(
      tenantDocumentKey(tenant.id),
      JSON.stringify({ ...tenant.doc, settings: { inviteTtlDays: 2 } }),
    )
    const sink = await newSink()
    const { invite, message } = await userWithInvite(tenant, 'ttl@example.com')
    await consume(consumerDeps(sink.url), [message])
    const stored = (await getInvite(scopeOf(tenant), invite.id))!
    expect(Date.parse(stored.expiresAt!) - Date.parse(stored.sentAt!)).toBe(2 * 86_400_000)
    expect((await sink.messages())[0]!.text).toContain(stored.expiresAt!.slice(0, 10))
  })

  it('posts each provider to its own path', () => {
    expect(PROVIDER_PATH).toEqual({ resend: '/emails', postmark: '/email', sendgrid: '/v3/mail/send' })
  })
})
