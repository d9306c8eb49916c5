import type { SQL } from 'drizzle-orm'
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core'
import type { Db } from './client.ts'

/** Anything drizzle can render as one SQL statement: a query builder or `db.run(sql...)`. */
export interface Statement {
  getSQL(): SQL
  /** Told the statement's result once its batch has committed. */
  settle?(result: D1Result): void
}

const dialect = new SQLiteAsyncDialect()

/** A statement of plain SQL (for a batch or readRows), where no db handle is at hand. */
export function statement(query: SQL): Statement {
  return { getSQL: () => query }
}

/**
 * Runs statements atomically in one D1 batch (D1 has no interactive transactions). It goes to D1
 * directly because drizzle's own batch cannot bind the parameters of `db.run(sql...)` statements.
 */
export async function runBatch(db: Db, statements: Statement[]): Promise<D1Result[]> {
  const client = db.$client
  const prepared = statements.map((s) => {
    const { sql, params } = dialect.sqlToQuery(s.getSQL())
    return client.prepare(sql).bind(...params)
  })
  const results = await client.batch(prepared)
  statements.forEach((s, i) => s.settle?.(results[i]!))
  return results
}

/** Runs one statement and returns its rows (a read that needs no batch). */
export async function readRows<T>(db: Db, statement: Statement): Promise<T[]> {
  const { sql, params } = dialect.sqlToQuery(statement.getSQL())
  return (await db.$client.prepare(sql).bind(...params).all<T>()).results
}
