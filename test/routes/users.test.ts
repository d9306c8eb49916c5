import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

async function createUser(tenant: TestTenant, userName: string, extra: Record<string, unknown> = {}) {
  const res = await tenant.fetch('/Users', {
    method: 'POST',
    json: {
      schemas: [USER],
      userName,
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: userName, type: 'work', primary: true }],
      ...extra,
    },
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as Record<string, any>
}

async function expectError(res: Response, status: number, scimType: string | undefined, detail: string | RegExp) {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  expect(res.headers.get('content-type')).toContain('application/scim+json')
  const body = JSON.parse(text)
  expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error'])
  expect(body.status).toBe(String(status))
  expect(body.scimType).toBe(scimType)
  expect(body.detail).toMatch(detail)
}

describe('POST /Users', () => {
  it('returns 201 with Location, ETag and meta, and never returns the password', async () => {
    const tenant = await newTenant()
    const res = await tenant.fetch('/Users', {
      method: 'POST',
      json: { schemas: [USER], userName: 'Grace@Example.com', password: 'secret', active: true },
    })
    expect(res.status).toBe(201)
    const body = (await res.json()) as Record<string, any>
    expect(res.headers.get('location')).toBe(`${tenant.baseUrl}/Users/${body.id}`)
    expect(res.headers.get('etag')).toBe('W/"1"')
    expect(body.meta).toEqual({
      resourceType: 'User',
      created: expect.any(String),
      lastModified: body.meta.created,
      location: res.headers.get('location'),
      version: 'W/"1"',
    })
    expect(body.userName).toBe('Grace@Example.com')
    expect(JSON.stringify(body)).not.toContain('secret')
    expect(body.password).toBeUndefined()
  })

  it('defaults active to true and ignores read-only input', async () => {
    const tenant = await newTenant()
    const body = await createUser(tenant, 'a@example.com', {
      id: 'client-chosen',
      meta: { created: '2000-01-01T00:00:00Z' },
      groups: [{ value: 'x' }],
    })
    expect(body.active).toBe(true)
    expect(body.id).not.toBe('client-chosen')
    expect(body.meta.created).not.toBe('2000-01-01T00:00:00Z')
    expect(body.groups).toBeUndefined()
  })

  it('keeps userName unique per tenant, case-insensitively, including non-ASCII letters', async () => {
    const tenant = await newTenant()
    await createUser(tenant, 'Émile@example.com')
    await expectError(
      await tenant.fetch('/Users', { method: 'POST', json: { schemas: [USER], userName: 'éMILE@EXAMPLE.COM' } }),
      409,
      'uniqueness',
      /already in use/,
    )
    // Another tenant may use the same userName.
    const other = await newTenant()
    await createUser(other, 'émile@example.com')
  })

  it('rejects bodies that break the schema with 400 invalidValue', async () => {
    const tenant = await newTenant()
    await expectError(
      await tenant.fetch('/Users', { method: 'POST', json: { schemas: [USER] } }),
      400,
      'invalidValue',
      /userName is required/,
    )
    await expectError(
      await tenant.fetch('/Users', { method: 'POST', json: { userName: 42 } }),
      400,
      'invalidValue',
      /userName must be a string/,
    )
    await expectError(
      await tenant.fetch('/Users', { method: 'POST', json: { userName: 'x', active: 'maybe' } }),
      400,
      'invalidValue',
      /active must be true or false/,
    )
    await expectError(
      await tenant.fetch('/Users', {
        method: 'POST',
        json: {
          userName: 'x',
          emails: [
            { value: 'a@x', primary: true },
            { value: 'b@x', primary: true },
          ],
        },
      }),
      400,
      'invalidValue',
      /more than one value with "primary": true/,
    )
    await expectError(
      await tenant.fetch('/Users', { method: 'POST', json: ['not', 'an', 'object'] }),
      400,
      'invalidSyntax',
      /JSON object/,
    )
  })

  it('answers malformed JSON, wrong media types and oversized bodies with SCIM errors', async () => {
    const tenant = await newTenant()
    await expectError(
      await tenant.fetch('/Users', {
        method: 'POST',
        body: '{"userName": ',
        headers: { 'content-type': 'application/scim+json' },
      }),
      400,
      'invalidSyntax',
      /not valid JSON/,
    )
    await expectError(
      await tenant.fetch('/Users', { method: 'POST', body: 'userName=x', headers: { 'content-type': 'text/plain' } }),
      415,
      undefined,
      /application\/scim\+json/,
    )
    const big = JSON.stringify({ userName: 'big', displayName: 'x'.repeat(1_100_000) })
    await expectError(
      await tenant.fetch('/Users', { method: 'POST', body: big, headers: { 'content-type': 'application/json' } }),
      413,
      undefined,
      /limit is 1048576 bytes/,
    )
  })
})

describe('GET, PUT, DELETE /Users/{id}', () => {
  it('round-trips GET then PUT without a change', async () => {
    const tenant = await newTenant()
    const created = await createUser(tenant, 'round@example.com', {
      nickName: 'Roundy',
      addresses: [{ type: 'work', locality: 'Paris', country: 'FR' }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
        department: 'R&D',
        manager: { value: 'boss-id' },
      },
    })
    const got = (await (await tenant.fetch(`/Users/${created.id}`)).json()) as Record<string, any>
    const put = await tenant.fetch(`/Users/${created.id}`, { method: 'PUT', json: got })
    expect(put.status).toBe(200)
    const after = (await put.json()) as Record<string, any>
    expect(after).toEqual(got)
    expect(after.meta.version).toBe('W/"1"')
    expect(after['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']).toEqual({
      department: 'R&D',
      manager: { value: 'boss-id' },
    })
    expect(after.schemas).toEqual([USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'])
  })

  it('PUT replaces: omitted attributes are cleared, a different id is a 400', async () => {
    const tenant = await newTenant()
    const created = await createUser(tenant, 'put@example.com', { nickName: 'Nick' })
    const res = await tenant.fetch(`/Users/${created.id}`, {
      method: 'PUT',
      json: { schemas: [USER], userName: 'put@example.com', active: true },
    })
    const body = (await res.json()) as Record<string, any>
    expect(body.nickName).toBeUndefined()
    expect(body.name).toBeUndefined()
    expect(body.meta.version).toBe('W/"2"')
    await expectError(
      await tenant.fetch(`/Users/${created.id}`, { method: 'PUT', json: { id: 'other', userName: 'put@example.com' } }),
      400,
      'invalidValue',
      /differs from the URL/,
    )
  })

  it('DELETE leaves a tombstone: 204, then 404, and the userName is free again', async () => {
    const tenant = await newTenant()
    const created = await createUser(tenant, 'gone@example.com')
    expect((await tenant.fetch(`/Users/${created.id}`, { method: 'DELETE' })).status).toBe(204)
    await expectError(await tenant.fetch(`/Users/${created.id}`), 404, undefined, /not found/)
    await expectError(await tenant.fetch(`/Users/${created.id}`, { method: 'DELETE' }), 404, undefined, /not found/)
    const list = (await (await tenant.fetch('/Users?filter=userName eq "gone@example.com"')).json()) as Record<
      string,
      any
    >
    expect(list.totalResults).toBe(0)
    const again = await createUser(tenant, 'GONE@example.com')
    expect(again.id).not.toBe(created.id)
  })

  it('honours If-None-Match (304) and If-Match (412)', async () => {
    const tenant = await newTenant()
    const created = await createUser(tenant, 'etag@example.com')
    expect((await tenant.fetch(`/Users/${created.id}`, { headers: { 'if-none-match': 'W/"1"' } })).status).toBe(304)
    expect((await tenant.fetch(`/Users/${created.id}`, { headers: { 'if-none-match': 'W/"7"' } })).status).toBe(200)
    const patch = { schemas: [PATCH], Operations: [{ op: 'replace', path: 'nickName', value: 'n' }] }
    await expectError(
      await tenant.fetch(`/Users/${created.id}`, { method: 'PATCH', json: patch, headers: { 'if-match': 'W/"9"' } }),
      412,
      undefined,
      /does not match/,
    )
    expect(
      (await tenant.fetch(`/Users/${created.id}`, { method: 'PATCH', json: patch, headers: { 'if-match': 'W/"1"' } }))
        .status,
    ).toBe(200)
    await expectError(
      await tenant.fetch(`/Users/${created.id}`, { method: 'DELETE', headers: { 'if-match': 'W/"1"' } }),
      412,
      undefined,
      /does not match/,
    )
  })

  it('answers unknown paths, wrong methods and unimplemented endpoints with SCIM errors', async () => {
    const tenant = await newTenant()
    await expectError(await tenant.fetch('/Nope'), 404, undefined, /No endpoint/)
    await expectError(await tenant.fetch('/Users', { method: 'DELETE' }), 405, undefined, /DELETE is not supported/)
    await expectError(await tenant.fetch('/Bulk', { method: 'POST', json: {} }), 400, 'invalidSyntax', /Operations/)
    await expectError(await tenant.fetch('/Me'), 501, undefined, /Me/)
  })
})

describe('GET /Users lists', () => {
  it('pages in a stable order with integer counts', async () => {
    const tenant = await newTenant()
    for (let i = 0; i < 7; i++) await createUser(tenant, `user${i}@example.com`)
    const ids: string[] = []
    for (let start = 1; start <= 7; start += 3) {
      const page = (await (await tenant.fetch(`/Users?startIndex=${start}&count=3`)).json()) as Record<string, any>
      expect(page.totalResults).toBe(7)
      expect(page.startIndex).toBe(start)
      expect(page.itemsPerPage).toBe(page.Resources.length)
      ids.push(...page.Resources.map((r: any) => r.id))
    }
    expect(new Set(ids).size).toBe(7)
    const zero = (await (await tenant.fetch('/Users?count=0')).json()) as Record<string, any>
    expect(zero).toMatchObject({ totalResults: 7, itemsPerPage: 0, Resources: [] })
    const clamped = (await (await tenant.fetch('/Users?startIndex=-4&count=-1')).json()) as Record<string, any>
    expect(clamped).toMatchObject({ totalResults: 7, startIndex: 1, itemsPerPage: 0 })
    await expectError(await tenant.fetch('/Users?count=ten'), 400, 'invalidValue', /count must be an integer/)
  })

  it('filters on the attributes Okta and Entra send', async () => {
    const tenant = await newTenant()
    const a = await createUser(tenant, 'alice@example.com', { externalId: '00uA' })
    await createUser(tenant, 'bob@example.com', { externalId: '00uB', active: false })
    const q = async (filter: string) => {
      const res = await tenant.fetch(`/Users?filter=${encodeURIComponent(filter)}`)
      expect(res.status, await res.clone().text()).toBe(200)
      return ((await res.json()) as any).Resources.map((r: any) => r.userName).sort()
    }
    expect(await q('userName eq "ALICE@example.com"')).toEqual(['alice@example.com'])
    expect(await q(`id eq "${a.id}"`)).toEqual(['alice@example.com'])
    expect(await q('externalId eq "00uB"')).toEqual(['bob@example.com'])
    expect(await q('externalId eq "00ub"')).toEqual([])
    expect(await q('emails.value eq "bob@example.com"')).toEqual(['bob@example.com'])
    expect(await q('emails eq "bob@example.com"')).toEqual(['bob@example.com'])
    expect(await q('emails[type eq "work"].value eq "alice@example.com"')).toEqual(['alice@example.com'])
    expect(await q('active eq false')).toEqual(['bob@example.com'])
    expect(await q('active eq true and userName eq "alice@example.com"')).toEqual(['alice@example.com'])
    expect(await q('userName eq "7c1b7e7e-4a30-4d1e-9d6e-0b0b0b0b0b0b"')).toEqual([])
    await expectError(
      await tenant.fetch(`/Users?filter=${encodeURIComponent('nosuch eq "x"')}`),
      400,
      'invalidFilter',
      /nosuch/,
    )
    await expectError(
      await tenant.fetch(`/Users?filter=${encodeURIComponent('userName eq')}`),
      400,
      'invalidFilter',
      /.+/,
    )
  })

  it('applies attributes and excludedAttributes', async () => {
    const tenant = await newTenant()
    await createUser(tenant, 'proj@example.com')
    const only = (await (await tenant.fetch('/Users?attributes=userName')).json()) as Record<string, any>
    expect(Object.keys(only.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName'])
    const without = (await (await tenant.fetch('/Users?excludedAttributes=emails,name')).json()) as Record<string, any>
    expect(without.Resources[0].emails).toBeUndefined()
    expect(without.Resources[0].name).toBeUndefined()
    expect(without.Resources[0].userName).toBe('proj@example.com')
  })
})

describe('concurrent writers', () => {
  it('two writers who both read version N: one wins, the other gets 412', async () => {
    const tenant = await newTenant()
    const created = await createUser(tenant, 'race@example.com')
    const write = (nick: string) =>
      tenant.fetch(`/Users/${created.id}`, {
        method: 'PATCH',
        headers: { 'if-match': created.meta.version },
        json: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'nickName', value: nick }] },
      })
    const results = await Promise.all([write('one'), write('two')])
    expect(results.map((r) => r.status).sort()).toEqual([200, 412])
    const winner = (await results.find((r) => r.status === 200)!.json()) as Record<string, any>
    const current = (await (await tenant.fetch(`/Users/${created.id}`)).json()) as Record<string, any>
    expect(current.nickName).toBe(winner.nickName)
    expect(current.meta.version).toBe('W/"2"')
  })

  it('without If-Match, concurrent PATCHes to different attributes both persist', async () => {
    const tenant = await newTenant()
    const created = await createUser(tenant, 'merge@example.com')
    const ops = [
      { op: 'replace', path: 'nickName', value: 'Nick' },
      { op: 'replace', path: 'title', value: 'Engineer' },
      { op: 'replace', path: 'name.givenName', value: 'Augusta' },
    ]
    const results = await Promise.all(
      ops.map((op) =>
        tenant.fetch(`/Users/${created.id}`, { method: 'PATCH', json: { schemas: [PATCH], Operations: [op] } }),
      ),
    )
    expect(results.map((r) => r.status)).toEqual([200, 200, 200])
    const current = (await (await tenant.fetch(`/Users/${created.id}`)).json()) as Record<string, any>
    expect(current).toMatchObject({
      nickName: 'Nick',
      title: 'Engineer',
      name: { givenName: 'Augusta', familyName: 'Lovelace' },
    })
    expect(current.meta.version).toBe('W/"4"')
  })

  it('two simultaneous POSTs of one userName give one 201, one 409 and one row', async () => {
    const tenant = await newTenant()
    const post = () => tenant.fetch('/Users', { method: 'POST', json: { userName: 'twice@example.com' } })
    const results = await Promise.all([post(), post()])
    expect(results.map((r) => r.status).sort()).toEqual([201, 409])
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM users WHERE tenant_id = ?').bind(tenant.key).first()
    expect(rows).toEqual({ n: 1 })
  })
})

describe('enterprise extension', () => {
  it('is stored, patched, filtered and described in /Schemas', async () => {
    const tenant = await newTenant()
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
    const boss = await createUser(tenant, 'boss@example.com')
    const created = await createUser(tenant, 'emp@example.com', {
      [ENT]: { employeeNumber: '701984', department: 'Tour Operations', costCenter: '4130' },
    })
    expect(created[ENT]).toEqual({ employeeNumber: '701984', department: 'Tour Operations', costCenter: '4130' })
    const res = await tenant.fetch(`/Users/${created.id}`, {
      method: 'PATCH',
      json: {
        schemas: [PATCH],
        Operations: [
          { op: 'Add', path: `${ENT}:manager`, value: [{ $ref: null, value: boss.id }] },
          { op: 'replace', path: `${ENT}:division`, value: 'Theme Parks' },
        ],
      },
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as any)[ENT]).toMatchObject({ manager: { value: boss.id }, division: 'Theme Parks' })
    for (const filter of [
      `${ENT}:department eq "tour operations"`,
      `${ENT}:manager.value eq "${boss.id}"`,
      `${ENT}:employeeNumber sw "70"`,
      `${ENT}:division co "Park"`,
    ]) {
      const list = (await (await tenant.fetch(`/Users?filter=${encodeURIComponent(filter)}`)).json()) as any
      expect(
        list.Resources?.map((r: any) => r.id),
        filter,
      ).toEqual([created.id])
    }
    const schema = (await (await tenant.fetch(`/Schemas/${ENT}`)).json()) as any
    expect(schema.attributes.map((a: any) => a.name)).toEqual([
      'employeeNumber',
      'costCenter',
      'organization',
      'division',
      'department',
      'manager',
    ])
  })
})
