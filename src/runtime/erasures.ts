/** The cron's erasure step: erases the rows of deleted tenants whose grace period has passed. */
import { eraseTenantChunk } from '../db/erase.ts'
import { log } from '../observability/log.ts'
import type { SystemScope } from '../scope/scope.ts'
import { ERASURE_PREFIX, erasureDueAt, parseErasure } from '../tenants/erasures.ts'

/** Chunks one cron run may erase in all, so a run stays well inside D1's per-invocation limits. */
const CHUNKS_PER_RUN = 50

/** Erases what is due, a bounded amount per run; a record is removed once its rows are all gone. */
export async function eraseDueTenants(
  scope: SystemScope,
  kv: KVNamespace,
  graceDays: number,
): Promise<{ erased: string[]; rows: number }> {
  const erased: string[] = []
  let rows = 0
  let budget = CHUNKS_PER_RUN
  const listed = await kv.list({ prefix: ERASURE_PREFIX })
  for (const { name } of listed.keys) {
    const record = parseErasure(await kv.get(name))
    if (!record || erasureDueAt(record, graceDays) > scope.now()) continue
    let done = false
    while (!done && budget-- > 0) {
      const chunk = await eraseTenantChunk(scope, record.tenantKey)
      rows += chunk.deleted
      done = chunk.done
    }
    if (!done) break
    await kv.delete(name)
    erased.push(record.tenantKey)
  }
  if (erased.length || rows) log('info', 'tenant_erasure', { erased, rows })
  return { erased, rows }
}
