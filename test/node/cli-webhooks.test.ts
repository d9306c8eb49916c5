/**
 * The support CLI's `webhook` commands: input checks (no wrangler call); create, list, rotate and
 * revoke against real `wrangler kv` in a temporary local directory; and, in-process on an in-memory
 * store, time-dependent rotation, the limit of webhooks, and how list/test/enable read answers of
 * the app API (a fake fetch: the real Worker is exercised in another file).
 */
import { describe, expect, test } from 'vitest'
import { EVENT_TYPES, parseEventFilter } from '../../src/signals/event.ts'
import { isWebhookSecret } from '../../src/signals/standard-webhooks.ts'
import { main } from '../../src/tenants/cli.ts'
import type { TenantDocument, WebhookConfig } from '../../src/tenants/document.ts'
import type { TenantStore } from '../../src/tenants/kv-store.ts'
import { MAX_WEBHOOKS, newSecret, parseEvents, WEBHOOK_EVENT_TYPES } from '../../src/tenants/webhook-commands.ts'
import { expectOneLineError, type Run, useCli } from './cli-harness.ts'

// The Worker must be unreachable for the spawned CLI: no app key from the environment.
delete process.env.APP_API_KEY

const { cli, raw, persistTo } = useCli()
const HOUR = 3_600_000

/** With `--json`, stdout is exactly one JSON object (success or error). */
function oneObject(run: Run): any {
  const parsed = JSON.parse(run.stdout)
  expect(parsed && typeof parsed === 'object' && !Array.isArray(parsed), run.stdout).toBe(true)
  return parsed
}

/** A `--json` error: one JSON object `{ error }` on stdout, one line on stderr, this exit code. */
function expectJsonError(run: Run, code: number, pattern: RegExp) {
  expect(run.code, run.stdout).toBe(code)
  expectOneLineError(run, pattern)
  const json = oneObject(run)
  expect(Object.keys(json)).toEqual(['error'])
  expect(json.error).toMatch(pattern)
}

function secretBytes(secret: string): number {
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
  return Buffer.from(secret.slice('whsec_'.length), 'base64').length
}

describe('the copies of src/signals/ that the CLI may not import', () => {
  test('the event types are the same list', () => {
    expect([...WEBHOOK_EVENT_TYPES]).toEqual([...EVENT_TYPES])
  })

  test.each(['*', 'user.*', 'group.*', 'user.*,group.*', 'user.deactivated group.members_added', ' user.created , '])(
    'parseEvents(%j) reads what parseEventFilter reads',
    (text) => {
      const expected = parseEventFilter(text)
      expect('patterns' in expected).toBe(true)
      if ('patterns' in expected) expect(parseEvents(text)).toEqual([...new Set(expected.patterns)])
    },
  )

  test.each(['', ' , ', 'user', 'users.*', 'user.frobnicated', 'webhook.test', 'user.*,nope'])(
    'parseEvents(%j) refuses what parseEventFilter refuses',
    (text) => {
      expect('error' in parseEventFilter(text)).toBe(true)
      expect(() => parseEvents(text)).toThrow(/invalid --events/)
    },
  )

  test('newSecret is whsec_ and the base64 of 32 random bytes', () => {
    const a = newSecret()
    expect(secretBytes(a)).toBe(32)
    expect(isWebhookSecret(a)).toBe(true)
    expect(newSecret()).not.toBe(a)
  })
})

/** Test names: the command line, cut short. */
const named = (rows: [string[], RegExp][]) => rows.map(([args, p]) => [args.join(' ').slice(0, 80), args, p] as const)

describe.concurrent('input errors (no wrangler call)', () => {
  test.each(
    named([
      [['webhook', 'create', 'acme', 'http://example.com/hook'], /invalid webhook URL "http:\/\/example\.com\/hook"/],
      [['webhook', 'create', 'acme', 'ftp://example.com/hook'], /invalid webhook URL/],
      [['webhook', 'create', 'acme', 'not a url'], /invalid webhook URL/],
      [['webhook', 'create', 'acme', 'https://user:pw@example.com/hook'], /must not carry a user name or password/],
      [['webhook', 'create', 'acme', `https://example.com/${'a'.repeat(2000)}`], /longer than 2000 characters/],
      [['webhook', 'create', 'acme', 'https://example.com/h', '--events', 'user.frobnicated'], /"user\.frobnicated"/],
      [['webhook', 'create', 'acme', 'https://example.com/h', '--events', ','], /name at least one event type/],
      [['webhook', 'create', 'acme', 'https://example.com/h', '--format', 'xml'], /invalid --format "xml"/],
      [['webhook', 'create', 'Bad_Id', 'https://example.com/h'], /invalid tenant id/],
      [['webhook', 'create', 'acme'], /usage: webhook create <id> <url>/],
      [['webhook', 'list', 'acme', '--events', '*'], /webhook list does not take --events/],
      [['webhook', 'rotate', 'acme', 'wh_x', '--overlap', '0h'], /invalid --overlap "0h"/],
      [['webhook', 'rotate', 'acme', 'wh_x', '--overlap', '31d'], /invalid --overlap "31d"/],
      [['webhook', 'rotate', 'acme', 'wh_x', '--overlap', '90m'], /invalid --overlap "90m"/],
    ]),
  )('%s', async (_, args, pattern) => {
    expectJsonError(await cli(...args, '--json'), 2, pattern)
    const human = await cli(...args)
    expect(human.code).toBe(2)
    expectOneLineError(human, pattern)
    expect(human.stdout).toBe('')
  })

  test('help lists every webhook command', async () => {
    const run = await cli('help')
    for (const c of ['create', 'list', 'rotate', 'revoke', 'test', 'enable'])
      expect(run.stdout).toContain(`  webhook ${c} `)
  })
})

describe('create, list, rotate, revoke (real wrangler kv, local)', () => {
  let first: Record<string, any>
  let second: Record<string, any>

  test('create --json prints the id and the secret once; the document keeps the webhook', async () => {
    expect((await cli('create', 'acme', '--json')).code).toBe(0)
    const run = await cli('webhook', 'create', 'acme', 'https://app.example.com/hooks/scim', '--json')
    expect(run.code, run.stderr).toBe(0)
    first = oneObject(run)
    expect(Object.keys(first).sort()).toEqual(['events', 'format', 'id', 'secret', 'tenantId', 'url'])
    expect(first).toMatchObject({
      tenantId: 'acme',
      url: 'https://app.example.com/hooks/scim',
      events: ['*'],
      format: 'standard',
    })
    expect(first.id).toMatch(/^wh_[a-z2-7]{16}$/)
    expect(secretBytes(first.secret)).toBe(32)

    const doc = (await raw('acme'))!
    expect(doc.webhooks).toHaveLength(1)
    const stored = doc.webhooks![0]!
    expect(stored).toMatchObject({ id: first.id, url: first.url, events: ['*'], format: 'standard' })
    expect(stored.secrets).toEqual([{ secret: first.secret, createdAt: stored.createdAt }])
    expect(Math.abs(Date.parse(stored.createdAt) - Date.now())).toBeLessThan(60_000)
    expect(doc.credentials).toHaveLength(2)
  })

  test('create takes --events and --format, and http on the loopback address; human output says "shown once"', async () => {
    const run = await cli(
      'webhook',
      'create',
      'acme',
      'http://127.0.0.1:9/x',
      '--events',
      'user.*',
      '--format',
      'set',
      '--json',
    )
    expect(run.code, run.stderr).toBe(0)
    second = oneObject(run)
    expect(second).toMatchObject({ url: 'http://127.0.0.1:9/x', events: ['user.*'], format: 'set' })
    expect((await raw('acme'))!.webhooks!.find((w) => w.id === second.id)).toMatchObject({
      events: ['user.*'],
      format: 'set',
    })

    const human = await cli('webhook', 'create', 'acme', 'http://localhost:3000/hook', '--events', 'user.*,group.*')
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/Signing secret: whsec_/)
    expect(human.stdout).toMatch(/shown once/)
    expect(human.stdout).toMatch(/Events: +user\.\*, group\.\*/)
  })

  test('create for an unknown tenant fails with exit 1', async () => {
    expectJsonError(
      await cli('webhook', 'create', 'nobody', 'https://app.example.com/h', '--json'),
      1,
      /unknown tenant "nobody"/,
    )
  })

  test('list shows the webhooks, never a secret; without a Worker progress is null with a warning', async () => {
    const doc = (await raw('acme'))!
    const secrets = doc.webhooks!.flatMap((w) => w.secrets.map((s) => s.secret))
    expect(secrets).toHaveLength(3)

    const run = await cli('webhook', 'list', 'acme', '--json')
    expect(run.code, run.stderr).toBe(0)
    const json = oneObject(run)
    expect(json.tenantId).toBe('acme')
    expect(json.webhooks).toHaveLength(3)
    expect(json.webhooks[0]).toEqual({
      id: first.id,
      url: first.url,
      events: ['*'],
      format: 'standard',
      createdAt: doc.webhooks![0]!.createdAt,
      secrets: 1,
      rotationEndsAt: null,
      progress: null,
    })
    expect(json.webhooks.map((w: any) => w.progress)).toEqual([null, null, null])
    expect(run.stderr).toMatch(/^warning: no delivery progress: .*APP_API_KEY/)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)

    const human = await cli('webhook', 'list', 'acme')
    expect(human.code).toBe(0)
    expect(human.stdout).toContain(first.id)
    expect(human.stdout).toContain('progress unknown')
    expect(human.stderr).toMatch(/^warning: /)
    for (const output of [run.stdout, run.stderr, human.stdout, human.stderr]) {
      for (const s of secrets) expect(output).not.toContain(s)
      expect(output).not.toContain('whsec_')
    }
  })

  test('list reports an unreachable Worker as a warning, not a failure', async () => {
    let stdout = ''
    let stderr = ''
    const code = await main(
      ['webhook', 'list', 'acme', '--json', '--persist-to', persistTo, '--public-url', 'http://127.0.0.1:9'],
      { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { APP_API_KEY: 'app_test' } },
    )
    expect(code, stderr).toBe(0)
    expect(JSON.parse(stdout).webhooks.map((w: any) => w.progress)).toEqual([null, null, null])
    expect(stderr).toMatch(/^warning: no delivery progress: cannot reach http:\/\/127\.0\.0\.1:9/)
  })

  test('rotate puts a new secret first; the old one signs until now + 24h', async () => {
    const before = Date.now()
    const run = await cli('webhook', 'rotate', 'acme', first.id, '--json')
    expect(run.code, run.stderr).toBe(0)
    const json = oneObject(run)
    expect(Object.keys(json).sort()).toEqual(['id', 'previousExpiresAt', 'secret', 'tenantId'])
    expect(json).toMatchObject({ tenantId: 'acme', id: first.id })
    expect(secretBytes(json.secret)).toBe(32)
    expect(json.secret).not.toBe(first.secret)
    expect(Math.abs(Date.parse(json.previousExpiresAt) - (before + 24 * HOUR))).toBeLessThan(60_000)

    const webhook = (await raw('acme'))!.webhooks!.find((w) => w.id === first.id)!
    expect(webhook.secrets.map((s) => s.secret)).toEqual([json.secret, first.secret])
    expect(webhook.secrets[0]!.expiresAt).toBeUndefined()
    expect(webhook.secrets[1]!.expiresAt).toBe(json.previousExpiresAt)

    const list = oneObject(await cli('webhook', 'list', 'acme', '--json'))
    expect(list.webhooks[0]).toMatchObject({ secrets: 2, rotationEndsAt: json.previousExpiresAt })
    first.rotated = json.secret
  })

  test('rotate --overlap 2h again keeps two live secrets: the new one and the previous one, for 2 hours', async () => {
    const before = Date.now()
    const run = await cli('webhook', 'rotate', 'acme', first.id, '--overlap', '2h')
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/Signing secret: whsec_/)
    expect(run.stdout).toMatch(/shown once/)
    // The first secret's overlap had not ended: it goes early, and says so.
    expect(run.stderr).toMatch(/^warning: dropped 1 older secret/)

    const webhook = (await raw('acme'))!.webhooks!.find((w) => w.id === first.id)!
    expect(webhook.secrets).toHaveLength(2)
    expect(webhook.secrets[0]!.expiresAt).toBeUndefined()
    expect(run.stdout).toContain(webhook.secrets[0]!.secret)
    expect(webhook.secrets[1]!.secret).toBe(first.rotated)
    expect(Math.abs(Date.parse(webhook.secrets[1]!.expiresAt!) - (before + 2 * HOUR))).toBeLessThan(60_000)
  })

  test('rotate of an unknown webhook fails with exit 1 and changes nothing', async () => {
    const before = JSON.stringify(await raw('acme'))
    expectJsonError(await cli('webhook', 'rotate', 'acme', 'wh_nope', '--json'), 1, /has no webhook "wh_nope"/)
    expect(JSON.stringify(await raw('acme'))).toBe(before)
  })

  test('webhook test without an app key fails clearly, with one JSON error object', async () => {
    expectJsonError(await cli('webhook', 'test', 'acme', first.id, '--json'), 1, /APP_API_KEY/)
    expectJsonError(await cli('webhook', 'enable', 'acme', first.id, '--json'), 1, /APP_API_KEY/)
  })

  test('revoke removes the webhook; a second revoke fails with exit 1', async () => {
    const run = await cli('webhook', 'revoke', 'acme', second.id, '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(oneObject(run)).toEqual({ tenantId: 'acme', revoked: second.id })
    const doc = (await raw('acme'))!
    expect(doc.webhooks!.map((w) => w.id)).not.toContain(second.id)
    expect(doc.webhooks).toHaveLength(2)

    expectJsonError(await cli('webhook', 'revoke', 'acme', second.id, '--json'), 1, /has no webhook/)
    const human = await cli('webhook', 'revoke', 'acme', first.id)
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(new RegExp(`Revoked webhook ${first.id}`))
  })
})

describe('in-process: rotation over time, the limit, and the app API answers (fake fetch)', () => {
  function memory(): TenantStore {
    const docs = new Map<string, string>()
    return {
      where: 'memory',
      get: async (id) => (docs.has(id) ? JSON.parse(docs.get(id)!) : undefined),
      put: async (doc) => void docs.set(doc.id, JSON.stringify(doc)),
      delete: async (id) => void docs.delete(id),
      list: async () => [...docs.keys()].map((id) => ({ id })),
      records: () => {
        throw new Error('not used')
      },
    }
  }

  interface Call {
    method: string
    url: string
    authorization: string | null
  }

  function setup(answer?: (call: Call) => { status: number; body: unknown } | Error) {
    const store = memory()
    const calls: Call[] = []
    let now = new Date('2030-01-01T00:00:00.000Z')
    // Support actions the CLI journals through the Worker: answered as the Worker does, kept apart.
    const journaled: { action: string; summary: string; operator: string | null }[] = []
    const fakeFetch = (async (input: string | URL, init?: RequestInit) => {
      const call = {
        method: init?.method ?? 'GET',
        url: String(input),
        authorization: new Headers(init?.headers).get('authorization'),
      }
      if (call.method === 'POST' && call.url.endsWith('/support/actions')) {
        journaled.push({ ...JSON.parse(String(init?.body)), operator: new Headers(init?.headers).get('x-operator') })
        return new Response('{"recorded":true}', { status: 201, headers: { 'content-type': 'application/json' } })
      }
      calls.push(call)
      const a = answer?.(call) ?? new Error('connect ECONNREFUSED')
      if (a instanceof Error) throw a
      return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } })
    }) as typeof fetch
    async function run(...argv: string[]) {
      let stdout = ''
      let stderr = ''
      const code = await main([...argv, '--public-url', 'https://scim.example.com'], {
        stdout: (t) => void (stdout += t),
        stderr: (t) => void (stderr += t),
        env: { APP_API_KEY: 'app_key_1' },
        store: () => store,
        now: () => now,
        fetch: fakeFetch,
      })
      const result: Run = { code, stdout, stderr, json: undefined }
      if (argv.includes('--json')) result.json = oneObject(result)
      return result
    }
    return {
      store,
      calls,
      journaled,
      run,
      advance: (ms: number) => void (now = new Date(now.getTime() + ms)),
      webhook: async (id: string): Promise<WebhookConfig> =>
        ((await store.get('acme')) as TenantDocument).webhooks!.find((w) => w.id === id)!,
    }
  }

  test('a rotation after the overlap ended drops the expired secret without a warning', async () => {
    const t = setup()
    await t.run('create', 'acme')
    const { json: created } = await t.run('webhook', 'create', 'acme', 'https://app.example.com/h', '--json')
    const { json: r1 } = await t.run('webhook', 'rotate', 'acme', created.id, '--overlap', '1d', '--json')
    expect(r1.previousExpiresAt).toBe('2030-01-02T00:00:00.000Z')

    t.advance(25 * HOUR)
    const list = await t.run('webhook', 'list', 'acme', '--json')
    expect(list.json.webhooks[0]).toMatchObject({ secrets: 1, rotationEndsAt: null })

    const r2 = await t.run('webhook', 'rotate', 'acme', created.id, '--overlap', '30d', '--json')
    expect(r2.stderr).toBe('')
    expect(r2.json.previousExpiresAt).toBe('2030-02-01T01:00:00.000Z')
    expect((await t.webhook(created.id)).secrets.map((s) => s.secret)).toEqual([r2.json.secret, r1.secret])
    // Each change was journaled through the Worker, naming the webhook and never a secret.
    expect(t.journaled.map((j) => j.action)).toEqual(['create', 'webhook-create', 'webhook-rotate', 'webhook-rotate'])
    expect(t.journaled[2]!.summary).toBe(`rotated the signing secret of webhook ${created.id}`)
    expect(t.journaled.every((j) => j.operator && !JSON.stringify(j).includes('whsec_'))).toBe(true)
  })

  test(`a tenant has at most ${MAX_WEBHOOKS} webhooks`, async () => {
    const t = setup()
    await t.run('create', 'acme')
    for (let i = 0; i < MAX_WEBHOOKS; i++)
      expect((await t.run('webhook', 'create', 'acme', `https://app.example.com/h${i}`)).code).toBe(0)
    expectJsonError(
      await t.run('webhook', 'create', 'acme', 'https://app.example.com/more', '--json'),
      1,
      /already has 10 webhooks/,
    )
    const { json } = await t.run('webhook', 'list', 'acme', '--json')
    expect(json.webhooks).toHaveLength(MAX_WEBHOOKS)
  })

  test("list merges each webhook's progress from GET /app/v1/{tenant}/webhooks", async () => {
    let id = ''
    const t = setup((call) =>
      call.method === 'GET' && call.url.endsWith('/app/v1/acme/webhooks')
        ? {
            status: 200,
            body: {
              webhooks: [
                {
                  webhookId: id,
                  url: 'https://app.example.com/h',
                  cursor: 7,
                  failingSince: '2030-01-01T00:00:00.000Z',
                  disabledAt: null,
                  lastSuccessAt: null,
                  pending: 2,
                  dead: 1,
                  delivered: 4,
                },
              ],
            },
          }
        : { status: 404, body: { detail: 'no route' } },
    )
    await t.run('create', 'acme')
    const empty = await t.run('webhook', 'list', 'acme', '--json')
    expect(empty.json).toEqual({ tenantId: 'acme', webhooks: [] })
    expect(t.calls).toHaveLength(0)

    id = (await t.run('webhook', 'create', 'acme', 'https://app.example.com/h', '--json')).json.id
    const other = (await t.run('webhook', 'create', 'acme', 'https://app.example.com/other', '--json')).json.id
    const run = await t.run('webhook', 'list', 'acme', '--json')
    expect(run.stderr).toBe('')
    expect(t.calls).toEqual([
      { method: 'GET', url: 'https://scim.example.com/app/v1/acme/webhooks', authorization: 'Bearer app_key_1' },
    ])
    expect(run.json.webhooks.map((w: any) => [w.id, w.progress])).toEqual([
      [
        id,
        {
          cursor: 7,
          pending: 2,
          delivered: 4,
          dead: 1,
          failingSince: '2030-01-01T00:00:00.000Z',
          disabledAt: null,
          lastSuccessAt: null,
        },
      ],
      [other, null],
    ])
    const human = await t.run('webhook', 'list', 'acme')
    expect(human.stdout).toContain('FAILING since 2030-01-01T00:00:00.000Z, 4 delivered, 2 pending, 1 dead')
  })

  test('test prints the answer; a failed delivery exits 1 with one JSON error object', async () => {
    let answer: unknown = { ok: true, status: 204, ms: 42 }
    const t = setup((call) =>
      call.method === 'POST' && /\/webhooks\/wh_[a-z2-7]{16}\/test$/.test(call.url)
        ? {
            status: 200,
            body: { ...(answer as object), webhookId: call.url.split('/').at(-2), url: 'https://app.example.com/h' },
          }
        : { status: 500, body: {} },
    )
    await t.run('create', 'acme')
    const { id } = (await t.run('webhook', 'create', 'acme', 'https://app.example.com/h', '--json')).json
    const ok = await t.run('webhook', 'test', 'acme', id, '--json')
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.json).toEqual({
      tenantId: 'acme',
      webhookId: id,
      url: 'https://app.example.com/h',
      ok: true,
      status: 204,
      ms: 42,
    })
    expect(t.calls.at(-1)).toMatchObject({
      method: 'POST',
      url: `https://scim.example.com/app/v1/acme/webhooks/${id}/test`,
    })
    expect((await t.run('webhook', 'test', 'acme', id)).stdout).toMatch(/: 204 in 42 ms\./)

    answer = { ok: false, status: 500, ms: 17, error: 'HTTP 500' }
    expectJsonError(await t.run('webhook', 'test', 'acme', id, '--json'), 1, /failed: 500 \(HTTP 500\) in 17 ms/)
    answer = { ok: false, status: 0, ms: 10000, error: 'timed out' }
    expectJsonError(await t.run('webhook', 'test', 'acme', id, '--json'), 1, /timed out/)

    const calls = t.calls.length
    expectJsonError(await t.run('webhook', 'test', 'acme', 'wh_nope', '--json'), 1, /has no webhook "wh_nope"/)
    expect(t.calls).toHaveLength(calls)
  })

  test('enable prints what the Worker did; a Worker error exits 1', async () => {
    let status = 200
    const t = setup((call) =>
      call.url.endsWith('/enable')
        ? { status, body: status === 200 ? { enabled: true, retried: 3 } : { detail: 'boom' } }
        : new Error('x'),
    )
    await t.run('create', 'acme')
    const { id } = (await t.run('webhook', 'create', 'acme', 'https://app.example.com/h', '--json')).json
    const run = await t.run('webhook', 'enable', 'acme', id, '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toEqual({ tenantId: 'acme', id, enabled: true, retried: 3 })
    expect(t.calls.at(-1)).toMatchObject({
      method: 'POST',
      url: `https://scim.example.com/app/v1/acme/webhooks/${id}/enable`,
    })
    expect((await t.run('webhook', 'enable', 'acme', id)).stdout).toMatch(
      /delivers again; 3 dead deliveries queued again/,
    )
    status = 500
    expectJsonError(await t.run('webhook', 'enable', 'acme', id, '--json'), 1, /the Worker answered 500: boom/)
  })
})
