/**
 * Erasing a deleted tenant's rows, a chunk at a time, from every tenant-owned table. Each call deletes
 * at most `chunk` rows per table and says whether anything is left, so the work resumes where it
 * stopped (the cron and `npm run tenant -- purge` both call it until done).
 */
import { sql } from 'drizzle-orm'
import { batch, statement } from '../d1/batch.ts'
import type { SystemScope } from '../scope/scope.ts'
import { eraseChunkSql } from '../tenants/erasures.ts'
import { tenantTableNames } from './tenant-tables.ts'

/** Deletes up to `chunk` rows per table under `tenantKey`; `done` once no table had rows left. */
export async function eraseTenantChunk(
  scope: SystemScope,
  tenantKey: string,
  chunk = 1000,
): Promise<{ deleted: number; done: boolean }> {
  const b = batch(scope.db)
  const handles = tenantTableNames().map((table) =>
    b.changes(statement(sql.raw(eraseChunkSql(table, tenantKey, chunk)))),
  )
  const results = await b.run()
  const counts = handles.map((h) => results.get(h))
  const deleted = counts.reduce((a, n) => a + n, 0)
  return { deleted, done: counts.every((n) => n < chunk) }
}
