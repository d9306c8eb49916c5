/**
 * The journal module: the only writer of `audit_events`, one row per change, for support ("why was
 * this person deactivated?"). A change's entry is a statement of the change's own batch, so the two
 * commit together (one round trip, never one without the other).
 */
import { sql } from 'drizzle-orm'
import { readRows, runWrite, statement, type Statement } from '../d1/batch.ts'
import { summarizeChange } from '../observability/summary.ts'
import { canonicalLookup } from '../scim/resource/canonical.ts'
import type { Journal, JournalChange, JournalNote, Scope, SystemScope } from '../scope/scope.ts'
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
  /** Who acted, for people: `idp:{credential}`, `app:{key}`, `support:{operator} via {key}`, `system:{task}`. */
  actor?: string | null
  /** A failed request's scimType and detail, values redacted. */
  detail?: string | null
}

/** An entry as read back: its id, the userName or displayName of what it names, how often it happened. */
export interface ReadEntry extends JournalEntry {
  id: string
  actor: string | null
  detail: string | null
  /** The user's userName or the group's displayName, also for deleted ones; null when unknown. */
  resourceName: string | null
  repeats: number
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
  /** Who acts, as the journal names them (src/runtime/scopes.ts actorLabel). */
  actor: string
}

/** The insert of one entry, when `guard` holds (a statement of the batch of what it records). */
export function journalStatement(tenantKey: string, e: JournalEntry, guard = sql`1`): Statement {
  return statement(sql`INSERT INTO audit_events (tenant_id, id, at, credential_id, request_id, method, path, resource_type, resource_id, action, outcome, summary, actor, detail)
    SELECT ${tenantKey}, ${newId()}, ${e.at}, ${e.credentialId}, ${e.requestId}, ${e.method}, ${e.path}, ${e.resourceType}, ${e.resourceId}, ${e.action}, ${e.outcome}, ${e.summary}, ${e.actor ?? null}, ${e.detail ?? null}
    WHERE ${guard}`)
}

/** What differs between the entries of one multi-row insert. */
type EntryRow = Pick<JournalEntry, 'resourceType' | 'resourceId' | 'action' | 'outcome' | 'summary' | 'detail'>

/**
 * The insert of many entries that share their origin, in one statement with one JSON parameter (D1
 * binds at most 100 parameters a statement, and a bulk request writes hundreds of entries).
 */
export function journalRowsStatement(
  tenantKey: string,
  origin: Pick<JournalEntry, 'at' | 'credentialId' | 'requestId' | 'method' | 'path' | 'actor'>,
  rows: EntryRow[],
): Statement {
  const json = JSON.stringify(
    rows.map((r) => [newId(), r.resourceType, r.resourceId, r.action, r.outcome, r.summary, r.detail ?? null]),
  )
  return statement(sql`INSERT INTO audit_events (tenant_id, id, at, credential_id, request_id, method, path, resource_type, resource_id, action, outcome, summary, actor, detail)
    SELECT ${tenantKey}, j.value ->> 0, ${origin.at}, ${origin.credentialId}, ${origin.requestId}, ${origin.method}, ${origin.path},
      j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, ${origin.actor ?? null}, j.value ->> 6
    FROM json_each(${json}) j`)
}

/** The journal of one unit of work: hands out the entries of its changes and knows whether one committed. */
class ChangeJournal implements Journal {
  #committed = false
  /** The journal of the request an operation's journal was made for (a /Bulk request's). */
  #parent: ChangeJournal | undefined
  private readonly origin: JournalOrigin

  constructor(origin: JournalOrigin) {
    this.origin = origin
  }

  get committed(): boolean {
    return this.#committed
  }

  #commit(): void {
    this.#committed = true
    if (this.#parent) this.#parent.#commit()
  }

  /** What every entry of this unit of work says of its origin: when, who, and which request. */
  #originFields() {
    const o = this.origin
    return {
      at: new Date().toISOString(),
      credentialId: o.credentialId,
      requestId: o.requestId,
      method: o.method,
      path: o.path,
      actor: o.actor,
    }
  }

  entry(change: JournalChange): Statement {
    const o = this.origin
    const insert = journalStatement(
      o.tenantKey,
      {
        ...this.#originFields(),
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
        if (result.meta.changes === 1) this.#commit()
      },
    }
  }

  entries(changes: Omit<JournalChange, 'guard'>[]): Statement {
    const o = this.origin
    const insert = journalRowsStatement(
      o.tenantKey,
      this.#originFields(),
      changes.map((change) => ({
        resourceType: change.resourceType,
        resourceId: change.resourceId,
        action: change.action,
        outcome: o.okStatus === undefined ? 'ok' : `ok ${o.okStatus}`,
        summary: summarizeChange(o.method, change.body),
      })),
    )
    return {
      ...insert,
      settle: (result) => {
        if (result.meta.changes > 0) this.#commit()
      },
    }
  }

  notes(notes: Omit<JournalNote, 'guard'>[]): Statement {
    return journalRowsStatement(
      this.origin.tenantKey,
      this.#originFields(),
      notes.map((note) => ({
        resourceType: note.resourceType ?? null,
        resourceId: note.resourceId ?? null,
        action: note.action,
        outcome: note.outcome ?? 'ok',
        summary: note.summary ?? null,
        detail: note.detail ?? null,
      })),
    )
  }

  forOperation(origin: Pick<JournalOrigin, 'method' | 'path' | 'okStatus'>): Journal {
    const journal = new ChangeJournal({ ...this.origin, ...origin })
    journal.#parent = this
    return journal
  }

  note(note: JournalNote): Statement {
    return journalStatement(
      this.origin.tenantKey,
      {
        ...this.#originFields(),
        resourceType: note.resourceType ?? null,
        resourceId: note.resourceId ?? null,
        action: note.action,
        outcome: note.outcome ?? 'ok',
        summary: note.summary ?? null,
        detail: note.detail ?? null,
      },
      note.guard,
    )
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

/** How `readJournal` narrows and pages the journal. */
export interface JournalQuery {
  /** Entries about the users who had this userName (deleted ones too). */
  userName?: string
  /** Entries about this resource (a user's or group's id). */
  resourceId?: string
  /** An action (`create`), or a family of them (`invite` matches `invite-sent`, `invite-failed`, ...). */
  action?: string
  /** `ok` or `error` (any status), or an outcome as recorded (`error 409`). */
  outcome?: string
  since?: Date
  until?: Date
  /** A cursor from a previous page's `next`: only entries older than it. */
  before?: string
  limit: number
}

/** A page of the journal, newest first, and the cursor of the next (older) page if there is one. */
export interface JournalPage {
  entries: ReadEntry[]
  next: string | null
}

/** The cursor of an entry: its time and id, so entries with the same time page without gaps. */
function cursorOf(e: { at: string; id: string }): string {
  return `${e.at}~${e.id}`
}

/** A cursor back into its time and id, or undefined when it is not one. */
export function parseJournalCursor(text: string): { at: string; id: string } | undefined {
  const tilde = text.indexOf('~')
  if (tilde < 0) return undefined
  const at = text.slice(0, tilde)
  const id = text.slice(tilde + 1)
  return Number.isNaN(Date.parse(at)) || !id ? undefined : { at, id }
}

/** A tenant's journal, newest first, narrowed by `query`, one page of at most `limit` entries. */
export async function readJournal(scope: Pick<Scope, 'db' | 'tenantKey'>, query: JournalQuery): Promise<JournalPage> {
  const tenantId = scope.tenantKey
  const conditions = [sql`e.tenant_id = ${tenantId}`]
  if (query.since) conditions.push(sql`e.at >= ${query.since.toISOString()}`)
  if (query.until) conditions.push(sql`e.at < ${query.until.toISOString()}`)
  if (query.before) {
    const cursor = parseJournalCursor(query.before)
    if (cursor) conditions.push(sql`(e.at, e.id) < (${cursor.at}, ${cursor.id})`)
  }
  if (query.action) conditions.push(sql`(e.action = ${query.action} OR e.action LIKE ${`${query.action}-%`})`)
  if (query.outcome === 'ok' || query.outcome === 'error') conditions.push(sql`e.outcome LIKE ${`${query.outcome}%`}`)
  else if (query.outcome) conditions.push(sql`e.outcome = ${query.outcome}`)
  if (query.resourceId !== undefined) conditions.push(sql`e.resource_id = ${query.resourceId}`)
  if (query.userName !== undefined) {
    // Tombstones too: "why was this person deleted?" is a question support gets.
    conditions.push(
      sql`e.resource_id IN (SELECT id FROM users WHERE tenant_id = ${tenantId} AND user_name = ${canonicalLookup(query.userName)})`,
    )
  }
  const rows = await readRows<ReadEntry>(
    scope.db,
    statement(sql`SELECT e.id AS id, e.at AS at, e.credential_id AS credentialId, e.request_id AS requestId, e.method AS method, e.path AS path,
               e.resource_type AS resourceType, e.resource_id AS resourceId, e.action AS action, e.outcome AS outcome, e.summary AS summary,
               e.actor AS actor, e.detail AS detail, e.repeats AS repeats,
               CASE e.resource_type
                 WHEN 'User' THEN (SELECT json_extract(u.resource, '$.userName') FROM users u WHERE u.tenant_id = e.tenant_id AND u.id = e.resource_id)
                 WHEN 'Group' THEN (SELECT g.display_name FROM groups g WHERE g.tenant_id = e.tenant_id AND g.id = e.resource_id)
               END AS resourceName
        FROM audit_events e WHERE ${sql.join(conditions, sql` AND `)} ORDER BY e.at DESC, e.id DESC LIMIT ${sql.raw(String(query.limit + 1))}`),
  )
  const entries = rows.slice(0, query.limit)
  return { entries, next: rows.length > query.limit ? cursorOf(entries[entries.length - 1]!) : null }
}

/** One minute's failed authentications of one credential for one reason: the entry they add to. */
export interface AuthFailure {
  at: Date
  /** The credential id the request named (never its secret), or null when it named none. */
  credentialId: string | null
  reason: string
  requestId: string
  method: string
  path: string
}

/**
 * Counts a failed authentication in the journal: one entry per tenant, minute, credential and reason,
 * whose `repeats` grows with each further failure.
 */
export async function recordAuthFailure(scope: Pick<Scope, 'db' | 'tenantKey'>, f: AuthFailure): Promise<void> {
  const minute = f.at.toISOString().slice(0, 16)
  const credential = f.credentialId?.slice(0, 64) ?? null
  const reason = f.reason.slice(0, 200)
  const id = `auth:${minute}:${credential ?? '-'}:${reason}`
  await runWrite(
    scope.db,
    statement(sql`INSERT INTO audit_events (tenant_id, id, at, credential_id, request_id, method, path, resource_type, resource_id, action, outcome, summary, actor, detail, repeats)
      VALUES (${scope.tenantKey}, ${id}, ${f.at.toISOString()}, ${credential}, ${f.requestId}, ${f.method}, ${f.path.slice(0, 300)}, NULL, NULL,
        'auth-failed', 'error 401', ${`authentication failed: ${reason}`}, ${credential ? `idp:${credential}` : null}, ${reason}, 1)
      ON CONFLICT (tenant_id, id) DO UPDATE SET repeats = repeats + 1, request_id = excluded.request_id`),
  )
}
