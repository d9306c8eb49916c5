/**
 * One way to talk to D1: statements run alone or atomically in one batch (D1 has no interactive
 * transactions), results read through typed handles, errors typed at the call (src/d1/errors.ts).
 */
import type { SQL } from 'drizzle-orm'
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core'
import type { Db } from './client.ts'
import { classifyD1Error } from './errors.ts'

/** Anything drizzle can render as one SQL statement: a query builder or `sql` text. */
export interface Statement {
  getSQL(): SQL
  /** Told the statement's result once its batch has committed. */
  settle?(result: D1Result): void
}

const dialect = new SQLiteAsyncDialect()

/** A statement of plain SQL. */
export function statement(query: SQL): Statement {
  return { getSQL: () => query }
}

/** Where one statement's result sits in a batch, and how it is read. */
export interface Handle<T> {
  readonly index: number
  readonly read: (result: D1Result) => T
}

/** The results of a batch that ran, read by the handles `add` gave out. */
export interface BatchResults {
  get<T>(handle: Handle<T>): T
}

function prepare(db: Db, s: Statement): D1PreparedStatement {
  const { sql, params } = dialect.sqlToQuery(s.getSQL())
  return db.$client.prepare(sql).bind(...params)
}

/** Runs a D1 call, turning its failure into a typed storage error. */
export async function d1Call<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw classifyD1Error(error)
  }
}

/** Statements that commit together or not at all. */
export class Batch {
  private readonly statements: Statement[] = []
  private readonly db: Db

  constructor(db: Db) {
    this.db = db
  }

  /** Adds a statement; the handle reads its result once the batch ran. */
  add<T = D1Result>(s: Statement, read: (result: D1Result) => T = (r) => r as T): Handle<T> {
    return { index: this.statements.push(s) - 1, read }
  }

  /** Adds statements whose results nobody reads. */
  addAll(statements: Statement[]): void {
    for (const s of statements) this.statements.push(s)
  }

  /** Adds a write; its handle reads how many rows it changed. */
  changes(s: Statement): Handle<number> {
    return this.add(s, (r) => r.meta.changes ?? 0)
  }

  /** Adds a read; its handle reads the rows, mapped by `map`. */
  rows<T>(s: Statement, map: (row: Record<string, unknown>) => T = (row) => row as T): Handle<T[]> {
    return this.add(s, (r) => (r.results as Record<string, unknown>[]).map(map))
  }

  /** Adds a read of at most one row. */
  first<T>(s: Statement, map: (row: Record<string, unknown>) => T = (row) => row as T): Handle<T | undefined> {
    return this.add(s, (r) => {
      const row = (r.results as Record<string, unknown>[])[0]
      return row === undefined ? undefined : map(row)
    })
  }

  get size(): number {
    return this.statements.length
  }

  /** Runs the batch in one round trip. It goes to D1 directly: drizzle's batch cannot bind `sql` statements. */
  async run(): Promise<BatchResults> {
    const results = this.statements.length
      ? await d1Call(() => this.db.$client.batch(this.statements.map((s) => prepare(this.db, s))))
      : []
    this.statements.forEach((s, i) => s.settle?.(results[i]!))
    return { get: (handle) => handle.read(results[handle.index]!) }
  }
}

/** A new batch on this database. */
export function batch(db: Db): Batch {
  return new Batch(db)
}

/** Runs one statement and returns its rows. */
export async function readRows<T>(db: Db, s: Statement): Promise<T[]> {
  return (await d1Call(() => prepare(db, s).all<T>())).results
}

/** Runs one write and returns how many rows it changed. */
export async function runWrite(db: Db, s: Statement): Promise<number> {
  return (await d1Call(() => prepare(db, s).run())).meta.changes ?? 0
}
