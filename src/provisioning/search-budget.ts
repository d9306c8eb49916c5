/**
 * What a compiled filter may cost in D1: a filter that passes the parser's limits can still compile to
 * SQL that D1 refuses (a `pr` on a complex attribute expands to a test of every sub-attribute), which
 * would be a storage failure. It is refused as the client's filter, naming the limit, before any query.
 */
import type { SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import { InvalidFilter } from '../scim/errors.ts'
import { MAX_FILTER_SQL_BYTES, MAX_FILTER_SQL_PARAMS } from '../scim/limits.ts'

const dialect = new SQLiteSyncDialect()

/** Throws 400 invalidFilter when the compiled filter's SQL text or bound parameters exceed the budget. */
export function checkFilterBudget(where: SQL): void {
  const query = dialect.sqlToQuery(where)
  const bytes = new TextEncoder().encode(query.sql).byteLength
  if (bytes > MAX_FILTER_SQL_BYTES) {
    throw new InvalidFilter(
      `the filter compiles to ${bytes} bytes of SQL; the limit is ${MAX_FILTER_SQL_BYTES} bytes: split it into several requests`,
    )
  }
  if (query.params.length > MAX_FILTER_SQL_PARAMS) {
    throw new InvalidFilter(
      `the filter compiles to ${query.params.length} bound parameters; the limit is ${MAX_FILTER_SQL_PARAMS}: split it into several requests`,
    )
  }
}
