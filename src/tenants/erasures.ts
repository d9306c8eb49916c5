/**
 * Erasure records: `delete` removes a tenant's document at once (its credentials stop working) and
 * leaves `erasure:{tenantKey}` in KV; the cron erases the rows stored under that key once the grace
 * period has passed, and `purge` does it at once. Plain TypeScript, shared by CLI and Worker.
 */

export const ERASURE_PREFIX = 'erasure:'

/** Days a deleted tenant's rows are kept before they are erased, unless TENANT_ERASURE_DAYS says otherwise. */
export const DEFAULT_ERASURE_DAYS = 30

export interface ErasureRecord {
  v: 1
  tenantId: string
  tenantKey: string
  deletedAt: string
}

/** A stored erasure record, or undefined when missing or malformed. */
export function parseErasure(text: string | null | undefined): ErasureRecord | undefined {
  if (!text) return undefined
  try {
    const r = JSON.parse(text) as ErasureRecord
    return r?.v === 1 && typeof r.tenantKey === 'string' && typeof r.deletedAt === 'string' ? r : undefined
  } catch {
    return undefined
  }
}

/** When the rows of an erasure are due to go. */
export function erasureDueAt(record: ErasureRecord, graceDays: number): Date {
  return new Date(new Date(record.deletedAt).getTime() + graceDays * 86_400_000)
}

/** The grace period from a setting's text; the default when absent or not a whole number of days. */
export function erasureDays(setting: string | undefined): number {
  const days = Number(setting)
  return setting !== undefined && Number.isInteger(days) && days >= 0 ? days : DEFAULT_ERASURE_DAYS
}

/**
 * The tenant-owned tables in erasure order (children first), as the support CLI, which reads no schema,
 * names them; a test keeps it equal to the registry in src/db/tenant-tables.ts.
 */
export const TENANT_TABLE_NAMES = [
  'webhook_deliveries',
  'webhook_state',
  'events',
  'group_members',
  'user_emails',
  'user_attribute_values',
  'invites',
  'page_marks',
  'audit_events',
  'credential_use',
  'used_assertions',
  'catalog_entries',
  'groups',
  'users',
  'tenant_counts',
] as const

/** The statement that deletes up to `chunk` rows of one table under a tenant key (checked, so inlined). */
export function eraseChunkSql(table: string, tenantKey: string, chunk: number): string {
  if (!/^[a-z0-9-]+(\.[a-z2-7]+)?$/.test(tenantKey)) throw new Error(`not a tenant key: ${tenantKey.slice(0, 80)}`)
  if (!/^[a-z_]+$/.test(table) || !Number.isInteger(chunk) || chunk <= 0) throw new Error('bad erase chunk')
  return `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE tenant_id = '${tenantKey}' LIMIT ${chunk})`
}
