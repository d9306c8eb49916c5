/** Which index a constraint violation names, from the tables in src/db/schema.ts. */
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core'
import type { ConstraintViolation } from '../d1/errors.ts'
import { log } from '../observability/log.ts'
import { auditEvents, groupMembers, groups, invites, pageMarks, tenantCounts, userEmails, users } from './schema.ts'

const TABLES: SQLiteTable[] = [users, userEmails, groups, groupMembers, tenantCounts, invites, auditEvents, pageMarks]

/** "table:col1,col2" -> the name of the unique index (or `{table}_pkey`) on exactly those columns. */
const UNIQUE = new Map<string, string>()
for (const table of TABLES) {
  const config = getTableConfig(table)
  const key = (cols: string[]) => `${config.name}:${cols.join(',')}`
  for (const pk of config.primaryKeys) UNIQUE.set(key(pk.columns.map((c) => c.name)), `${config.name}_pkey`)
  for (const column of config.columns) if (column.primary) UNIQUE.set(key([column.name]), `${config.name}_pkey`)
  for (const index of config.indexes) {
    if (!index.config.unique) continue
    UNIQUE.set(key(index.config.columns.map((c) => (c as { name: string }).name)), index.config.name)
  }
}

/** The index a unique violation hit, or undefined for other constraints. */
export function violatedIndex(error: ConstraintViolation): string | undefined {
  return error.kind === 'unique' ? UNIQUE.get(`${error.table}:${error.columns.join(',')}`) : undefined
}

/**
 * Maps a violation of `index` to the error a client should see (`taken`); any other constraint is a
 * bug in our writes: it is logged as one and rethrown (the client gets a 500 with the request id).
 */
export function expectViolation(error: ConstraintViolation, index: string, taken: () => Error): Error {
  const hit = violatedIndex(error)
  if (hit === index) return taken()
  log('error', 'constraint_bug', { index: hit ?? null, table: error.table ?? null, message: error.message })
  return error
}
