/**
 * How D1 is talked to: batches read by handle, storage errors typed at the call, and a constraint
 * violation mapped to the index it hit (only the userName index means "taken").
 */
import { env } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { batch, statement } from '../../src/d1/batch.ts'
import { createDb } from '../../src/d1/client.ts'
import { ConstraintViolation, StorageUnavailable } from '../../src/d1/errors.ts'
import { violatedIndex } from '../../src/db/constraints.ts'
import { createUser } from '../../src/db/users.ts'
import { Uniqueness } from '../../src/scim/errors.ts'
import { scopeOf } from '../helpers/scope.ts'
import { newTenant } from '../helpers/tenant.ts'

const lifecycle = { state: 'joined' as const, stateBeforeDeactivation: null, source: 'app' as const }

afterEach(() => vi.restoreAllMocks())

describe('a batch', () => {
  it('reads each result through the handle its statement was given, whatever the order', async () => {
    const b = batch(createDb(env.DB))
    const two = b.first(statement(sql`SELECT 2 AS n`), (row) => row.n as number)
    const many = b.rows(statement(sql`SELECT value AS v FROM json_each('[3,4,5]')`), (row) => row.v as number)
    const none = b.first(statement(sql`SELECT 1 AS n WHERE 0`))
    const results = await b.run()
    expect(results.get(many)).toEqual([3, 4, 5])
    expect(results.get(two)).toBe(2)
    expect(results.get(none)).toBeUndefined()
  })

  it('counts the rows a write changed, and tells a statement its result once the batch committed', async () => {
    const tenant = await newTenant()
    const b = batch(createDb(env.DB))
    const settled: number[] = []
    const insert = statement(sql`INSERT INTO tenant_counts (tenant_id, users, groups) VALUES (${tenant.id}, 0, 0)`)
    const changed = b.changes({ ...insert, settle: (r) => settled.push(r.meta.changes ?? -1) })
    expect(settled).toEqual([])
    expect((await b.run()).get(changed)).toBe(1)
    expect(settled).toEqual([1])
  })
})

describe('storage errors are typed where D1 is called', () => {
  it('a D1 failure is StorageUnavailable, and nothing of its batch was written', async () => {
    const tenant = await newTenant()
    const b = batch(createDb(env.DB))
    b.add(statement(sql`INSERT INTO tenant_counts (tenant_id, users, groups) VALUES (${tenant.id}, 1, 1)`))
    b.add(statement(sql`SELECT * FROM no_such_table`))
    const error = await b.run().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageUnavailable)
    expect((error as Error).message).toMatch(/no such table/)
    const rows = await env.DB.prepare('SELECT * FROM tenant_counts WHERE tenant_id = ?').bind(tenant.key).all()
    expect(rows.results).toEqual([])
  })

  it('a taken userName (any case) is 409 uniqueness, decided by the unique index', async () => {
    const tenant = await newTenant()
    const scope = scopeOf(tenant)
    await createUser(scope, { id: crypto.randomUUID(), resource: { userName: 'Taken@Example.com' }, ...lifecycle })
    const error = await createUser(scope, {
      id: crypto.randomUUID(),
      resource: { userName: 'taken@example.com' },
      ...lifecycle,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Uniqueness)
    expect((error as Uniqueness).status).toBe(409)
    expect((error as Error).message).toBe(
      'userName "taken@example.com" is already in use in this tenant (userName is unique, case-insensitively)',
    )
  })

  it('any other unique violation is a bug: it names its index, is logged as a bug and is not reported as "taken"', async () => {
    const tenant = await newTenant()
    const scope = scopeOf(tenant)
    const id = crypto.randomUUID()
    await createUser(scope, { id, resource: { userName: 'first' }, ...lifecycle })
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const error = await createUser(scope, { id, resource: { userName: 'second' }, ...lifecycle }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ConstraintViolation)
    expect(violatedIndex(error as ConstraintViolation)).toBe('users_pkey')
    const lines = logged.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>)
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'constraint_bug', index: 'users_pkey', table: 'users' }),
    )
    // The same request over HTTP would be a 500 with the request id, never a 409.
    expect(error).not.toBeInstanceOf(Uniqueness)
  })

  it('names the partial unique index on userName and the primary key apart', () => {
    const of = (table: string, columns: string[]) =>
      violatedIndex(new ConstraintViolation('unique', { table, columns, message: '' }, undefined))
    expect(of('users', ['tenant_id', 'user_name'])).toBe('users_tenant_user_name')
    expect(of('users', ['tenant_id', 'id'])).toBe('users_pkey')
    expect(of('groups', ['tenant_id', 'display_name'])).toBe('groups_tenant_display_name')
    expect(of('users', ['nope'])).toBeUndefined()
  })
})
