/**
 * /Bulk (RFC 7644 §3.7), the root /.search (§3.4.3) and 405 on discovery endpoints, against the
 * Worker with real D1: bulkId references (also forward and inside members), cycles, failOnErrors, the
 * error cases of §3.7.3, a run of creates written a chunk at a time with its invites, events and
 * journal entries, and an Entra-style bulk replay.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'

type Op = Record<string, any>

async function bulk(tenant: TestTenant, Operations: unknown[], extra: Record<string, unknown> = {}) {
  const res = await tenant.fetch('/Bulk', { method: 'POST', json: { schemas: [BULK], Operations, ...extra } })
  const text = await res.text()
  expect(res.status, text).toBe(200)
  const body = JSON.parse(text) as { schemas: string[]; Operations: Op[] }
  expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse'])
  return body.Operations
}

const userOp = (bulkId: string, userName: string, extra: Record<string, unknown> = {}) => ({
  method: 'POST',
  path: '/Users',
  bulkId,
  data: { schemas: [USER], userName, emails: [{ value: userName, primary: true }], ...extra },
})

async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>()
  return row!.n
}

describe('discovery is read-only', () => {
  it('POST, PUT, PATCH and DELETE on every discovery endpoint answer 405 with Allow', async () => {
    const tenant = await newTenant()
    for (const path of [
      '/ServiceProviderConfig',
      '/ResourceTypes',
      '/ResourceTypes/User',
      '/Schemas',
      `/Schemas/${USER}`,
    ]) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const res = await tenant.fetch(path, { method, json: {} })
        expect(res.status, `${method} ${path}`).toBe(405)
        expect(res.headers.get('allow')).toBe('GET, HEAD')
        const body = (await res.json()) as Op
        expect(body.status).toBe('405')
        expect(body.detail).toContain(method)
      }
      expect((await tenant.fetch(path)).status).toBe(200)
    }
  })

  it('ServiceProviderConfig advertises Bulk with its real limits', async () => {
    const tenant = await newTenant()
    const config = (await (await tenant.fetch('/ServiceProviderConfig')).json()) as Op
    expect(config.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: 4 * 1024 * 1024 })
  })
})

describe('root /.search', () => {
  it('finds Users and Groups in one list, judges the filter per type, and pages across both', async () => {
    const tenant = await newTenant()
    await bulk(tenant, [
      userOp('u1', 'sales-ada@example.com', { displayName: 'Sales' }),
      userOp('u2', 'bob@example.com', { displayName: 'Bob' }),
      { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: [GROUP], displayName: 'Sales' } },
      { method: 'POST', path: '/Groups', bulkId: 'g2', data: { schemas: [GROUP], displayName: 'Support' } },
    ])
    const search = async (body: Record<string, unknown>) => {
      const res = await tenant.fetch('/.search', {
        method: 'POST',
        json: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], ...body },
      })
      const text = await res.text()
      return { status: res.status, body: JSON.parse(text) as Op }
    }
    const all = await search({})
    expect(all.status).toBe(200)
    expect(all.body.totalResults).toBe(4)
    expect(all.body.Resources.map((r: Op) => r.schemas[0])).toEqual([USER, USER, GROUP, GROUP])

    // displayName is known to both types; userName only to Users, so Groups are left out.
    const sales = await search({ filter: 'displayName eq "Sales"' })
    expect(sales.body.totalResults).toBe(2)
    expect(sales.body.Resources.map((r: Op) => r.schemas[0]).sort()).toEqual([GROUP, USER].sort())
    const byName = await search({ filter: 'userName sw "sales"' })
    expect(byName.body.totalResults).toBe(1)
    expect(byName.body.Resources[0].userName).toBe('sales-ada@example.com')

    // A page that starts in the Users and ends in the Groups.
    const page = await search({ startIndex: 2, count: 2, attributes: 'userName,displayName' })
    expect(page.body).toMatchObject({ totalResults: 4, startIndex: 2, itemsPerPage: 2 })
    expect(page.body.Resources[0]).toMatchObject({ userName: 'bob@example.com' })
    expect(page.body.Resources[0].emails).toBeUndefined()
    expect(page.body.Resources[1]).toMatchObject({ schemas: [GROUP], displayName: 'Sales' })

    const none = await search({ filter: 'nickName eq "x" and members eq "y"' })
    expect(none.status).toBe(400)
    expect(none.body.scimType).toBe('invalidFilter')
    const cursor = await search({ cursor: '' })
    expect(cursor.status).toBe(400)
    const get = await tenant.fetch('/.search')
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
  })
})

describe('/Bulk', () => {
  it('runs POST, PUT, PATCH and DELETE; a forward bulkId reference in members resolves', async () => {
    const tenant = await newTenant()
    const ops = await bulk(tenant, [
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'eng',
        data: { schemas: [GROUP], displayName: 'Engineering', members: [{ value: 'bulkId:ada', type: 'User' }] },
      },
      userOp('ada', 'ada@example.com'),
    ])
    expect(ops.map((o) => [o.method, o.bulkId, o.status])).toEqual([
      ['POST', 'eng', '201'],
      ['POST', 'ada', '201'],
    ])
    const groupId = ops[0]!.location.split('/').pop()
    const userId = ops[1]!.location.split('/').pop()
    expect(ops[1]!.location).toBe(`${tenant.baseUrl}/Users/${userId}`)
    expect(ops[1]!.version).toBe('W/"1"')
    const group = (await (await tenant.fetch(`/Groups/${groupId}`)).json()) as Op
    expect(group.members.map((m: Op) => m.value)).toEqual([userId])

    const next = await bulk(tenant, [
      {
        method: 'PATCH',
        path: `/Users/${userId}`,
        version: 'W/"1"',
        data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Engineer' }] },
      },
      {
        method: 'PUT',
        path: `/Groups/${groupId}`,
        data: { schemas: [GROUP], displayName: 'Engineering team', members: [{ value: userId }] },
      },
      { method: 'DELETE', path: `/Users/${userId}`, version: 'W/"1"' },
      { method: 'DELETE', path: `/Groups/${groupId}` },
    ])
    expect(next.map((o) => o.status)).toEqual(['200', '200', '412', '204'])
    expect(next[0]!.version).toBe('W/"2"')
    expect(next[2]!.response).toMatchObject({ status: '412' })
    const user = (await (await tenant.fetch(`/Users/${userId}`)).json()) as Op
    expect(user.title).toBe('Engineer')
    expect((await tenant.fetch(`/Groups/${groupId}`)).status).toBe(404)
  })

  it('users whose managers name each other are created, then get their managers (RFC 7644 §3.7.1)', async () => {
    const tenant = await newTenant()
    const ops = await bulk(tenant, [
      userOp('x', 'x@example.com', { [ENTERPRISE]: { department: 'R&D', manager: { value: 'bulkId:y' } } }),
      userOp('y', 'y@example.com', { [ENTERPRISE]: { manager: { value: 'bulkId:x' } } }),
    ])
    expect(ops.map((o) => o.status)).toEqual(['201', '201'])
    const [x, y] = ops.map((o) => o.location.split('/').pop())
    const userX = (await (await tenant.fetch(`/Users/${x}`)).json()) as Op
    const userY = (await (await tenant.fetch(`/Users/${y}`)).json()) as Op
    expect(userX[ENTERPRISE]).toMatchObject({ department: 'R&D', manager: { value: y } })
    expect(userY[ENTERPRISE].manager.value).toBe(x)
    // The version returned is the one after the manager was set.
    expect(ops[0]!.version).toBe(userX.meta.version)
    expect(ops[0]!.version).toBe('W/"2"')
  })

  it('a cycle that cannot wait is a 409 for each operation in it; nothing of them is written', async () => {
    const tenant = await newTenant()
    const ops = await bulk(tenant, [
      userOp('x', 'x@example.com', { externalId: 'bulkId:y' }),
      userOp('y', 'y@example.com', { externalId: 'bulkId:x' }),
      userOp('z', 'z@example.com'),
    ])
    expect(ops.map((o) => o.status)).toEqual(['409', '409', '201'])
    expect(ops[0]!.response.detail).toMatch(/cycle/)
    const list = (await (await tenant.fetch('/Users')).json()) as Op
    expect(list.Resources.map((u: Op) => u.userName)).toEqual(['z@example.com'])
  })

  it('one failing operation among good ones: the others apply; each failure has its Error and is journaled', async () => {
    const tenant = await newTenant()
    const ops = await bulk(tenant, [
      userOp('1', 'one@example.com'),
      userOp('2', 'one@example.com'),
      userOp('3', 'three@example.com', { active: 'maybe' }),
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'g',
        data: { schemas: [GROUP], displayName: 'G', members: [{ value: 'bulkId:nope' }] },
      },
      {
        method: 'PATCH',
        path: '/Users/bulkId:2',
        data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'T' }] },
      },
      { method: 'GET', path: '/Users' },
      { method: 'POST', path: '/Users', data: { schemas: [USER], userName: 'nobulkid@example.com' } },
      userOp('4', 'four@example.com'),
    ])
    expect(ops.map((o) => o.status)).toEqual(['201', '409', '400', '400', '409', '400', '400', '201'])
    expect(ops[1]!.response).toMatchObject({ scimType: 'uniqueness', status: '409' })
    expect(ops[2]!.response.scimType).toBe('invalidValue')
    expect(ops[3]!.response.detail).toMatch(/bulkId "nope" is not the bulkId of any POST/)
    expect(ops[4]!.response.detail).toMatch(/failed/)
    expect(ops[5]!.response.detail).toMatch(/POST, PUT, PATCH or DELETE/)
    expect(ops[6]!.response.detail).toMatch(/bulkId/)
    for (const o of ops.filter((o) => o.status !== '201'))
      expect(o.response.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error'])
    const failures = await count(
      `SELECT count(*) AS n FROM audit_events WHERE tenant_id = ? AND path LIKE '%/Bulk' AND outcome LIKE 'error %'`,
      tenant.key,
    )
    expect(failures).toBe(6)
    expect(await count(`SELECT count(*) AS n FROM users WHERE tenant_id = ?`, tenant.key)).toBe(2)
  })

  it('failOnErrors stops after that many errors; later operations are neither run nor reported', async () => {
    const tenant = await newTenant()
    const ops = await bulk(
      tenant,
      [
        userOp('1', 'a@example.com'),
        userOp('2', 'a@example.com'),
        userOp('3', 'b@example.com'),
        userOp('4', 'b@example.com'),
        userOp('5', 'c@example.com'),
      ],
      { failOnErrors: 2 },
    )
    expect(ops.map((o) => o.status)).toEqual(['201', '409', '201', '409'])
    const list = (await (await tenant.fetch('/Users')).json()) as Op
    expect(list.Resources.map((u: Op) => u.userName).sort()).toEqual(['a@example.com', 'b@example.com'])
  })

  it('refuses too many operations and too large a payload with 413; a bad request with 400', async () => {
    const tenant = await newTenant()
    const many = Array.from({ length: 1001 }, (_, i) => userOp(`b${i}`, `u${i}@example.com`))
    const tooMany = await tenant.fetch('/Bulk', { method: 'POST', json: { schemas: [BULK], Operations: many } })
    expect(tooMany.status).toBe(413)
    expect(((await tooMany.json()) as Op).detail).toMatch(/at most 1000/)
    const big = [
      userOp('big', 'big@example.com', { displayName: 'x'.repeat(4096), nickName: 'y'.repeat(4 * 1024 * 1024) }),
    ]
    const tooBig = await tenant.fetch('/Bulk', { method: 'POST', json: { schemas: [BULK], Operations: big } })
    expect(tooBig.status).toBe(413)
    expect(((await tooBig.json()) as Op).detail).toMatch(/limit is 4194304 bytes/)
    const empty = await tenant.fetch('/Bulk', { method: 'POST', json: { schemas: [BULK], Operations: [] } })
    expect(empty.status).toBe(400)
    const failOn = await tenant.fetch('/Bulk', {
      method: 'POST',
      json: { schemas: [BULK], failOnErrors: 0, Operations: [userOp('1', 'a@example.com')] },
    })
    expect(((await failOn.json()) as Op).detail).toMatch(/failOnErrors/)
    const get = await tenant.fetch('/Bulk')
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    expect(await count('SELECT count(*) AS n FROM users WHERE tenant_id = ?', tenant.key)).toBe(0)
  })

  it('250 creates in one request: each user with its invite, event and journal entry, in order', async () => {
    const tenant = await newTenant()
    const ops = await bulk(
      tenant,
      Array.from({ length: 250 }, (_, i) => userOp(`u${i}`, `user${i}@example.com`, { name: { givenName: `G${i}` } })),
    )
    expect(ops.every((o) => o.status === '201')).toBe(true)
    expect(new Set(ops.map((o) => o.location)).size).toBe(250)
    const list = (await (await tenant.fetch('/Users?count=1')).json()) as Op
    expect(list.totalResults).toBe(250)
    expect(list.Resources[0].userName).toBe('user0@example.com')
    const key = tenant.key
    expect(await count('SELECT count(*) AS n FROM invites WHERE tenant_id = ? AND state = ?', key, 'pending')).toBe(250)
    expect(await count(`SELECT count(*) AS n FROM events WHERE tenant_id = ? AND type = 'user.created'`, key)).toBe(250)
    expect(await count('SELECT count(DISTINCT seq) AS n FROM events WHERE tenant_id = ?', key)).toBe(250)
    expect(await count('SELECT max(seq) - min(seq) + 1 AS n FROM events WHERE tenant_id = ?', key)).toBe(250)
    expect(
      await count(
        `SELECT count(*) AS n FROM audit_events WHERE tenant_id = ? AND action = 'create' AND outcome = 'ok 201'`,
        key,
      ),
    ).toBe(250)
    expect(
      await count(`SELECT count(*) AS n FROM audit_events WHERE tenant_id = ? AND action = 'invite-queued'`, key),
    ).toBe(250)
    expect(await count('SELECT count(*) AS n FROM user_emails WHERE tenant_id = ?', key)).toBe(250)
    // The events come out in the order of the operations.
    const events = await env.DB.prepare('SELECT resource_id AS id FROM events WHERE tenant_id = ? ORDER BY seq')
      .bind(key)
      .all<{ id: string }>()
    expect(events.results.map((e) => e.id)).toEqual(ops.map((o) => o.location.split('/').pop()))
    // The kept count follows (totalResults of an unfiltered list reads it).
    const again = await bulk(tenant, [userOp('dup', 'USER7@example.com'), userOp('new', 'new@example.com')])
    expect(again.map((o) => o.status)).toEqual(['409', '201'])
    expect(((await (await tenant.fetch('/Users?count=0')).json()) as Op).totalResults).toBe(251)
  })

  it('replays an Entra-style bulk: users with the enterprise extension, a group with them, capitalised PATCH ops', async () => {
    const tenant = await newTenant()
    const ops = await bulk(tenant, [
      {
        method: 'POST',
        path: '/Users',
        bulkId: 'u-1',
        data: {
          schemas: [USER, ENTERPRISE],
          externalId: '8c6a2f7e-1b1d-4c0f-9d57-0d8d2f0b9a11',
          userName: 'AdeleV@contoso.com',
          active: true,
          displayName: 'Adele Vance',
          emails: [{ primary: true, type: 'work', value: 'AdeleV@contoso.com' }],
          name: { formatted: 'Adele Vance', familyName: 'Vance', givenName: 'Adele' },
          [ENTERPRISE]: { department: 'Retail' },
        },
      },
      {
        method: 'POST',
        path: '/Users',
        bulkId: 'u-2',
        data: {
          schemas: [USER, ENTERPRISE],
          externalId: '1e0f7c3a-9d8b-4a4e-8f21-3a1c5b2d6e77',
          userName: 'AlexW@contoso.com',
          active: true,
          [ENTERPRISE]: { manager: { value: 'bulkId:u-1' } },
        },
      },
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'g-1',
        data: {
          schemas: [GROUP],
          externalId: 'f3c1',
          displayName: 'Retail',
          members: [{ value: 'bulkId:u-1' }, { value: 'bulkId:u-2' }],
        },
      },
      {
        method: 'PATCH',
        path: '/Users/bulkId:u-2',
        data: { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] },
      },
    ])
    expect(ops.map((o) => o.status)).toEqual(['201', '201', '201', '200'])
    const [adele, alex] = ops.map((o) => o.location.split('/').pop())
    const alexNow = (await (await tenant.fetch(`/Users/${alex}`)).json()) as Op
    expect(alexNow.active).toBe(false)
    expect(alexNow[ENTERPRISE].manager.value).toBe(adele)
    const group = (await (await tenant.fetch(`/Groups/${ops[2]!.location.split('/').pop()}`)).json()) as Op
    expect(group.members.map((m: Op) => m.value).sort()).toEqual([adele, alex].sort())
  })
})
