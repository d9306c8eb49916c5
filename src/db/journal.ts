/** The provisioning journal: one row per SCIM change, for support ("why was this person deactivated?"). */
import { sql, type SQL } from 'drizzle-orm'
import { runBatch, statement, type Statement } from './batch.ts'
import type { Db } from './client.ts'
import { newId } from './ids.ts'

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
  await runBatch(db, [journalStatement(tenantId, entry, undefined, () => {})])
}

/**
 * The journal entry of a change as a statement of the change's own batch, so the change and its
 * entry commit together (one round trip, never one without the other). `guard` is the condition
 * under which the change applies (evaluated where the statement sits in the batch).
 */
export type Audit = (resourceId: string, guard?: SQL) => Statement

/** The insert of `entry`, only when `guard` holds; `settle` learns whether it was written. */
export function journalStatement(tenantId: string, entry: JournalEntry, guard: SQL | undefined, settle: (written: boolean) => void): Statement {
  const e = entry
  const insert = statement(sql`INSERT INTO audit_events (tenant_id, id, at, credential_id, request_id, method, path, resource_type, resource_id, action, outcome, summary)
    SELECT ${tenantId}, ${newId()}, ${e.at}, ${e.credentialId}, ${e.requestId}, ${e.method}, ${e.path}, ${e.resourceType}, ${e.resourceId}, ${e.action}, ${e.outcome}, ${e.summary}
    WHERE ${guard ?? sql`1`}`)
  return { ...insert, settle: (result) => settle(result.meta.changes === 1) }
}

/** Deletes entries older than `before` across tenants, in chunks so one run stays small. */
export async function pruneJournal(db: Db, before: Date, limit = 5000): Promise<number> {
  const result = await db.run(
    sql`DELETE FROM audit_events WHERE rowid IN (SELECT rowid FROM audit_events WHERE at < ${before.toISOString()} LIMIT ${limit})`,
  )
  return result.meta.changes ?? 0
}

/** A tenant's journal, newest first: all of it, or the entries about the users who had `userName`. */
export async function readJournal(
  db: Db,
  tenantId: string,
  query: { userName?: string; since?: Date; limit: number },
): Promise<(JournalEntry & { id: string })[]> {
  const conditions = [sql`e.tenant_id = ${tenantId}`]
  if (query.since) conditions.push(sql`e.at >= ${query.since.toISOString()}`)
  if (query.userName !== undefined) {
    // Tombstones too: "why was this person deleted?" is a question support gets.
    conditions.push(sql`e.resource_id IN (SELECT id FROM users WHERE tenant_id = ${tenantId} AND user_name = ${query.userName.toLowerCase()})`)
  }
  return db.all<JournalEntry & { id: string }>(
    sql`SELECT e.id AS id, e.at AS at, e.credential_id AS credentialId, e.request_id AS requestId, e.method AS method, e.path AS path,
               e.resource_type AS resourceType, e.resource_id AS resourceId, e.action AS action, e.outcome AS outcome, e.summary AS summary
        FROM audit_events e WHERE ${sql.join(conditions, sql` AND `)} ORDER BY e.at DESC LIMIT ${query.limit}`,
  )
}
