/**
 * Input limits: what one request may carry, each refusal a SCIM error whose detail
 * says what to change (src/scim/limits.ts, src/routes/http.ts, src/scim/filter/parser.ts,
 * src/scim/list/params.ts). Each limit is checked at the edge: the largest accepted value passes and
 * one more is refused.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { newTenant } from '../helpers/tenant.ts'
import { ENTERPRISE_URN, expectScimError, PATCH_URN, USER_URN } from './scim-assert.ts'

const MiB = 1024 * 1024

describe('input limits', () => {
  it('a body over 1 MiB is 413, with or without a Content-Length', async () => {
    const tenant = await newTenant()
    const padding = (bytes: number) => JSON.stringify({ userName: 'big@example.com', nope: 'x'.repeat(bytes - 40) })
    const exact = padding(MiB)
    expect(exact.length).toBeLessThanOrEqual(MiB)
    expect(
      (
        await tenant.fetch('/Users', {
          method: 'POST',
          body: exact,
          headers: { 'content-type': 'application/scim+json' },
        })
      ).status,
    ).toBe(201)
    const over = padding(MiB + 100)
    await expectScimError(
      await tenant.fetch('/Users', {
        method: 'POST',
        body: over,
        headers: { 'content-type': 'application/scim+json' },
      }),
      413,
      undefined,
      new RegExp(`^The request body is ${over.length} bytes; the limit is ${MiB} bytes$`),
    )
    // Streamed (no Content-Length): the bytes read are counted.
    const stream = new Blob([over]).stream()
    await expectScimError(
      await tenant.fetch('/Users', {
        method: 'POST',
        body: stream,
        headers: { 'content-type': 'application/scim+json' },
        duplex: 'half',
      } as RequestInit),
      413,
      undefined,
      /the limit is 1048576 bytes/,
    )
    // A PATCH and a group are capped alike.
    await expectScimError(
      await tenant.fetch('/Groups', {
        method: 'POST',
        body: over,
        headers: { 'content-type': 'application/scim+json' },
      }),
      413,
      undefined,
      /the limit is 1048576 bytes/,
    )
    await expectScimError(
      await tenant.fetch('/Users/.search', {
        method: 'POST',
        body: over,
        headers: { 'content-type': 'application/scim+json' },
      }),
      413,
      undefined,
      /the limit is 1048576 bytes/,
    )
  })

  it('a string over 4096 characters is 400 invalidValue naming the attribute', async () => {
    const tenant = await newTenant()
    const ok = await tenant.fetch('/Users', { method: 'POST', json: { userName: 'u'.repeat(4096), active: false } })
    expect(ok.status).toBe(201)
    const id = ((await ok.json()) as { id: string }).id
    await expectScimError(
      await tenant.fetch('/Users', { method: 'POST', json: { userName: 'u'.repeat(4097) } }),
      400,
      'invalidValue',
      /^userName is 4097 characters long; the limit is 4096$/,
    )
    await expectScimError(
      await tenant.fetch('/Users', { method: 'POST', json: { userName: 'x', name: { givenName: 'g'.repeat(5000) } } }),
      400,
      'invalidValue',
      /^name\.givenName is 5000 characters long; the limit is 4096$/,
    )
    await expectScimError(
      await tenant.fetch('/Users', { method: 'POST', json: { userName: 'x', emails: [{ value: 'e'.repeat(4097) }] } }),
      400,
      'invalidValue',
      /^emails\[0\]\.value is 4097 characters long; the limit is 4096$/,
    )
    await expectScimError(
      await tenant.fetch('/Users', {
        method: 'POST',
        json: { userName: 'x', [ENTERPRISE_URN]: { department: 'd'.repeat(4097) } },
      }),
      400,
      'invalidValue',
      /department is 4097 characters long; the limit is 4096$/,
    )
    // Characters, not bytes: 4096 two-byte characters pass.
    expect((await tenant.fetch(`/Users/${id}`, { method: 'PUT', json: { userName: 'é'.repeat(4096) } })).status).toBe(
      200,
    )
    await expectScimError(
      await tenant.fetch(`/Users/${id}`, {
        method: 'PATCH',
        json: { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'displayName', value: 'd'.repeat(4097) }] },
      }),
      400,
      'invalidValue',
      /^operation 1: displayName is 4097 characters long; the limit is 4096$/,
    )
    await expectScimError(
      await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'g'.repeat(4097) } }),
      400,
      'invalidValue',
      /^displayName is 4097 characters long; the limit is 4096$/,
    )
    // Binary values (certificates) have their own, larger limit.
    expect(
      (
        await tenant.fetch('/Users', {
          method: 'POST',
          json: { userName: 'cert', active: false, x509Certificates: [{ value: 'A'.repeat(65536) }] },
        })
      ).status,
    ).toBe(201)
    await expectScimError(
      await tenant.fetch('/Users', {
        method: 'POST',
        json: { userName: 'cert2', x509Certificates: [{ value: 'A'.repeat(65537) }] },
      }),
      400,
      'invalidValue',
      /the limit is 65536$/,
    )
  })

  it('more than 100 values of a multi-valued attribute is 400 invalidValue', async () => {
    const tenant = await newTenant()
    const emails = (n: number) => Array.from({ length: n }, (_, i) => ({ value: `e${i}@example.com`, type: 'work' }))
    const ok = await tenant.fetch('/Users', {
      method: 'POST',
      json: { userName: 'many@example.com', active: false, emails: emails(100) },
    })
    expect(ok.status, await ok.clone().text()).toBe(201)
    const id = ((await ok.json()) as { id: string }).id
    await expectScimError(
      await tenant.fetch('/Users', { method: 'POST', json: { userName: 'x', emails: emails(101) } }),
      400,
      'invalidValue',
      /^emails has 101 values; at most 100 are accepted in one request$/,
    )
    await expectScimError(
      await tenant.fetch(`/Users/${id}`, {
        method: 'PUT',
        json: { userName: 'many@example.com', phoneNumbers: emails(150) },
      }),
      400,
      'invalidValue',
      /^phoneNumbers has 150 values; at most 100/,
    )
    await expectScimError(
      await tenant.fetch(`/Users/${id}`, {
        method: 'PATCH',
        json: { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'roles', value: emails(101) }] },
      }),
      400,
      'invalidValue',
      /^operation 1: roles has 101 values; at most 100/,
    )
  })

  it('more than 1000 PATCH operations is 400 tooMany', async () => {
    const tenant = await newTenant()
    const id = (
      (await (
        await tenant.fetch('/Users', { method: 'POST', json: { userName: 'ops@example.com', active: false } })
      ).json()) as { id: string }
    ).id
    const ops = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ op: 'replace', path: 'displayName', value: `v${i}` }))
    const ok = await tenant.fetch(`/Users/${id}`, {
      method: 'PATCH',
      json: { schemas: [PATCH_URN], Operations: ops(1000) },
    })
    expect(ok.status, await ok.clone().text()).toBe(200)
    expect(((await ok.json()) as { displayName: string }).displayName).toBe('v999')
    await expectScimError(
      await tenant.fetch(`/Users/${id}`, { method: 'PATCH', json: { schemas: [PATCH_URN], Operations: ops(1001) } }),
      400,
      'tooMany',
      /^The PATCH has 1001 operations; at most 1000 are accepted in one request$/,
    )
    const group = (
      (await (await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'G' } })).json()) as { id: string }
    ).id
    await expectScimError(
      await tenant.fetch(`/Groups/${group}`, {
        method: 'PATCH',
        json: { schemas: [PATCH_URN], Operations: ops(1001).map((o) => ({ ...o, path: 'externalId' })) },
      }),
      400,
      'tooMany',
      /1001 operations/,
    )
  })

  it('a filter over 4096 characters, over 90 values or nested over 50 levels is 400 invalidFilter', async () => {
    const tenant = await newTenant()
    const filter = (n: number) => `userName eq "${'a'.repeat(n - 14)}"`
    expect(filter(4096).length).toBe(4096)
    expect((await tenant.fetch(`/Users?filter=${encodeURIComponent(filter(4096))}`)).status).toBe(200)
    await expectScimError(
      await tenant.fetch(`/Users?filter=${encodeURIComponent(filter(4097))}`),
      400,
      'invalidFilter',
      /^filter is 4097 characters long; the limit is 4096$/,
    )
    await expectScimError(
      await tenant.fetch('/Groups/.search', {
        method: 'POST',
        json: { filter: `displayName eq "${'g'.repeat(5000)}"` },
      }),
      400,
      'invalidFilter',
      /^filter is 5017 characters long; the limit is 4096$/,
    )
    const ors = (n: number) => Array.from({ length: n }, (_, i) => `userName eq "u${i}"`).join(' or ')
    expect((await tenant.fetch(`/Users?filter=${encodeURIComponent(ors(90))}`)).status).toBe(200)
    await expectScimError(
      await tenant.fetch(`/Users?filter=${encodeURIComponent(ors(91))}`),
      400,
      'invalidFilter',
      /needs more than 90 values; split it into several requests/,
    )
    const nested = (n: number) => `${'('.repeat(n)}userName pr${')'.repeat(n)}`
    expect((await tenant.fetch(`/Users?filter=${encodeURIComponent(nested(50))}`)).status).toBe(200)
    await expectScimError(
      await tenant.fetch(`/Users?filter=${encodeURIComponent(nested(51))}`),
      400,
      'invalidFilter',
      /^filter nests deeper than 50 levels at position 51$/,
    )
    await expectScimError(
      await tenant.fetch(`/Users?filter=${encodeURIComponent(`${'not '.repeat(51)}userName pr`)}`),
      400,
      'invalidFilter',
      /nests deeper than 50 levels/,
    )
  })

  it('count is capped at 1000 items per page; a negative count means 0', async () => {
    const tenant = await newTenant()
    // 1005 users written straight into D1: seeding them through SCIM would take most of the time budget.
    await env.DB.prepare(
      `INSERT INTO users (tenant_id, id, seq, user_name, active, state, source, version, created_at, updated_at, resource)
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1005)
       SELECT ?1, 'u-' || i, i, 'user' || i || '@example.com', 0, 'deactivated', 'scim', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z',
              json_object('schemas', json_array('${USER_URN}'), 'userName', 'user' || i || '@example.com', 'active', json('false'))
       FROM n`,
    )
      .bind(tenant.key)
      .run()
    await env.DB.prepare('INSERT INTO tenant_counts (tenant_id, users) VALUES (?, 1005)').bind(tenant.key).run()
    for (const res of [
      await tenant.fetch('/Users?count=100000'),
      await tenant.fetch('/Users/.search', { method: 'POST', json: { count: 100000, filter: 'userName sw "user"' } }),
    ]) {
      expect(res.status).toBe(200)
      const body = (await res.json()) as {
        totalResults: number
        itemsPerPage: number
        startIndex: number
        Resources: unknown[]
      }
      expect(body).toMatchObject({ totalResults: 1005, itemsPerPage: 1000, startIndex: 1 })
      expect(body.Resources).toHaveLength(1000)
    }
    const last = (await (await tenant.fetch('/Users?count=100000&startIndex=1001')).json()) as { itemsPerPage: number }
    expect(last.itemsPerPage).toBe(5)
    const none = (await (await tenant.fetch('/Users?count=-5')).json()) as {
      totalResults: number
      itemsPerPage: number
      Resources: unknown[]
    }
    expect(none).toMatchObject({ totalResults: 1005, itemsPerPage: 0, Resources: [] })
    await expectScimError(
      await tenant.fetch('/Users?count=lots'),
      400,
      'invalidValue',
      /^count must be an integer, got "lots"$/,
    )
    // startIndex is echoed: beyond 2^53 it would come back rounded (…992 for …993) or as 1e+23, so it is refused.
    await expectScimError(
      await tenant.fetch('/Users?startIndex=99999999999999999999999'),
      400,
      'invalidValue',
      /^startIndex must be at most 9007199254740991, got "99999999999999999999999"$/,
    )
    await expectScimError(
      await tenant.fetch('/Users/.search', { method: 'POST', json: { startIndex: 9007199254740993 } }),
      400,
      'invalidValue',
      /^startIndex must be at most 9007199254740991/,
    )
    const far = (await (await tenant.fetch('/Users?startIndex=9007199254740991&count=100000')).json()) as {
      startIndex: number
      itemsPerPage: number
    }
    expect(far).toMatchObject({ startIndex: 9007199254740991, itemsPerPage: 0 })
    // Huge counts are capped, huge negative ones mean 0, huge negative startIndex means 1.
    expect(((await (await tenant.fetch('/Users?count=1e30')).json()) as { itemsPerPage: number }).itemsPerPage).toBe(
      1000,
    )
    expect(
      (await (await tenant.fetch('/Users?startIndex=-1e30&count=-1e30')).json()) as {
        startIndex: number
        itemsPerPage: number
      },
    ).toMatchObject({ startIndex: 1, itemsPerPage: 0 })
    const config = (await (await tenant.fetch('/ServiceProviderConfig')).json()) as {
      pagination: { maxPageSize: number }
    }
    expect(config.pagination.maxPageSize).toBe(1000)
  })

  it('a Content-Type other than application/scim+json or application/json is 415', async () => {
    const tenant = await newTenant()
    const body = JSON.stringify({ userName: 'typed@example.com', active: false })
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'text/json',
      'application/xml; charset=utf-8',
    ]) {
      const main = type.split(';')[0]
      await expectScimError(
        await tenant.fetch('/Users', { method: 'POST', body, headers: { 'content-type': type } }),
        415,
        undefined,
        new RegExp(
          `^Content-Type "${main!.replace(/[+.]/g, '\\$&')}" is not supported; send application/scim\\+json or application/json$`,
        ),
      )
    }
    expect(((await (await tenant.fetch('/Users')).json()) as { totalResults: number }).totalResults).toBe(0)
    for (const [i, type] of [
      'application/scim+json',
      'application/json; charset=utf-8',
      'Application/SCIM+JSON',
    ].entries()) {
      const res = await tenant.fetch('/Users', {
        method: 'POST',
        body: body.replace('typed', `typed${i}`),
        headers: { 'content-type': type },
      })
      expect(res.status, type).toBe(201)
    }
  })
})
