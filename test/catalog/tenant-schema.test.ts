/**
 * A tenant's own User attributes (declared by support, kept in the tenant document): its /Schemas and
 * /ResourceTypes show them, writes are checked against them, and filters, projection and PATCH paths
 * work on them as on core attributes. Other tenants see none of them.
 */
import { env } from 'cloudflare:test'
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { userFilterSql } from '../../src/db/filter-sql.ts'
import { userPages } from '../../src/db/users.ts'
import { parseFilter } from '../../src/scim/filter/parser.ts'
import { tenantUserType } from '../../src/scim/schemas/extension.ts'
import { userResourceType } from '../../src/scim/schemas/index.ts'
import { tenantDocumentKey, type UserAttributeDeclaration } from '../../src/tenants/document.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

async function declared(attributes: UserAttributeDeclaration[]): Promise<{ tenant: TestTenant; urn: string }> {
  const tenant = await newTenant()
  await env.TENANTS.put(tenantDocumentKey(tenant.id), JSON.stringify({ ...tenant.doc, userAttributes: attributes }))
  return { tenant, urn: `urn:ietf:params:scim:schemas:extension:${tenant.id}:2.0:User` }
}

const ATTRIBUTES: UserAttributeDeclaration[] = [
  { name: 'costCenter', type: 'string', canonicalValues: ['CC-1', 'CC-2'] },
  { name: 'level', type: 'integer' },
  { name: 'remote', type: 'boolean' },
  { name: 'skills', type: 'string', multiValued: true },
  { name: 'badge', type: 'string', caseExact: true },
]

async function errorOf(res: Response) {
  return { ...((await res.json()) as { scimType?: string; detail: string }), status: res.status }
}

describe("a tenant's declared User attributes", () => {
  it('are shown in /Schemas and /ResourceTypes of that tenant only', async () => {
    const { tenant, urn } = await declared(ATTRIBUTES)
    const schemas = (await (await tenant.fetch('/Schemas')).json()) as { Resources: { id: string }[] }
    expect(schemas.Resources.map((s) => s.id)).toContain(urn)
    const schema = (await (await tenant.fetch(`/Schemas/${urn}`)).json()) as {
      attributes: { name: string; type: string; multiValued: boolean; caseExact: boolean; canonicalValues?: string[] }[]
    }
    expect(schema.attributes.map((a) => [a.name, a.type, a.multiValued, a.caseExact])).toEqual([
      ['costCenter', 'string', false, false],
      ['level', 'integer', false, false],
      ['remote', 'boolean', false, false],
      ['skills', 'string', true, false],
      ['badge', 'string', false, true],
    ])
    expect(schema.attributes[0]!.canonicalValues).toEqual(['CC-1', 'CC-2'])
    const user = (await (await tenant.fetch('/ResourceTypes/User')).json()) as {
      schemaExtensions: { schema: string; required: boolean }[]
    }
    expect(user.schemaExtensions).toContainEqual({ schema: urn, required: false })

    const other = await newTenant()
    const theirs = (await (await other.fetch('/Schemas')).json()) as { Resources: { id: string }[] }
    expect(theirs.Resources.map((s) => s.id)).not.toContain(urn)
    expect((await other.fetch(`/Schemas/${urn}`)).status).toBe(404)
  })

  it('are checked on create, filtered, projected and patched like core attributes', async () => {
    const { tenant, urn } = await declared(ATTRIBUTES)
    const create = (userName: string, ext: Record<string, unknown>) =>
      tenant.fetch('/Users', { method: 'POST', json: { schemas: [USER, urn], userName, [urn]: ext } })

    const bad = await errorOf(await create('x@example.com', { level: 'three' }))
    expect(bad).toMatchObject({ status: 400, scimType: 'invalidValue' })
    expect(bad.detail).toMatch(new RegExp(`${urn}:level must be an integer`))
    expect((await errorOf(await create('x@example.com', { remote: 'yes' }))).detail).toMatch(
      /remote must be true or false, got "yes"/,
    )
    // A single value for a multi-valued attribute is taken as a list of one, as for core attributes.
    const single = await create('x@example.com', { skills: 'one' })
    expect(single.status).toBe(201)
    const x = (await single.json()) as Record<string, any>
    expect(x[urn].skills).toEqual(['one'])
    expect((await tenant.fetch(`/Users/${x.id}`, { method: 'DELETE' })).status).toBe(204)

    const ada = await create('ada@example.com', {
      costCenter: 'CC-1',
      level: 3,
      remote: true,
      skills: ['math', 'engines'],
      badge: 'AB-1',
      undeclared: 'dropped',
    })
    expect(ada.status).toBe(201)
    const body = (await ada.json()) as Record<string, any>
    expect(body.schemas).toEqual([USER, urn])
    expect(body[urn]).toEqual({
      costCenter: 'CC-1',
      level: 3,
      remote: true,
      skills: ['math', 'engines'],
      badge: 'AB-1',
    })
    expect(
      (await create('bob@example.com', { costCenter: 'CC-2', level: 1, remote: false, badge: 'ab-1' })).status,
    ).toBe(201)

    const names = async (filter: string) => {
      const res = await tenant.fetch(`/Users?filter=${encodeURIComponent(filter)}`)
      expect(res.status, await res.clone().text()).toBe(200)
      return ((await res.json()) as { Resources: { userName: string }[] }).Resources.map((r) => r.userName).sort()
    }
    expect(await names(`${urn}:costCenter eq "cc-1"`)).toEqual(['ada@example.com'])
    expect(await names(`${urn}:level gt 1`)).toEqual(['ada@example.com'])
    expect(await names(`${urn}:remote eq false`)).toEqual(['bob@example.com'])
    expect(await names(`${urn}:skills eq "engines"`)).toEqual(['ada@example.com'])
    expect(await names(`${urn}:badge eq "ab-1"`)).toEqual(['bob@example.com'])
    expect(await names(`${urn}:level pr and not (${urn}:skills pr)`)).toEqual(['bob@example.com'])
    const sorted = (await (
      await tenant.fetch(`/Users?sortBy=${encodeURIComponent(`${urn}:level`)}&sortOrder=descending`)
    ).json()) as { Resources: { userName: string }[] }
    expect(sorted.Resources.map((r) => r.userName)).toEqual(['ada@example.com', 'bob@example.com'])
    const byCenter = (await (
      await tenant.fetch(`/Users?sortBy=${encodeURIComponent(`${urn}:costCenter`)}`)
    ).json()) as {
      Resources: { userName: string }[]
    }
    expect(byCenter.Resources.map((r) => r.userName)).toEqual(['ada@example.com', 'bob@example.com'])
    const multiSort = await errorOf(await tenant.fetch(`/Users?sortBy=${encodeURIComponent(`${urn}:skills`)}`))
    expect(multiSort).toMatchObject({ status: 400, scimType: 'invalidValue' })
    const badFilter = await errorOf(await tenant.fetch(`/Users?filter=${encodeURIComponent(`${urn}:nothing eq "x"`)}`))
    expect(badFilter).toMatchObject({ status: 400, scimType: 'invalidFilter' })

    const projected = (await (
      await tenant.fetch(`/Users/${body.id}?attributes=${encodeURIComponent(`${urn}:level`)}`)
    ).json()) as Record<string, any>
    expect(projected[urn]).toEqual({ level: 3 })
    expect(projected.userName).toBeUndefined()

    const patch = (Operations: unknown[]) =>
      tenant.fetch(`/Users/${body.id}`, { method: 'PATCH', json: { schemas: [PATCH], Operations } })
    const patched = await patch([{ op: 'replace', path: `${urn}:level`, value: 4 }])
    expect(patched.status).toBe(200)
    expect(((await patched.json()) as Record<string, any>)[urn].level).toBe(4)
    const wrong = await errorOf(await patch([{ op: 'replace', path: `${urn}:level`, value: 'four' }]))
    expect(wrong).toMatchObject({ status: 400, scimType: 'invalidValue' })
    expect((await patch([{ op: 'remove', path: `${urn}:skills` }])).status).toBe(200)
    expect(await names(`${urn}:skills pr`)).toEqual([])
  })

  it('a required attribute is needed on every create and cannot be removed by PATCH', async () => {
    const { tenant, urn } = await declared([{ name: 'employeeType', type: 'string', required: true }])
    const user = (await (await tenant.fetch('/ResourceTypes/User')).json()) as {
      schemaExtensions: { schema: string; required: boolean }[]
    }
    expect(user.schemaExtensions).toContainEqual({ schema: urn, required: true })
    const missing = await errorOf(
      await tenant.fetch('/Users', { method: 'POST', json: { schemas: [USER], userName: 'n@example.com' } }),
    )
    expect(missing).toMatchObject({ status: 400, scimType: 'invalidValue', detail: `${urn}:employeeType is required` })
    const ok = await tenant.fetch('/Users', {
      method: 'POST',
      json: { schemas: [USER, urn], userName: 'n@example.com', [urn]: { employeeType: 'staff' } },
    })
    expect(ok.status).toBe(201)
    const id = ((await ok.json()) as { id: string }).id
    const removed = await tenant.fetch(`/Users/${id}`, {
      method: 'PATCH',
      json: { schemas: [PATCH], Operations: [{ op: 'remove', path: `${urn}:employeeType` }] },
    })
    expect(removed.status).toBe(400)
  })
})

describe('the indexed form of declared attributes', () => {
  it('a filter on a declared attribute reads about the rows it returns, not every user of the tenant', async () => {
    const attributes: UserAttributeDeclaration[] = [{ name: 'costCenter', type: 'string' }]
    const { tenant, urn } = await declared(attributes)
    const res = await tenant.fetch('/Bulk', {
      method: 'POST',
      json: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: Array.from({ length: 300 }, (_, i) => ({
          method: 'POST',
          path: '/Users',
          bulkId: `u${i}`,
          data: {
            schemas: [USER, urn],
            userName: `p${i}@example.com`,
            [urn]: { costCenter: i === 7 ? 'CC-9' : `CC-${i % 5}` },
          },
        })),
      },
    })
    expect(res.status).toBe(200)
    const type = tenantUserType(userResourceType, tenant.id, attributes)
    const dialect = new SQLiteAsyncDialect()
    // The statement of a page of /Users, as the search runs it.
    const run = async (where: ReturnType<typeof userFilterSql>, after?: number) => {
      const range = { offset: sql`0`, limit: 100, ...(after === undefined ? {} : { after: sql`${after}` }) }
      const q = dialect.sqlToQuery(userPages({ tenantKey: tenant.key }, where).rows(range))
      const result = await env.DB.prepare(q.sql)
        .bind(...q.params)
        .all()
      return { rows: result.results.length, read: result.meta.rows_read }
    }
    const filter = parseFilter(`${urn}:costCenter eq "cc-9"`)
    const indexed = await run(userFilterSql(filter, type, tenant.key))
    // The same filter on the resource JSON (the form undeclared attributes would need) reads every user.
    const scanned = await run(userFilterSql(filter, type))
    expect(indexed.rows).toBe(1)
    expect(scanned.rows).toBe(1)
    expect(scanned.read).toBeGreaterThanOrEqual(300)
    expect(indexed.read).toBeLessThan(10)
    // A later page (seeking past a page mark) reads as little.
    const later = await run(userFilterSql(filter, type, tenant.key), 5)
    expect(later.rows).toBe(1)
    expect(later.read).toBeLessThan(10)
  })
})
