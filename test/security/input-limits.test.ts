/**
 * Input limits that protect the Worker and D1 from a hostile body or filter: bodies cut while
 * streaming, JSON nesting checked before parsing, filters bounded by the SQL they compile to, and
 * Group PATCH member ids counted before any is looked up.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { newTenant } from '../helpers/tenant.ts'
import { expectScimError, PATCH_URN } from '../hardening/scim-assert.ts'

const MiB = 1024 * 1024

/** A body of `total` bytes (a JSON object with one long string) that counts how much of it was pulled. */
function countedStream(total: number): { stream: ReadableStream<Uint8Array>; pulled(): number } {
  const head = new TextEncoder().encode('{"userName":"streamed@example.com","pad":"')
  const chunk = new Uint8Array(64 * 1024).fill(0x61)
  let pulled = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= total) {
          controller.enqueue(new TextEncoder().encode('"}'))
          controller.close()
          return
        }
        const next = pulled === 0 ? head : chunk
        pulled += next.byteLength
        controller.enqueue(next)
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, pulled: () => pulled }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

describe('request bodies are cut at 1 MiB while streaming', () => {
  it('a chunked body (no Content-Length) over the limit is 413 and is not read to its end', async () => {
    const tenant = await newTenant()
    const total = 16 * MiB
    for (const [path, method] of [
      ['/Users', 'POST'],
      ['/Groups', 'POST'],
      ['/Users/.search', 'POST'],
    ] as const) {
      const body = countedStream(total)
      const res = await tenant.fetch(path, {
        method,
        body: body.stream,
        headers: { 'content-type': 'application/scim+json' },
        duplex: 'half',
      } as RequestInit)
      await expectScimError(res, 413, undefined, /the limit is 1048576 bytes/)
      await settle()
      expect(body.pulled(), path).toBeGreaterThan(MiB)
      expect(body.pulled(), path).toBeLessThan(4 * MiB)
    }
    // A body within the limit still streams in whole.
    const small = countedStream(512 * 1024)
    const ok = await tenant.fetch('/Users', {
      method: 'POST',
      body: small.stream,
      headers: { 'content-type': 'application/scim+json' },
      duplex: 'half',
    } as RequestInit)
    expect(ok.status, await ok.clone().text()).toBe(201)
  })

  it('the journal never reads a body past the limit, also when the handler refused the request unread', async () => {
    const tenant = await newTenant()
    const total = 16 * MiB
    const refusals: [string, string, Record<string, string>, number][] = [
      // 415 before the handler reads the body.
      ['/Users', 'POST', { 'content-type': 'text/plain' }, 415],
      // 413: /Bulk reads at most its own limit (4 MiB) and stops there.
      ['/Bulk', 'POST', { 'content-type': 'application/scim+json' }, 413],
    ]
    for (const [path, method, headers, status] of refusals) {
      const body = countedStream(total)
      const res = await tenant.fetch(path, { method, body: body.stream, headers, duplex: 'half' } as RequestInit)
      expect(res.status, path).toBe(status)
      await res.arrayBuffer()
      await settle()
      expect(body.pulled(), path).toBeLessThan(path === '/Bulk' ? 5 * MiB : 4 * MiB)
    }
    const { results } = await env.DB.prepare(
      'SELECT outcome, summary FROM audit_events WHERE tenant_id = ? ORDER BY at',
    )
      .bind(tenant.key)
      .all<Record<string, string | null>>()
    expect(results).toEqual([
      { outcome: 'error 415', summary: null },
      { outcome: 'error 413', summary: null },
    ])
  })
})

describe('JSON nesting', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

  it('a body nested deeper than 32 levels is 400 invalidSyntax naming the limit, checked before parsing', async () => {
    const tenant = await newTenant()
    // 32 levels: the object and 31 arrays inside it.
    const ok = await tenant.fetch('/Users/.search', {
      method: 'POST',
      body: `{"filter":"userName pr","x":${nested(31)}}`,
      headers: { 'content-type': 'application/scim+json' },
    })
    expect(ok.status, await ok.clone().text()).toBe(200)
    for (const depth of [32, 100_000]) {
      await expectScimError(
        await tenant.fetch('/Users/.search', {
          method: 'POST',
          body: `{"filter":"userName pr","x":${nested(depth)}}`,
          headers: { 'content-type': 'application/scim+json' },
        }),
        400,
        'invalidSyntax',
        /deeper than 32 levels .*the limit is 32$/,
      )
    }
    await expectScimError(
      await tenant.fetch('/Users', {
        method: 'POST',
        body: `{"userName":"deep","name":${'{"givenName":'.repeat(50_000)}"x"${'}'.repeat(50_000)}}`,
        headers: { 'content-type': 'application/scim+json' },
      }),
      400,
      'invalidSyntax',
      /the limit is 32$/,
    )
    // Brackets inside strings are text, not nesting.
    const text = await tenant.fetch('/Users', {
      method: 'POST',
      json: { userName: `${'[{'.repeat(100)}"\\`, active: false },
    })
    expect(text.status, await text.clone().text()).toBe(201)
  })
})

describe('filters are bounded by the SQL they compile to', () => {
  it('150 × `name pr` joined with or is 400 invalidFilter naming the SQL limit, never 503', async () => {
    const tenant = await newTenant()
    const ors = (n: number) => Array.from({ length: n }, () => 'name pr').join(' or ')
    await expectScimError(
      await tenant.fetch(`/Users?filter=${encodeURIComponent(ors(150))}`),
      400,
      'invalidFilter',
      /^the filter compiles to \d+ bytes of SQL; the limit is 65536 bytes/,
    )
    await expectScimError(
      await tenant.fetch('/Users/.search', { method: 'POST', json: { filter: ors(150) } }),
      400,
      'invalidFilter',
      /the limit is 65536 bytes/,
    )
    expect((await tenant.fetch(`/Users?filter=${encodeURIComponent(ors(10))}`)).status).toBe(200)
  })
})

describe('Group PATCH member ids', () => {
  it('more than 20,000 member ids across all operations is 400 naming the limit, before any lookup', async () => {
    const tenant = await newTenant()
    const group = (
      (await (await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'Big' } })).json()) as {
        id: string
      }
    ).id
    const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }))
    const patch = (Operations: unknown[]) =>
      tenant.fetch(`/Groups/${group}`, { method: 'PATCH', json: { schemas: [PATCH_URN], Operations } })
    await expectScimError(
      await patch([
        { op: 'add', path: 'members', value: ids(10_001, 'a') },
        { op: 'remove', path: 'members', value: ids(10_000, 'r') },
      ]),
      400,
      'invalidValue',
      /^The PATCH names 20001 member ids in its operations; at most 20000 are accepted in one request$/,
    )
    // One operation with 120,000 bare ids (kept under 1 MiB by repeating a short one).
    await expectScimError(
      await tenant.fetch(`/Groups/${group}`, {
        method: 'PATCH',
        body: `{"schemas":["${PATCH_URN}"],"Operations":[{"op":"add","path":"members","value":[${Array(120_000).fill('"x"').join(',')}]}]}`,
        headers: { 'content-type': 'application/scim+json' },
      }),
      400,
      'invalidValue',
      /names 120000 member ids.*at most 20000/,
    )
    // At the limit, the ids are looked up: unknown ones are named as before.
    await expectScimError(
      await patch([{ op: 'add', path: 'members', value: ids(20_000, 'u') }]),
      400,
      'invalidValue',
      /^members: no user with id "u0"/,
    )
  })
})
