import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1'
import * as schema from './schema.ts'

/** The drizzle handle every query in src/db/ takes. */
export type Db = DrizzleD1Database<typeof schema> & { $client: D1Database }

/** Wraps a D1 binding in drizzle. */
export function createDb(d1: D1Database): Db {
  return drizzle(d1, { schema })
}
