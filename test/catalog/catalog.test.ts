/**
 * The app's catalogue over SCIM as Okta Identity Governance reads it (ResourceTypes, Schemas, then each
 * endpoint with ?count=1&startIndex=1), user grants checked against it, and seat limits that hold
 * under concurrent creates, reactivations and grants: refused with 403, nothing half-written.
 */
import { SELF, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ROLE = 'urn:okta:scim:schemas:core:1.0:Role'
const ENTITLEMENT = 'urn:okta:scim:schemas:core:1.0:Entitlement'
const KEY = { authorization: `Bearer ${env.TEST_APP_KEY}`, 'content-type': 'application/json' }

function api(tenant: TestTenant, method: string, path: string, json?: unknown) {
  return SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenant.id}${path}`, {
    method,
    headers: KEY,
    body: json === undefined ? undefined : JSON.stringify(json),
  })
}

async function put(tenant: TestTenant, type: string, id: string, body: Record<string, unknown>) {
  const res = await api(tenant, 'PUT', `/catalog/${type}/${encodeURIComponent(id)}`, body)
  expect([200, 201], await res.clone().text()).toContain(res.status)
  return res.json() as Promise<Record<string, unknown>>
}

async function scimUser(tenant: TestTenant, userName: string, extra: Record<string, unknown> = {}) {
  return tenant.fetch('/Users', { method: 'POST', json: { schemas: [USER], userName, ...extra } })
}

async function count(tenant: TestTenant, sql: string): Promise<number> {
  const row = await env.DB.prepare(sql).bind(tenant.key).first<{ n: number }>()
  return row!.n
}

describe('the catalogue over SCIM', () => {
  it('a tenant without a catalogue lists only Users and Groups, and unknown endpoints are 404', async () => {
    const tenant = await newTenant()
    const types = (await (await tenant.fetch('/ResourceTypes')).json()) as { Resources: { id: string }[] }
    expect(types.Resources.map((t) => t.id)).toEqual(['User', 'Group'])
    const missing = await tenant.fetch('/Roles?count=1&startIndex=1')
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { detail: string }).detail).toMatch(
      /^No endpoint at .*\/Roles; \/ResourceTypes lists/,
    )
  })

  it("replays Okta's entitlement discovery: ResourceTypes, Schemas, then each endpoint with count=1", async () => {
    const tenant = await newTenant()
    await put(tenant, 'Role', 'admin', { displayName: 'Administrator', description: 'Manages the workspace' })
    await put(tenant, 'Role', 'viewer', { displayName: 'Viewer' })
    await put(tenant, 'License', 'pro', { displayName: 'Pro plan', seatLimit: 50 })
    await put(tenant, 'License', 'free', { displayName: 'Free plan' })

    const rt = (await (await tenant.fetch('/ResourceTypes')).json()) as {
      totalResults: number
      Resources: { id: string; endpoint: string; schema: string }[]
    }
    expect(rt.Resources.map((t) => [t.id, t.endpoint, t.schema])).toEqual([
      ['User', '/Users', USER],
      ['Group', '/Groups', 'urn:ietf:params:scim:schemas:core:2.0:Group'],
      ['License', '/Licenses', ENTITLEMENT],
      ['Role', '/Roles', ROLE],
    ])
    const one = (await (await tenant.fetch('/ResourceTypes/License')).json()) as { endpoint: string }
    expect(one.endpoint).toBe('/Licenses')

    const schemas = (await (await tenant.fetch('/Schemas')).json()) as { Resources: { id: string }[] }
    expect(schemas.Resources.map((s) => s.id)).toEqual(expect.arrayContaining([ROLE, ENTITLEMENT]))
    const roleSchema = (await (await tenant.fetch(`/Schemas/${ROLE}`)).json()) as { attributes: { name: string }[] }
    expect(roleSchema.attributes.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        'displayName',
        'type',
        'description',
        'totalAssignmentsPermitted',
        'totalAssignmentsUsed',
      ]),
    )

    for (const endpoint of ['/Roles', '/Licenses']) {
      const res = await tenant.fetch(`${endpoint}?count=1&startIndex=1`)
      expect(res.status).toBe(200)
      const page = (await res.json()) as { totalResults: number; itemsPerPage: number; Resources: unknown[] }
      expect(page.totalResults).toBe(2)
      expect(page.itemsPerPage).toBe(1)
      expect(page.Resources).toHaveLength(1)
    }
    const roles = (await (await tenant.fetch('/Roles')).json()) as { Resources: Record<string, unknown>[] }
    expect(roles.Resources[0]).toMatchObject({
      schemas: [ROLE],
      id: 'admin',
      displayName: 'Administrator',
      type: 'Role',
      description: 'Manages the workspace',
      totalAssignmentsUsed: 0,
      meta: { resourceType: 'Role', location: `${tenant.baseUrl}/Roles/admin` },
    })
    const pro = (await (await tenant.fetch('/Licenses/pro')).json()) as Record<string, unknown>
    expect(pro).toMatchObject({ schemas: [ENTITLEMENT], type: 'License', totalAssignmentsPermitted: 50 })

    // Filters, sorting and projection as on the other endpoints.
    const filtered = (await (
      await tenant.fetch(`/Licenses?filter=${encodeURIComponent('displayName sw "pro"')}`)
    ).json()) as {
      totalResults: number
      Resources: { id: string }[]
    }
    expect(filtered.Resources.map((r) => r.id)).toEqual(['pro'])
    const sorted = (await (
      await tenant.fetch('/Roles?sortBy=displayName&sortOrder=descending&attributes=displayName')
    ).json()) as {
      Resources: Record<string, unknown>[]
    }
    expect(sorted.Resources.map((r) => r.displayName)).toEqual(['Viewer', 'Administrator'])
    expect(sorted.Resources[0]!.description).toBeUndefined()
    const described = (await (
      await tenant.fetch(`/Roles?filter=${encodeURIComponent('description co "workspace"')}`)
    ).json()) as {
      Resources: { id: string }[]
    }
    expect(described.Resources.map((r) => r.id)).toEqual(['admin'])
    expect((await tenant.fetch('/Roles/nobody')).status).toBe(404)
    const bad = await tenant.fetch(`/Roles?filter=${encodeURIComponent('nosuch eq "x"')}`)
    expect(bad.status).toBe(400)
    const post = await tenant.fetch('/Roles', { method: 'POST', json: { displayName: 'x' } })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET')
  })

  it('the app API adds, lists, changes and removes entries, and refuses bad ones clearly', async () => {
    const tenant = await newTenant()
    const created = await api(tenant, 'PUT', '/catalog/Permission/export', { displayName: 'Export data' })
    expect(created.status).toBe(201)
    const changed = await api(tenant, 'PUT', '/catalog/Permission/export', { displayName: 'Export all data' })
    expect(changed.status).toBe(200)
    const list = (await (await api(tenant, 'GET', '/catalog')).json()) as { entries: Record<string, unknown>[] }
    expect(list.entries).toEqual([
      expect.objectContaining({
        type: 'Permission',
        id: 'export',
        displayName: 'Export all data',
        endpoint: '/Permissions',
      }),
    ])

    for (const [path, body, pattern] of [
      ['/catalog/User/x', { displayName: 'x' }, /resource type of its own/],
      ['/catalog/9bad/x', { displayName: 'x' }, /not a resource type name/],
      ['/catalog/permission/x', { displayName: 'x' }, /use that spelling/],
      ['/catalog/License/pro', {}, /displayName/],
      ['/catalog/License/pro', { displayName: 'p', description: 'd'.repeat(1001) }, /1000 characters/],
      ['/catalog/License/pro', { displayName: 'p', seatLimit: -1 }, /seatLimit/],
    ] as const) {
      const res = await api(tenant, 'PUT', path, body)
      expect(res.status, path).toBe(400)
      expect(((await res.json()) as { detail: string }).detail).toMatch(pattern)
    }
    expect((await api(tenant, 'DELETE', '/catalog/Permission/nothing')).status).toBe(404)
    expect((await api(tenant, 'DELETE', '/catalog/Permission/export')).status).toBe(204)
    expect(((await (await api(tenant, 'GET', '/catalog')).json()) as { entries: unknown[] }).entries).toEqual([])
  })
})

describe('grants', () => {
  it('roles and entitlements are checked against the catalogue; a type left out is filled in; the app reads them', async () => {
    const tenant = await newTenant()
    // Without a catalogue, values are kept as sent.
    expect((await scimUser(tenant, 'early@example.com', { roles: [{ value: 'anything' }] })).status).toBe(201)
    await put(tenant, 'Role', 'admin', { displayName: 'Administrator' })
    await put(tenant, 'License', 'pro', { displayName: 'Pro' })

    const unknownRole = await scimUser(tenant, 'a@example.com', { roles: [{ value: 'root' }] })
    expect(unknownRole.status).toBe(400)
    expect(await unknownRole.json()).toMatchObject({
      scimType: 'invalidValue',
      detail: expect.stringMatching(/roles: "root" is not a Role/),
    })
    const unknownEnt = await scimUser(tenant, 'a@example.com', { entitlements: [{ value: 'gold' }] })
    expect(unknownEnt.status).toBe(400)
    expect(((await unknownEnt.json()) as { detail: string }).detail).toMatch(/entitlements: "gold"/)
    const wrongType = await scimUser(tenant, 'a@example.com', { entitlements: [{ value: 'pro', type: 'Permission' }] })
    expect(wrongType.status).toBe(400)
    expect(((await wrongType.json()) as { detail: string }).detail).toMatch(/is a License, not a Permission/)
    expect(
      await count(tenant, `SELECT count(*) AS n FROM users WHERE tenant_id = ? AND user_name = 'a@example.com'`),
    ).toBe(0)

    const ok = await scimUser(tenant, 'a@example.com', {
      roles: [{ value: 'admin' }],
      entitlements: [{ value: 'pro' }],
    })
    expect(ok.status).toBe(201)
    const user = (await ok.json()) as { id: string; entitlements: { value: string; type: string }[] }
    expect(user.entitlements).toEqual([{ value: 'pro', type: 'License' }])
    const app = (await (await api(tenant, 'GET', `/users/${user.id}`)).json()) as { grants: unknown }
    expect(app.grants).toEqual({ roles: ['admin'], entitlements: [{ type: 'License', value: 'pro' }] })
    const pro = (await (await tenant.fetch('/Licenses/pro')).json()) as { totalAssignmentsUsed: number }
    expect(pro.totalAssignmentsUsed).toBe(1)

    // A catalogue entry a user holds cannot be removed.
    const held = await api(tenant, 'DELETE', '/catalog/License/pro')
    expect(held.status).toBe(409)
    expect(((await held.json()) as { detail: string }).detail).toMatch(/still granted to 1 user/)
    // A PATCH of another attribute keeps a grant the catalogue no longer has (the early user's role).
    const early = (await (
      await tenant.fetch(`/Users?filter=${encodeURIComponent('userName eq "early@example.com"')}`)
    ).json()) as {
      Resources: { id: string }[]
    }
    const patched = await tenant.fetch(`/Users/${early.Resources[0]!.id}`, {
      method: 'PATCH',
      json: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Early' }] },
    })
    expect(patched.status).toBe(200)
  })
})

describe('seat limits', () => {
  it('20 concurrent creates at a tenant limit of 5: exactly 5 created, the rest 403 naming the limit', async () => {
    const tenant = await newTenant()
    const limited = await api(tenant, 'PUT', '/seats', { seatLimit: 5 })
    expect(await limited.json()).toEqual({ seatLimit: 5, seatsUsed: 0 })
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => scimUser(tenant, `u${i}@example.com`)))
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(5)
    expect(statuses.filter((s) => s === 403)).toHaveLength(15)
    const refused = results.find((r) => r.status === 403)!
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      `seat limit of 5 reached for active users in tenant ${tenant.id}; free a seat or ask the app's owner for more`,
    )
    expect(await count(tenant, 'SELECT count(*) AS n FROM users WHERE tenant_id = ?')).toBe(5)
    expect(await count(tenant, `SELECT count(*) AS n FROM invites WHERE tenant_id = ?`)).toBe(5)
    expect(await count(tenant, `SELECT count(*) AS n FROM events WHERE tenant_id = ? AND type = 'user.created'`)).toBe(
      5,
    )
    expect(await count(tenant, `SELECT seats_used AS n FROM catalog_entries WHERE tenant_id = ? AND type = '*'`)).toBe(
      5,
    )
    // An inactive user takes no seat.
    expect((await scimUser(tenant, 'off@example.com', { active: false })).status).toBe(201)
  })

  it('a License at its limit refuses a grant and a reactivation; freeing a seat lets them through', async () => {
    const tenant = await newTenant()
    await put(tenant, 'License', 'pro', { displayName: 'Pro', seatLimit: 1 })
    const first = (await (await scimUser(tenant, 'one@example.com', { entitlements: [{ value: 'pro' }] })).json()) as {
      id: string
    }
    const second = (await (await scimUser(tenant, 'two@example.com')).json()) as {
      id: string
      meta: { version: string }
    }
    const grant = await tenant.fetch(`/Users/${second.id}`, {
      method: 'PATCH',
      json: {
        schemas: [PATCH],
        Operations: [{ op: 'add', path: 'entitlements', value: [{ value: 'pro', type: 'License' }] }],
      },
    })
    expect(grant.status).toBe(403)
    expect(((await grant.json()) as { detail: string }).detail).toMatch(
      /^seat limit of 1 reached for License pro in tenant /,
    )
    const unchanged = (await (await tenant.fetch(`/Users/${second.id}`)).json()) as {
      entitlements?: unknown
      meta: { version: string }
    }
    expect(unchanged.entitlements).toBeUndefined()
    expect(unchanged.meta.version).toBe(second.meta.version)

    const deactivate = (active: boolean) =>
      tenant.fetch(`/Users/${first.id}`, {
        method: 'PATCH',
        json: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: active }] },
      })
    expect((await deactivate(false)).status).toBe(200)
    expect(
      ((await (await tenant.fetch('/Licenses/pro')).json()) as { totalAssignmentsUsed: number }).totalAssignmentsUsed,
    ).toBe(0)
    // The seat is free: the second user takes it; then the first cannot come back with it.
    const again = await tenant.fetch(`/Users/${second.id}`, {
      method: 'PATCH',
      json: { schemas: [PATCH], Operations: [{ op: 'add', path: 'entitlements', value: [{ value: 'pro' }] }] },
    })
    expect(again.status).toBe(200)
    const back = await deactivate(true)
    expect(back.status).toBe(403)
    expect(((await (await tenant.fetch(`/Users/${first.id}`)).json()) as { active: boolean }).active).toBe(false)
    // Deleting the holder gives the seat back.
    expect((await tenant.fetch(`/Users/${second.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await deactivate(true)).status).toBe(200)
    expect(
      ((await (await tenant.fetch('/Licenses/pro')).json()) as { totalAssignmentsUsed: number }).totalAssignmentsUsed,
    ).toBe(1)
  })

  it('a limit below the seats in use is refused; an entry added later counts its existing holders', async () => {
    const tenant = await newTenant()
    await scimUser(tenant, 'a@example.com', { entitlements: [{ value: 'team', type: 'License' }] })
    await scimUser(tenant, 'b@example.com', { entitlements: [{ value: 'team', type: 'License' }] })
    const team = await put(tenant, 'License', 'team', { displayName: 'Team' })
    expect(team.seatsUsed).toBe(2)
    const tooLow = await api(tenant, 'PUT', '/catalog/License/team', { displayName: 'Team', seatLimit: 1 })
    expect(tooLow.status).toBe(409)
    expect(((await tooLow.json()) as { detail: string }).detail).toMatch(
      /has 2 seats in use; a limit of 1 is below that/,
    )
    const seats = await api(tenant, 'PUT', '/seats', { seatLimit: 1 })
    expect(seats.status).toBe(409)
    expect((await api(tenant, 'PUT', '/seats', { seatLimit: null })).status).toBe(200)
  })

  it('a /Bulk run of creates past a limit creates up to it and answers 403 for the rest', async () => {
    const tenant = await newTenant()
    await api(tenant, 'PUT', '/seats', { seatLimit: 3 })
    const res = await tenant.fetch('/Bulk', {
      method: 'POST',
      json: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: Array.from({ length: 5 }, (_, i) => ({
          method: 'POST',
          path: '/Users',
          bulkId: `b${i}`,
          data: { schemas: [USER], userName: `bulk${i}@example.com` },
        })),
      },
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { Operations: { status: string; response?: { detail: string } }[] }
    expect(body.Operations.map((o) => o.status)).toEqual(['201', '201', '201', '403', '403'])
    expect(body.Operations[4]!.response!.detail).toMatch(/seat limit of 3 reached/)
    expect(await count(tenant, 'SELECT count(*) AS n FROM users WHERE tenant_id = ?')).toBe(3)
  })
})
