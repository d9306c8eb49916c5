import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { deleteGroup } from '../../src/db/groups.ts'
import { scopeOf } from '../helpers/scope.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

async function users(tenant: TestTenant, n: number, prefix = 'm'): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const res = await tenant.fetch('/Users', {
      method: 'POST',
      json: { userName: `${prefix}${i}@example.com`, displayName: `Member ${i}` },
    })
    ids.push(((await res.json()) as { id: string }).id)
  }
  return ids
}

async function group(tenant: TestTenant, displayName: string, members: string[] = []): Promise<Record<string, any>> {
  const res = await tenant.fetch('/Groups', {
    method: 'POST',
    json: { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) },
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as Record<string, any>
}

async function memberIds(tenant: TestTenant, id: string): Promise<string[]> {
  const body = (await (await tenant.fetch(`/Groups/${id}`)).json()) as Record<string, any>
  return (body.members ?? []).map((m: any) => m.value).sort()
}

function patch(tenant: TestTenant, id: string, ...Operations: unknown[]) {
  return tenant.fetch(`/Groups/${id}`, { method: 'PATCH', json: { schemas: [PATCH], Operations } })
}

describe('/Groups', () => {
  it('creates a group with members shown as value, display, $ref and type', async () => {
    const tenant = await newTenant()
    const [a] = await users(tenant, 1)
    const created = await group(tenant, 'Engineering', [a!])
    expect(created.members).toEqual([
      { value: a, display: 'Member 0', $ref: `${tenant.baseUrl}/Users/${a}`, type: 'User' },
    ])
    expect(created.meta).toMatchObject({
      resourceType: 'Group',
      version: 'W/"1"',
      location: `${tenant.baseUrl}/Groups/${created.id}`,
    })
  })

  it('keeps displayName unique per tenant, case-insensitively', async () => {
    const tenant = await newTenant()
    await group(tenant, 'Sales')
    const res = await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'SALES' } })
    expect(res.status).toBe(409)
    expect(((await res.json()) as any).scimType).toBe('uniqueness')
  })

  it('filters by displayName, externalId, id and members.value, and excludes members on request', async () => {
    const tenant = await newTenant()
    const [a, b] = await users(tenant, 2)
    const g1 = await group(tenant, 'Alpha', [a!])
    const g2 = await group(tenant, 'Beta', [a!, b!])
    const names = async (filter: string) => {
      const res = await tenant.fetch(`/Groups?filter=${encodeURIComponent(filter)}&excludedAttributes=members`)
      const body = (await res.json()) as any
      expect(res.status, JSON.stringify(body)).toBe(200)
      for (const r of body.Resources) expect(r.members).toBeUndefined()
      return body.Resources.map((r: any) => r.displayName).sort()
    }
    expect(await names('displayName eq "alpha"')).toEqual(['Alpha'])
    expect(await names(`id eq "${g2.id}"`)).toEqual(['Beta'])
    expect(await names(`members.value eq "${b}"`)).toEqual(['Beta'])
    expect(await names(`members.value eq "${a}"`)).toEqual(['Alpha', 'Beta'])
    const only = (await (await tenant.fetch(`/Groups/${g1.id}?attributes=displayName`)).json()) as any
    expect(Object.keys(only).sort()).toEqual(['displayName', 'id', 'schemas'])
  })

  it('treats membership as a set and refuses unknown or other-tenant members without writing anything', async () => {
    const tenant = await newTenant()
    const other = await newTenant()
    const [a, b, c] = await users(tenant, 3)
    const [foreign] = await users(other, 1, 'f')
    const g = await group(tenant, 'Set', [a!])
    expect(
      (await patch(tenant, g.id, { op: 'add', path: 'members', value: [{ value: a }, { value: b }] })).status,
    ).toBe(204)
    expect((await patch(tenant, g.id, { op: 'remove', path: `members[value eq "${c}"]` })).status).toBe(204)
    expect(await memberIds(tenant, g.id)).toEqual([a, b].sort())
    for (const bad of [foreign, 'no-such-user']) {
      const res = await patch(tenant, g.id, { op: 'add', path: 'members', value: [{ value: c }, { value: bad }] })
      const body = (await res.json()) as any
      expect(res.status).toBe(400)
      expect(body.scimType).toBe('invalidValue')
      expect(body.detail).toContain(bad)
    }
    expect(await memberIds(tenant, g.id)).toEqual([a, b].sort())
    const count = await env.DB.prepare('SELECT member_count AS n FROM groups WHERE tenant_id = ? AND id = ?')
      .bind(tenant.key, g.id)
      .first()
    expect(count).toEqual({ n: 2 })
  })

  it('shows direct groups on users, drops memberships of deleted users and keeps them for deactivated ones', async () => {
    const tenant = await newTenant()
    const [a, b] = await users(tenant, 2)
    const g = await group(tenant, 'Staff', [a!, b!])
    // `groups` is returned on request (attributes=groups), as /Schemas says.
    expect(((await (await tenant.fetch(`/Users/${a}`)).json()) as any).groups).toBeUndefined()
    const user = (await (await tenant.fetch(`/Users/${a}?attributes=groups`)).json()) as any
    expect(user.groups).toEqual([
      { value: g.id, $ref: `${tenant.baseUrl}/Groups/${g.id}`, display: 'Staff', type: 'direct' },
    ])
    await tenant.fetch(`/Users/${a}`, {
      method: 'PATCH',
      json: { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] },
    })
    expect(await memberIds(tenant, g.id)).toEqual([a, b].sort())
    expect((await tenant.fetch(`/Users/${b}`, { method: 'DELETE' })).status).toBe(204)
    expect(await memberIds(tenant, g.id)).toEqual([a])
  })

  it('replaces members with PUT and deletes a group without touching its users', async () => {
    const tenant = await newTenant()
    const [a, b] = await users(tenant, 2)
    const g = await group(tenant, 'Put', [a!])
    const res = await tenant.fetch(`/Groups/${g.id}`, {
      method: 'PUT',
      json: { schemas: [GROUP], displayName: 'Put renamed', members: [{ value: b }] },
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as any).displayName).toBe('Put renamed')
    expect(await memberIds(tenant, g.id)).toEqual([b])
    // Repeating the same member list rewrites no member rows and keeps the kept count.
    const rowid = async () =>
      (await env.DB.prepare(
        'SELECT rowid AS r FROM group_members WHERE tenant_id = ? AND group_id = ? AND member_id = ?',
      )
        .bind(tenant.key, g.id, b)
        .first()) as { r: number }
    const before = await rowid()
    const again = await tenant.fetch(`/Groups/${g.id}`, {
      method: 'PUT',
      json: { schemas: [GROUP], displayName: 'Put renamed', members: [{ value: b }, { value: a }] },
    })
    expect(again.status).toBe(200)
    expect(await memberIds(tenant, g.id)).toEqual([a, b].sort())
    expect(await rowid()).toEqual(before)
    const count = await env.DB.prepare('SELECT member_count AS n FROM groups WHERE tenant_id = ? AND id = ?')
      .bind(tenant.key, g.id)
      .first()
    expect(count).toEqual({ n: 2 })
    expect((await tenant.fetch(`/Groups/${g.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await tenant.fetch(`/Groups/${g.id}`)).status).toBe(404)
    expect((await tenant.fetch(`/Users/${b}`)).status).toBe(200)
  })

  it('lets two concurrent membership PATCHes both persist', async () => {
    const tenant = await newTenant()
    const ids = await users(tenant, 20)
    const g = await group(tenant, 'Race')
    const halves = [ids.slice(0, 10), ids.slice(10)]
    const results = await Promise.all(
      halves.map((half) =>
        patch(tenant, g.id, { op: 'add', path: 'members', value: half.map((value) => ({ value })) }),
      ),
    )
    expect(results.map((r) => r.status)).toEqual([204, 204])
    expect(await memberIds(tenant, g.id)).toEqual([...ids].sort())
  })

  it('adds a batch of members to a large group in a few statements and reads it back whole', async () => {
    const tenant = await newTenant()
    // Seed 1,500 users directly (the Worker path is tested above); the group PATCH goes through the Worker.
    const ids = Array.from({ length: 1500 }, () => crypto.randomUUID())
    const rows = ids.map((id, i) => ({ id, seq: i + 1, userName: `bulk${i}@example.com` }))
    await env.DB.prepare(
      `INSERT INTO users (tenant_id, id, seq, user_name, active, state, source, version, created_at, updated_at, resource)
       SELECT ?1, json_extract(j.value, '$.id'), json_extract(j.value, '$.seq'), json_extract(j.value, '$.userName'), 1, 'joined', 'app', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z',
              json_object('userName', json_extract(j.value, '$.userName'), 'active', json('true'))
       FROM json_each(?2) j`,
    )
      .bind(tenant.key, JSON.stringify(rows))
      .run()
    const g = await group(tenant, 'Everyone', ids.slice(0, 1000))
    const res = await patch(tenant, g.id, {
      op: 'add',
      path: 'members',
      value: ids.slice(1000).map((value) => ({ value })),
    })
    expect(res.status).toBe(204)
    const body = (await (await tenant.fetch(`/Groups/${g.id}`)).json()) as any
    expect(body.members).toHaveLength(1500)
    expect(new Set(body.members.map((m: any) => m.value))).toEqual(new Set(ids))
    const values = (await (await tenant.fetch(`/Groups/${g.id}?attributes=members.value`)).json()) as any
    expect(values.members).toHaveLength(1500)
    expect(Object.keys(values.members[0])).toEqual(['value'])
    expect(values.displayName).toBeUndefined()
    // A list with members streams each group's members too (no group sits in memory whole).
    const listed = (await (
      await tenant.fetch(`/Groups?filter=${encodeURIComponent('displayName eq "Everyone"')}`)
    ).json()) as any
    expect(listed).toMatchObject({ totalResults: 1, itemsPerPage: 1 })
    expect(listed.Resources[0].members).toHaveLength(1500)
    expect(listed.Resources[0].meta.location).toBe(`${tenant.baseUrl}/Groups/${g.id}`)
    const list = (await (await tenant.fetch('/Groups?excludedAttributes=members')).json()) as any
    expect(list.Resources[0].members).toBeUndefined()
  })

  it('honours ETags: 304 on If-None-Match, 412 on a stale If-Match for PATCH, PUT and DELETE', async () => {
    const tenant = await newTenant()
    const [a] = await users(tenant, 1)
    const g = await group(tenant, 'Tagged')
    expect((await tenant.fetch(`/Groups/${g.id}`, { headers: { 'if-none-match': 'W/"1"' } })).status).toBe(304)
    const added = await tenant.fetch(`/Groups/${g.id}`, {
      method: 'PATCH',
      headers: { 'if-match': 'W/"1"' },
      json: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: a }] }] },
    })
    expect(added.status).toBe(204)
    expect(added.headers.get('etag')).toBe('W/"2"')
    for (const [method, json] of [
      ['PATCH', { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Stale' }] }],
      ['PUT', { schemas: [GROUP], displayName: 'Stale' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await tenant.fetch(`/Groups/${g.id}`, { method, headers: { 'if-match': 'W/"1"' }, json })
      expect(res.status, method).toBe(412)
    }
    const current = (await (await tenant.fetch(`/Groups/${g.id}`)).json()) as any
    expect(current).toMatchObject({ displayName: 'Tagged', meta: { version: 'W/"2"' } })
    expect(current.members.map((m: any) => m.value)).toEqual([a])
  })

  it('writes nothing for a PATCH that adds present members and removes absent ones (same ETag), and still changes what does change', async () => {
    const tenant = await newTenant()
    const [a, b, c] = await users(tenant, 3)
    const g = await group(tenant, 'Everyone', [a!, b!])
    const again = await patch(
      tenant,
      g.id,
      { op: 'add', path: 'members', value: [{ value: a }, { value: b }] },
      { op: 'remove', path: `members[value eq "${c}"]` },
    )
    expect(again.status).toBe(204)
    expect(again.headers.get('etag')).toBe('W/"1"')
    // With the rename Okta sends before every membership change: still nothing to write.
    const renamed = await patch(
      tenant,
      g.id,
      { op: 'replace', value: { id: g.id, displayName: 'Everyone' } },
      { op: 'add', path: 'members', value: [{ value: a }] },
    )
    expect(renamed.headers.get('etag')).toBe('W/"1"')
    // One new member among present ones is a change.
    const added = await patch(tenant, g.id, { op: 'add', path: 'members', value: [{ value: a }, { value: c }] })
    expect(added.headers.get('etag')).toBe('W/"2"')
    expect(await memberIds(tenant, g.id)).toEqual([a, b, c].sort())
    const removed = await patch(tenant, g.id, {
      op: 'remove',
      path: 'members',
      value: [{ value: b }, { value: 'never-a-member' }],
    })
    expect(removed.headers.get('etag')).toBe('W/"3"')
    expect(await memberIds(tenant, g.id)).toEqual([a, c].sort())
  })

  it('deletes under If-Match only the version it names, even when the group changes between the check and the delete', async () => {
    const tenant = await newTenant()
    const [a] = await users(tenant, 1)
    const g = await group(tenant, 'Guarded', [a!])
    // The delete a request would issue after reading version 1, run after a change moved it to 2.
    expect((await patch(tenant, g.id, { op: 'replace', path: 'displayName', value: 'Moved' })).status).toBe(204)
    expect(await deleteGroup(scopeOf(tenant), { id: g.id, expectedVersion: 1 })).toBe(false)
    expect(await memberIds(tenant, g.id)).toEqual([a])
    expect(await deleteGroup(scopeOf(tenant), { id: g.id, expectedVersion: 2 })).toBe(true)
    expect((await tenant.fetch(`/Groups/${g.id}`)).status).toBe(404)
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM group_members WHERE tenant_id = ?')
      .bind(tenant.key)
      .first<{ n: number }>()
    expect(rows!.n).toBe(0)
    expect((await tenant.fetch(`/Users/${a}`)).status).toBe(200)
  })
})
