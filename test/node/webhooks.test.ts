/**
 * Webhooks end to end, against the real Worker under `wrangler dev` (its queues, D1 and KV) and real
 * receivers on 127.0.0.1: Standard Webhooks deliveries verified with the secret, RFC 9967 SETs
 * verified with the Worker's JWKS, receipts by delivery in the journal, and the reliability run: a
 * receiver that fails 30% and hangs on 5% still gets every event once accepted, each person's in order.
 */
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { AppEvent } from '../../src/signals/event.ts'
import { newWebhookSecret } from '../../src/signals/standard-webhooks.ts'
import type { WebhookConfig } from '../../src/tenants/document.ts'
import { main } from '../../src/tenants/cli.ts'
import { startReceiver, type Delivery, type Receiver } from './webhook-receiver.ts'
import { APP_API_KEY, eventually, startTestWorker, type TestWorker } from './worker-server.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

let worker: TestWorker
let healthy: Receiver
let sets: Receiver
let flaky: Receiver
const created = new Date(Date.now() - 60_000).toISOString()
const hook = (id: string, url: string, format: 'standard' | 'set' = 'standard'): WebhookConfig => ({
  id,
  url: `${url}/hook`,
  events: ['*'],
  format,
  secrets: [{ secret: newWebhookSecret(), createdAt: created }],
  createdAt: created,
})
let standardHook: WebhookConfig
let flakyHook: WebhookConfig

beforeAll(async () => {
  healthy = await startReceiver()
  sets = await startReceiver(() => 202)
  flaky = await startReceiver()
  standardHook = hook('wh_standard', healthy.url)
  flakyHook = hook('wh_flaky', flaky.url)
  worker = await startTestWorker(
    [
      { appUrl: 'https://app.example.com', webhooks: [standardHook, hook('wh_set', sets.url, 'set')] },
      { appUrl: 'https://app.example.com', webhooks: [flakyHook] },
    ],
    { vars: { WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_RETRY_SECONDS: '1,1,1,1,2,2,2,2,3,3,3,3,3,3' } },
  )
}, 120_000)

afterAll(async () => {
  await worker?.close()
  await Promise.all([healthy, sets, flaky].map((r) => r?.close()))
})

function scim(tenant: number, path: string, init: { method?: string; body?: unknown } = {}) {
  return fetch(`${worker.url}/scim/v2/${worker.tenants[tenant]!.id}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${worker.tenants[tenant]!.bearerToken}`,
      'content-type': 'application/scim+json',
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
}

async function createUser(tenant: number, userName: string): Promise<string> {
  const res = await scim(tenant, '/Users', { method: 'POST', body: { schemas: [USER], userName } })
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { id: string }).id
}

async function setActive(tenant: number, id: string, active: boolean) {
  const res = await scim(tenant, `/Users/${id}`, {
    method: 'PATCH',
    body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: active }] },
  })
  expect(res.status, await res.clone().text()).toBe(200)
}

function app(tenant: number, path: string, init: RequestInit = {}) {
  return fetch(`${worker.url}/app/v1/${worker.tenants[tenant]!.id}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${APP_API_KEY}`, 'content-type': 'application/json' },
  })
}

async function allEvents(tenant: number): Promise<AppEvent[]> {
  const out: AppEvent[] = []
  let cursor = ''
  for (;;) {
    const page = (await (await app(tenant, `/events?after=${cursor}&limit=1000`)).json()) as {
      events: AppEvent[]
      cursor: string
      more: boolean
    }
    out.push(...page.events)
    if (!page.more) return out
    cursor = page.cursor
  }
}

/** The event of a Standard Webhooks delivery, after checking its signature with the webhook's secret. */
function verified(d: Delivery, webhook: WebhookConfig): AppEvent {
  const payload = new Webhook(webhook.secrets[0]!.secret).verify(d.body, {
    'webhook-id': d.id,
    'webhook-timestamp': d.timestamp,
    'webhook-signature': d.signature,
  }) as { type: string; timestamp: string; data: AppEvent }
  expect(payload.type).toBe(payload.data.type)
  expect(payload.timestamp).toBe(payload.data.time)
  expect(d.id).toBe(payload.data.id)
  return payload.data
}

describe('Standard Webhooks deliveries', () => {
  test('user.created and user.deactivated arrive signed, in order, the same events as the feed; the 2xx is the receipt', async () => {
    const id = await createUser(0, 'ada@example.com')
    await setActive(0, id, false)
    const got = await eventually(() => {
      const mine = healthy.accepted().filter((d) => d.body.includes(id))
      return mine.length >= 2 ? mine : undefined
    }, 'two deliveries')
    expect(got.every((d) => d.contentType === 'application/json')).toBe(true)
    const events = got.map((d) => verified(d, standardHook))
    expect(events.map((e) => e.type)).toEqual(['user.created', 'user.deactivated'])
    expect(events[1]!.attributes).toEqual(['active'])

    // A signature made with another secret does not verify.
    expect(() =>
      new Webhook(newWebhookSecret()).verify(got[0]!.body, {
        'webhook-id': got[0]!.id,
        'webhook-timestamp': got[0]!.timestamp,
        'webhook-signature': got[0]!.signature,
      }),
    ).toThrow()

    const feed = (await allEvents(0)).filter((e) => e.resource.id === id)
    expect(feed.map((e) => e.id)).toEqual(events.map((e) => e.id))

    // The delivery's 2xx confirmed the deactivation: the feed and the journal say so.
    const confirmed = await eventually(async () => {
      const e = (await allEvents(0)).find((x) => x.id === events[1]!.id)
      return e?.receipt?.confirmedAt ? e : undefined
    }, 'the receipt')
    expect(confirmed.receipt!.via).toMatch(/^webhook:wh_(standard|set)$/)
    const journal = (await (await app(0, `/journal?userName=ada@example.com`)).json()) as {
      entries: { action: string; summary: string }[]
    }
    expect(journal.entries.find((e) => e.action === 'confirm')?.summary).toMatch(
      /^user\.deactivated at \S+, app confirmed at \S+ \(\+[\d.]+ (ms|s)\) via webhook:wh_/,
    )
  })

  test('RFC 9967 SETs: signed by the Worker (its JWKS verifies them), notice events naming the user', async () => {
    const id = await createUser(0, 'grace@example.com')
    await setActive(0, id, false)
    const got = await eventually(() => {
      const mine = sets.accepted().filter((d) => {
        const claims = decodeJwt(d.body) as { sub_id?: { uri?: string } }
        return claims.sub_id?.uri === `/Users/${id}`
      })
      return mine.length >= 2 ? mine : undefined
    }, 'two SETs')
    const jwks = createLocalJWKSet(await (await fetch(`${worker.url}/.well-known/jwks.json`)).json())
    const uris: string[][] = []
    for (const d of got) {
      expect(d.contentType).toBe('application/secevent+jwt')
      const { payload, protectedHeader } = await jwtVerify(d.body, jwks, {
        issuer: worker.url,
        audience: `${sets.url}/hook`,
        typ: 'secevent+jwt',
      })
      expect(protectedHeader.typ).toBe('secevent+jwt')
      expect(payload.jti).toBe(d.id)
      uris.push(Object.keys(payload.events as object))
    }
    expect(uris[0]).toEqual(['urn:ietf:params:scim:event:prov:create:notice'])
    expect(uris[1]).toContain('urn:ietf:params:scim:event:prov:deactivate')
    expect(got.map((d) => d.body).join('')).not.toContain('grace@example.com')
  })
})

describe('reliability', () => {
  test('150 people, 300 changes incl. 30 deactivations to a receiver failing 30% and hanging on 5%: all delivered, in order per person', async () => {
    let calls = 0
    flaky.behave = () => {
      calls++
      const r = Math.random()
      return r < 0.05 ? 'hang' : r < 0.35 ? 500 : 200
    }
    const ids: string[] = []
    for (let i = 0; i < 150; i += 25) {
      ids.push(...(await Promise.all(Array.from({ length: 25 }, (_, j) => createUser(1, `p${i + j}@example.com`)))))
    }
    // 120 updates, 30 deactivations: 300 changes with the creations.
    await Promise.all(
      ids.slice(0, 120).map((id, i) =>
        scim(1, `/Users/${id}`, {
          method: 'PATCH',
          body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `T${i}` }] },
        }).then((r) => expect(r.status).toBe(200)),
      ),
    )
    await Promise.all(ids.slice(120).map((id) => setActive(1, id, false)))
    const events = await allEvents(1)
    expect(events).toHaveLength(300)

    const wanted = new Set(events.map((e) => e.id))
    await eventually(
      () => (new Set(flaky.accepted().map((d) => d.id)).size >= wanted.size ? true : undefined),
      'every event accepted',
      240_000,
    )
    const bySeq = new Map(events.map((e) => [e.id, e]))
    // Every delivery is one of the events, signed; a redelivery repeats the same id and payload.
    const bodies = new Map<string, string>()
    for (const d of flaky.deliveries) {
      const event = verified(d, flakyHook)
      expect(bySeq.has(event.id)).toBe(true)
      expect(event).toEqual(JSON.parse(bodies.get(d.id) ?? d.body).data)
      bodies.set(d.id, d.body)
    }
    expect(new Set(flaky.accepted().map((d) => d.id))).toEqual(wanted)
    // Per person: no delivery of an event arrives before every earlier event of that person was accepted.
    const acceptedAt = new Map<string, number>()
    for (const d of flaky.accepted()) if (!acceptedAt.has(d.id)) acceptedAt.set(d.id, d.at)
    for (const d of flaky.deliveries) {
      const event = bySeq.get(d.id)!
      for (const earlier of events.filter((e) => e.resource.id === event.resource.id && e.seq < event.seq))
        expect(acceptedAt.get(earlier.id)!, `${earlier.type} before ${event.type}`).toBeLessThanOrEqual(d.at)
    }
    expect(calls).toBeGreaterThan(300)
    const status = (await (await app(1, '/webhooks')).json()) as { webhooks: { pending: number; dead: number }[] }
    expect(status.webhooks[0]).toMatchObject({ pending: 0, dead: 0, delivered: 300 })
    // Every deactivation was confirmed by its delivery.
    const receipts = (await allEvents(1)).filter((e) => e.receipt)
    expect(receipts).toHaveLength(30)
    expect(receipts.every((e) => e.receipt!.via === 'webhook:wh_flaky')).toBe(true)
  }, 300_000)
})

/** The support CLI in-process on the Worker's KV and D1; `--json` runs must print exactly one object. */
async function cli(...args: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await main([...args, '--persist-to', worker.persistTo, '--public-url', worker.url], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { APP_API_KEY },
  })
  return { code, stdout, stderr, json: args.includes('--json') ? JSON.parse(stdout) : undefined }
}

describe('made with the CLI', () => {
  test('webhook create --json: signed user.created and user.deactivated verify with the printed secret; the feed and log agree', async () => {
    const tenantId = `cli-hooks-${Date.now().toString(36)}`
    const made = await cli('create', tenantId, '--json')
    expect(made.code, made.stderr).toBe(0)
    const receiver = await startReceiver()
    try {
      const hook = await cli('webhook', 'create', tenantId, `${receiver.url}/in`, '--events', 'user.*', '--json')
      expect(hook.code, hook.stderr).toBe(0)
      expect(hook.json.secret).toMatch(/^whsec_/)
      const auth = { authorization: `Bearer ${made.json.bearerToken}`, 'content-type': 'application/scim+json' }
      const base = `${worker.url}/scim/v2/${tenantId}`
      const res = await fetch(`${base}/Users`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ schemas: [USER], userName: 'cli-hook@example.com' }),
      })
      expect(res.status).toBe(201)
      const { id } = (await res.json()) as { id: string }
      const off = await fetch(`${base}/Users/${id}`, {
        method: 'PATCH',
        headers: auth,
        body: JSON.stringify({ schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }),
      })
      expect(off.status).toBe(200)
      const got = await eventually(
        () => (receiver.accepted().length >= 2 ? receiver.accepted() : undefined),
        'two deliveries',
      )
      const events = got.map(
        (d) =>
          (
            new Webhook(hook.json.secret).verify(d.body, {
              'webhook-id': d.id,
              'webhook-timestamp': d.timestamp,
              'webhook-signature': d.signature,
            }) as { data: AppEvent }
          ).data,
      )
      expect(events.map((e) => e.type)).toEqual(['user.created', 'user.deactivated'])
      const feed = (await (
        await fetch(`${worker.url}/app/v1/${tenantId}/events`, { headers: { authorization: `Bearer ${APP_API_KEY}` } })
      ).json()) as { events: AppEvent[] }
      expect(feed.events.map((e) => e.id)).toEqual(events.map((e) => e.id))

      const log = await eventually(async () => {
        const run = await cli('log', tenantId, '--user', 'cli-hook@example.com')
        return /app confirmed at/.test(run.stdout) ? run : undefined
      }, 'the receipt in the log')
      expect(log.stdout).toMatch(/user\.deactivated at \S+, app confirmed at \S+ \(\+[\d.]+ (ms|s)\) via webhook:wh_/)

      const listed = await cli('webhook', 'list', tenantId, '--json')
      expect(listed.json.webhooks[0].progress).toMatchObject({ pending: 0, dead: 0, delivered: 2 })
      const tested = await cli('webhook', 'test', tenantId, hook.json.id, '--json')
      expect(tested.json).toMatchObject({ ok: true, status: 200 })
      expect(JSON.parse(receiver.deliveries.at(-1)!.body)).toMatchObject({ type: 'webhook.test' })
    } finally {
      await receiver.close()
    }
  }, 90_000)
})
