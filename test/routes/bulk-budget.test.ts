/**
 * A /Bulk request at its limits stays within what one Worker invocation may ask of D1 (1,000 calls):
 * measured by counting the calls that reach the database, not estimated. And what the operations
 * announce goes out once at the end: one invite send for all the request's invites.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { runBulk } from '../../src/provisioning/bulk.ts'
import { tenantScope } from '../../src/runtime/scopes.ts'
import { parseBulkRequest } from '../../src/scim/bulk/request.ts'
import { MAX_BULK_CHANGES, MAX_BULK_OPERATIONS } from '../../src/scim/limits.ts'
import { countingD1 } from '../helpers/counting-d1.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'

/** Runs a BulkRequest through the service layer on a D1 binding that counts its calls. */
async function counted(tenant: TestTenant, Operations: unknown[]) {
  const c = countingD1(env.DB)
  const announced: string[][] = []
  const base = tenantScope({ ...env, DB: c.d1 }, tenant.doc, {
    actor: { kind: 'idp', credentialId: tenant.doc.credentials[0]!.id },
    requestId: `test-${crypto.randomUUID()}`,
    origin: { method: 'POST', path: '/Bulk' },
  })
  const scope = {
    ...base,
    outbox: { ...base.outbox, invites: { announce: async (ids: string[]) => void announced.push(ids) } },
  }
  const results = await runBulk(scope, parseBulkRequest({ schemas: [BULK], Operations }))
  return { results, calls: c.calls, announced }
}

const createOp = (i: number, prefix: string) => ({
  method: 'POST',
  path: '/Users',
  bulkId: `${prefix}${i}`,
  data: { schemas: [USER], userName: `${prefix}${i}@example.com`, emails: [{ value: `${prefix}${i}@example.com` }] },
})

describe('/Bulk within one invocation of D1', () => {
  it(`${MAX_BULK_CHANGES} changes and ${MAX_BULK_OPERATIONS - MAX_BULK_CHANGES} creates in one request make fewer than 1,000 D1 calls`, async () => {
    const tenant = await newTenant()
    const setup = await counted(
      tenant,
      Array.from({ length: 300 }, (_, i) => createOp(i, 'seed')),
    )
    expect(setup.results.every((r) => r.status === 201)).toBe(true)
    // 300 creates: written 100 to a call, a handful of calls in all, and one invite announce.
    expect(setup.calls).toBeLessThan(20)
    expect(setup.announced).toHaveLength(1)
    expect(setup.announced[0]).toHaveLength(300)
    const ids = setup.results.map((r) => r.location!.split('/').pop()!)

    const changes = [
      ...ids.slice(0, 200).map((id) => ({
        method: 'PATCH',
        path: `/Users/${id}`,
        data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Engineer' }] },
      })),
      ...ids.slice(200, 280).map((id, i) => ({
        method: 'PUT',
        path: `/Users/${id}`,
        data: { schemas: [USER], userName: `seed${200 + i}@example.com`, title: 'Manager' },
      })),
      ...ids.slice(280, 300).map((id) => ({ method: 'DELETE', path: `/Users/${id}` })),
      ...Array.from({ length: 100 }, (_, i) => ({
        method: 'POST',
        path: '/Groups',
        bulkId: `g${i}`,
        data: { schemas: [GROUP], displayName: `Team ${i}`, members: [{ value: ids[i] }] },
      })),
    ]
    expect(changes).toHaveLength(MAX_BULK_CHANGES)
    const creates = Array.from({ length: MAX_BULK_OPERATIONS - MAX_BULK_CHANGES }, (_, i) => createOp(i, 'new'))
    const run = await counted(tenant, [...changes, ...creates])
    expect(run.results).toHaveLength(MAX_BULK_OPERATIONS)
    const failed = run.results.filter((r) => r.error)
    expect(failed, JSON.stringify(failed.slice(0, 2))).toEqual([])
    expect(run.calls).toBeLessThan(1000)
    expect(run.announced.flat()).toHaveLength(MAX_BULK_OPERATIONS - MAX_BULK_CHANGES)

    const titles = await env.DB.prepare(
      `SELECT json_extract(resource, '$.title') AS title, count(*) AS n FROM users WHERE tenant_id = ? AND deleted_at IS NULL GROUP BY title ORDER BY title`,
    )
      .bind(tenant.key)
      .all<{ title: string | null; n: number }>()
    expect(titles.results).toEqual([
      { title: null, n: MAX_BULK_OPERATIONS - MAX_BULK_CHANGES },
      { title: 'Engineer', n: 200 },
      { title: 'Manager', n: 80 },
    ])
  })

  it('one change more is refused before anything is written: 413 naming the limit', async () => {
    const tenant = await newTenant()
    const ops = Array.from({ length: MAX_BULK_CHANGES + 1 }, (_, i) => ({
      method: 'POST',
      path: '/Groups',
      bulkId: `g${i}`,
      data: { schemas: [GROUP], displayName: `Team ${i}` },
    }))
    const res = await tenant.fetch('/Bulk', { method: 'POST', json: { schemas: [BULK], Operations: ops } })
    expect(res.status).toBe(413)
    const body = (await res.json()) as { detail: string; status: string }
    expect(body.status).toBe('413')
    expect(body.detail).toContain(`${MAX_BULK_CHANGES + 1} operations other than user creates`)
    expect(body.detail).toContain(`at most ${MAX_BULK_CHANGES}`)
    const groups = await env.DB.prepare('SELECT count(*) AS n FROM groups WHERE tenant_id = ?')
      .bind(tenant.key)
      .first<{ n: number }>()
    expect(groups!.n).toBe(0)
  })
})
