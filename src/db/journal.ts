/** The provisioning journal: one row per SCIM change, for support ("why was this person deactivated?"). */
import { sql } from 'drizzle-orm'
import type { Db } from './client.ts'
import { auditEvents } from './schema.ts'

/** One journal entry; no secrets, no attribute values beyond booleans. */
export interface JournalEntry {
  at: string
  credentialId: string | null
  requestId: string | null
  method: string
  path: string
  resourceType: string | null
  resourceId: string | null
  action: string
  outcome: string
  summary: string | null
}

/** Appends an entry to a tenant's journal. */
export async function recordJournal(db: Db, tenantId: string, entry: JournalEntry): Promise<void> {
  await db.insert(auditEvents).values({ tenantId, id: crypto.randomUUID(), ...entry })
}

/** Deletes entries older than `before` across tenants, in chunks so one run stays small. */
export async function pruneJournal(db: Db, before: Date, limit = 5000): Promise<number> {
  const result = await db.run(
    sql`DELETE FROM audit_events WHERE rowid IN (SELECT rowid FROM audit_events WHERE at < ${before.toISOString()} LIMIT ${limit})`,
  )
  return result.meta.changes ?? 0
}
