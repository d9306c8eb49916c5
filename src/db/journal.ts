/**
 * The journal module: the only writer of `audit_events`, one row per change, for support ("why was
 * this person deactivated?"). A change's entry is a statement of the change's own batch, so the two
 * commit together (one round trip, never one without the other).
 */
import { sql } from 'drizzle-orm'
import { readRows, runWrite, statement, type Statement } from '../d1/batch.ts'
import { summarizeChange } from '../observability/summary.ts'
import { canonicalLookup } from '../scim/resource/canonical.ts'
import type { Journal, JournalChange, Scope, SystemScope } from '../scope/scope.ts'
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

/** What the journal knows of the unit of work before any change: who asks, and how. */
export interface JournalOrigin {
  tenantKey: string
  requestId: string
  credentialId: string | null
  /** The HTTP method, or `RPC` for a Directory call. */
  method: string
  /** The request path, or the RPC method's name. */
  path: string
  /** The status a change answers when it applies (HTTP), recorded as `ok {status}`. */
  okStatus?: number
}

/** The insert of one entry, when `guard` holds (a statement of the batch of what it records). */
export function journalStatement(tenantKey: string, e: JournalEntry, guard = sql`1`): Statement {
  return statement(sql`INSERT INTO audit_events (tenant_id, id, at, credential_id, request_id, method, path, resource_type, resource_id, action, outcome, summary)
    SELECT ${tenantKey}, ${newId()}, ${e.at}, ${e.credentialId}, ${e.requestId}, ${e.method}, ${e.path}, ${e.resourceType}, ${e.resourceId}, ${e.action}, ${e.outcome}, ${e.summary}
    WHERE ${guard}`)
}

/** The journal of one unit of work: hands out the entries of its changes and knows whether one committed. */
class ChangeJournal implements Journal {
  #committed = false
  private readonly origin: JournalOrigin

  constructor(origin: JournalOrigin) {
    this.origin = origin
  }

  get committed(): boolean {
    return this.#committed
  }

  entry(change: JournalChange): Statement {
    const o = this.origin
    const insert = journalStatement(
      o.tenantKey,
      {
        at: new Date().toISOString(),
        credentialId: o.credentialId,
        requestId: o.requestId,
        method: o.method,
        path: o.path,
        resourceType: change.resourceType,
        resourceId: change.resourceId,
        action: change.action,
        outcome: o.okStatus === undefined ? 'ok' : `ok ${o.okStatus}`,
        summary: summarizeChange(o.method, change.body),
      },
      change.guard,
    )
    return {
      ...insert,
      settle: (result) => {
        if (result.meta.changes === 1) this.#committed = true
      },
    }
  }
}

/** The journal of a unit of work that starts at `origin`. */
export function createJournal(origin: JournalOrigin): Journal {
  return new ChangeJournal(origin)
}

/** Appends an entry on its own (a request that failed or changed nothing). */
export async function recordJournal(scope: Pick<Scope, 'db' | 'tenantKey'>, entry: JournalEntry): Promise<void> {
  await runWrite(scope.db, journalStatement(scope.tenantKey, entry))
}

/** Deletes entries older than `before` across tenants, in chunks so one run stays small. */
export async function pruneJournal(scope: SystemScope, before: Date, limit = 5000): Promise<number> {
  return runWrite(
    scope.db,
    statement(
      sql`DELETE FROM audit_events WHERE rowid IN (SELECT rowid FROM audit_events WHERE at < ${before.toISOString()} LIMIT ${limit})`,
    ),
  )
}

/** A tenant's journal, newest first: all of it, or the entries about the users who had `userName`. */
export async function readJournal(
  scope: Pick<Scope, 'db' | 'tenantKey'>,
  query: { userName?: string; since?: Date; limit: number },
): Promise<(JournalEntry & { id: string })[]> {
  const tenantId = scope.tenantKey
  const conditions = [sql`e.tenant_id = ${tenantId}`]
  if (query.since) conditions.push(sql`e.at >= ${query.since.toISOString()}`)
  if (query.userName !== undefined) {
    // Tombstones too: "why was this person deleted?" is a question support gets.
    conditions.push(
      sql`e.resource_id IN (SELECT id FROM users WHERE tenant_id = ${tenantId} AND user_name = ${canonicalLookup(query.userName)})`,
    )
  }
  return readRows<JournalEntry & { id: string }>(
    scope.db,
    statement(sql`SELECT e.id AS id, e.at AS at, e.credential_id AS credentialId, e.request_id AS requestId, e.method AS method, e.path AS path,
               e.resource_type AS resourceType, e.resource_id AS resourceId, e.action AS action, e.outcome AS outcome, e.summary AS summary
        FROM audit_events e WHERE ${sql.join(conditions, sql` AND `)} ORDER BY e.at DESC LIMIT ${query.limit}`),
  )
}
