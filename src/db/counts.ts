/** The kept counts of users and groups per tenant (tenant_counts), so totalResults never counts a table. */
import { sql, type SQL } from 'drizzle-orm'
import { statement, type Statement } from '../d1/batch.ts'
import type { Scope } from '../scope/scope.ts'

/** Moves a tenant's kept count of `what` by `delta`, when `guard` holds. */
export function countStatement(
  scope: Pick<Scope, 'tenantKey'>,
  what: 'users' | 'groups',
  delta: number,
  guard: SQL = sql`1`,
): Statement {
  const column = sql.raw(what)
  const tenantId = scope.tenantKey
  return statement(
    sql`INSERT INTO tenant_counts (tenant_id, users, groups) SELECT ${tenantId}, ${what === 'users' ? delta : 0}, ${what === 'groups' ? delta : 0} WHERE ${guard}
        ON CONFLICT (tenant_id) DO UPDATE SET ${column} = ${column} + ${delta}`,
  )
}

/** The kept count of `what`, as a scalar SQL expression. */
export function keptCount(tenantId: string, what: 'users' | 'groups'): SQL {
  return sql`(SELECT coalesce((SELECT ${sql.raw(what)} FROM tenant_counts WHERE tenant_id = ${tenantId}), 0))`
}
