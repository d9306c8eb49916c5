/**
 * The webhook consumer on real D1 with a pinned clock: retries then dead (and the dead letter queue),
 * re-enabling puts dead deliveries back, a webhook failing for longer than the limit is disabled and
 * journaled, a rotation signs with both secrets until the overlap ends, redirects are not followed,
 * one person's second event waits for the first, and retries wake the queue once.
 */
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { readJournal } from '../../src/db/journal.ts'
import { tenantsBehind, webhookProgress } from '../../src/db/webhook-deliveries.ts'
import { createScimUser, patchScimUser } from '../../src/provisioning/users.ts'
import { newWebhookSecret } from '../../src/signals/standard-webhooks.ts'
import type { WebhookConfig } from '../../src/tenants/document.ts'
import { reenableWebhook } from '../../src/webhooks/admin.ts'
import { deliverTenant, type WebhookDeps } from '../../src/webhooks/consumer.ts'
import type { DeadDelivery } from '../../src/webhooks/message.ts'
import { SEND_SLOTS, SendSlots } from '../../src/webhooks/send-slots.ts'
import { scopeOf, systemScopeAt } from '../helpers/scope.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

interface Sent {
  url: string
  headers: Headers
  body: string
}

/** A tenant with one webhook, and a consumer whose receiver answers `answer` and whose clock is `clock.now`. */
async function setup(options: { answer: (n: number) => Response | Promise<Response>; retrySeconds: number[] }) {
  const tenant: TestTenant = await newTenant()
  const created = new Date(Date.now() - 1000).toISOString()
  const webhook: WebhookConfig = {
    id: 'wh_test',
    url: 'https://hooks.example.com/in',
    events: ['*'],
    format: 'standard',
    secrets: [{ secret: newWebhookSecret(), createdAt: created }],
    createdAt: created,
  }
  tenant.doc.webhooks = [webhook]
  const clock = { now: new Date() }
  const sent: Sent[] = []
  const dead: DeadDelivery[] = []
  const woken: number[] = []
  const scope = () => scopeOf(tenant, { now: clock.now })
  const deps: WebhookDeps = {
    scope: async () => scope(),
    send: {
      fetch: (async (url: string, init: RequestInit) => {
        sent.push({ url, headers: new Headers(init.headers), body: String(init.body) })
        return options.answer(sent.length)
      }) as typeof fetch,
      timeoutMs: 1000,
      now: () => clock.now,
      issuer: 'https://scim.example.com',
    },
    retrySeconds: options.retrySeconds,
    disableAfterHours: 72,
    wake: async (_key, delay) => void woken.push(delay),
    dead: async (d) => void dead.push(d),
  }
  const deliver = () => deliverTenant(tenant.key, deps)
  return { tenant, webhook, clock, sent, dead, woken, scope, deps, deliver }
}

const later = (clock: { now: Date }, ms: number) => {
  clock.now = new Date(clock.now.getTime() + ms)
}

describe('retries', () => {
  it('a failing delivery is retried on the schedule, then dead and sent to the dead letter queue; enable retries it', async () => {
    const t = await setup({ answer: () => new Response('no', { status: 503 }), retrySeconds: [10] })
    await createScimUser(t.scope(), { schemas: [USER], userName: 'r@example.com' })
    await t.deliver()
    expect(t.sent).toHaveLength(1)
    // One wake-up for the retry, about 10 s away.
    expect(t.woken).toHaveLength(1)
    expect(t.woken[0]).toBeGreaterThanOrEqual(8)
    // Not yet due: nothing is sent.
    later(t.clock, 5_000)
    await t.deliver()
    expect(t.sent).toHaveLength(1)
    later(t.clock, 10_000)
    await t.deliver()
    expect(t.sent).toHaveLength(2)
    expect(t.sent[1]!.headers.get('webhook-id')).toBe(t.sent[0]!.headers.get('webhook-id'))
    expect(t.dead).toEqual([
      expect.objectContaining({ webhookId: 'wh_test', type: 'user.created', attempts: 2, lastError: 'answered 503' }),
    ])
    expect((await webhookProgress(t.scope(), ['wh_test']))[0]).toMatchObject({ pending: 0, dead: 1, delivered: 0 })

    expect(await reenableWebhook(t.scope(), 'wh_test')).toEqual({ enabled: false, retried: 1 })
    const ok = await setup({ answer: () => new Response(null, { status: 204 }), retrySeconds: [10] })
    t.deps.send.fetch = ok.deps.send.fetch
    await t.deliver()
    expect(ok.sent).toHaveLength(1)
    expect((await webhookProgress(t.scope(), ['wh_test']))[0]).toMatchObject({ pending: 0, dead: 0, delivered: 1 })
  })

  it("a person's second event waits until the first is accepted", async () => {
    const t = await setup({
      answer: (n) => new Response(null, { status: n === 1 ? 500 : 200 }),
      retrySeconds: [1, 1, 1],
    })
    const user = await createScimUser(t.scope(), { schemas: [USER], userName: 'o@example.com' })
    await patchScimUser(t.scope(), user.id, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    })
    await t.deliver()
    // The creation failed; the deactivation was not sent before it.
    expect(t.sent.map((s) => JSON.parse(s.body).type)).toEqual(['user.created'])
    later(t.clock, 2_000)
    await t.deliver()
    expect(t.sent.map((s) => JSON.parse(s.body).type)).toEqual(['user.created', 'user.created', 'user.deactivated'])
  })

  it('redirects are not followed: a 302 is a failed delivery', async () => {
    const t = await setup({
      answer: () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example.com' } }),
      retrySeconds: [],
    })
    await createScimUser(t.scope(), { schemas: [USER], userName: 'redirect@example.com' })
    await t.deliver()
    expect(t.sent).toHaveLength(1)
    expect(t.dead[0]!.lastError).toMatch(/302; redirects are not followed/)
  })
})

describe('health', () => {
  it('a webhook that fails for longer than the limit is disabled, journaled, and no longer sent to', async () => {
    const t = await setup({ answer: () => new Response(null, { status: 500 }), retrySeconds: [3600, 3600, 3600] })
    await createScimUser(t.scope(), { schemas: [USER], userName: 'd@example.com' })
    await t.deliver()
    later(t.clock, 3601_000)
    await t.deliver()
    expect((await webhookProgress(t.scope(), ['wh_test']))[0]!.disabledAt).toBeNull()
    later(t.clock, 72 * 3600_000)
    await createScimUser(t.scope(), { schemas: [USER], userName: 'd2@example.com' })
    await t.deliver()
    const progress = (await webhookProgress(t.scope(), ['wh_test']))[0]!
    expect(progress.disabledAt).toBe(t.clock.now.toISOString())
    const entry = (await readJournal(t.scope(), { limit: 20 })).entries.find((e) => e.action === 'webhook-disabled')
    expect(entry).toMatchObject({ path: 'wh_test', outcome: 'disabled' })
    const count = t.sent.length
    later(t.clock, 7200_000)
    await t.deliver()
    expect(t.sent).toHaveLength(count)

    expect(await reenableWebhook(t.scope(), 'wh_test')).toMatchObject({ enabled: true })
    expect((await webhookProgress(t.scope(), ['wh_test']))[0]!.disabledAt).toBeNull()
  })
})

describe('signatures', () => {
  it('during a rotation both secrets sign; after the overlap only the new one', async () => {
    const t = await setup({ answer: () => new Response(null, { status: 200 }), retrySeconds: [] })
    const old = t.webhook.secrets[0]!.secret
    const fresh = newWebhookSecret()
    t.webhook.secrets = [
      { secret: fresh, createdAt: t.clock.now.toISOString() },
      {
        secret: old,
        createdAt: t.webhook.createdAt,
        expiresAt: new Date(t.clock.now.getTime() + 3600_000).toISOString(),
      },
    ]
    await createScimUser(t.scope(), { schemas: [USER], userName: 's1@example.com' })
    await t.deliver()
    /** The signature `secret` makes of a delivery as sent. */
    const signature = (secret: string, sent: Sent) =>
      new Webhook(secret).sign(
        sent.headers.get('webhook-id')!,
        new Date(Number(sent.headers.get('webhook-timestamp')) * 1000),
        sent.body,
      )
    const first = t.sent[0]!
    expect(first.headers.get('webhook-signature')!.split(' ').sort()).toEqual(
      [signature(fresh, first), signature(old, first)].sort(),
    )
    // The library's own check, with the real clock (the delivery was stamped now).
    expect(
      new Webhook(old).verify(first.body, {
        'webhook-id': first.headers.get('webhook-id')!,
        'webhook-timestamp': first.headers.get('webhook-timestamp')!,
        'webhook-signature': first.headers.get('webhook-signature')!,
      }),
    ).toMatchObject({ type: 'user.created' })

    later(t.clock, 3601_000)
    await createScimUser(t.scope(), { schemas: [USER], userName: 's2@example.com' })
    await t.deliver()
    const second = t.sent[1]!
    expect(second.headers.get('webhook-signature')).toBe(signature(fresh, second))
  })
})

describe('revoked webhooks', () => {
  it('leave no state behind once the tenant is woken, so the cron stops waking it', async () => {
    const t = await setup({ answer: () => new Response(null, { status: 500 }), retrySeconds: [60] })
    await createScimUser(t.scope(), { schemas: [USER], userName: 'gone@example.com' })
    await t.deliver()
    expect((await webhookProgress(t.scope(), ['wh_test']))[0]).toMatchObject({ pending: 1 })
    later(t.clock, 120_000)
    expect(await tenantsBehind(systemScopeAt(t.clock.now))).toContain(t.tenant.key)
    t.tenant.doc.webhooks = []
    await t.deliver()
    expect((await webhookProgress(t.scope(), ['wh_test']))[0]).toMatchObject({ pending: 0, cursor: 0 })
    expect(await tenantsBehind(systemScopeAt(t.clock.now))).not.toContain(t.tenant.key)
  })
})

describe('send slots', () => {
  it('tenants of one batch share the invocation’s 6 connections, and every delivery still goes out', async () => {
    let open = 0
    let most = 0
    const answer = async () => {
      open++
      most = Math.max(most, open)
      await new Promise((r) => setTimeout(r, 15))
      open--
      return new Response(null, { status: 204 })
    }
    const a = await setup({ answer, retrySeconds: [1] })
    const b = await setup({ answer, retrySeconds: [1] })
    for (let i = 0; i < 8; i++) {
      await createScimUser(a.scope(), { schemas: [USER], userName: `a${i}@example.com` })
      await createScimUser(b.scope(), { schemas: [USER], userName: `b${i}@example.com` })
    }
    const slots = new SendSlots()
    await Promise.all([deliverTenant(a.tenant.key, a.deps, slots), deliverTenant(b.tenant.key, b.deps, slots)])
    expect(a.sent).toHaveLength(8)
    expect(b.sent).toHaveLength(8)
    expect(most).toBeGreaterThan(1)
    expect(most).toBeLessThanOrEqual(SEND_SLOTS)
    expect(slots.take(Infinity)).toBe(SEND_SLOTS)
  })
})
