import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1'

/** The drizzle handle of one D1 database: what a scope carries and every query in src/db/ runs on. */
export type Db = DrizzleD1Database & { $client: D1Database }

// One handle per binding object: drizzle's setup is not free, and with a schema it rebuilds its
// relational config every time (we use the query builder, not relational queries, so none is passed).
const handles = new WeakMap<D1Database, Db>()

/** Wraps a D1 binding in drizzle (once per binding object in this isolate). */
export function createDb(d1: D1Database): Db {
  let db = handles.get(d1)
  if (!db) {
    db = drizzle(d1) as Db
    handles.set(d1, db)
  }
  return db
}
