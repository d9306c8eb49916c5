/**
 * The events module: the only writer of `events`. An event is a statement of its change's own batch,
 * guarded like the change, so it exists exactly when the change committed. `seq` is one more than the
 * tenant's last: D1 runs a batch as one transaction, so sequences are gap-free in commit order (the
 * cron never prunes a tenant's newest event, so the sequence never restarts).
 */
import { sql, type SQL } from 'drizzle-orm'
import { batch, readRows, runWrite, statement, type Statement } from '../d1/batch.ts'
import type { Scope, SystemScope } from '../scope/scope.ts'
import { MEMBERS_PER_EVENT, RECEIPT_TYPES, type AppEvent, type EventActor, type EventType } from '../signals/event.ts'
import { DEFAULT_RECEIPT_MINUTES } from '../tenants/document.ts'
import { journalStatement } from './journal.ts'

type EventScope = Pick<Scope, 'tenantKey' | 'tenant' | 'actor' | 'now'>

/** What a change tells the app. */
export interface EventChange {
  type: EventType
  resourceType: 'User' | 'Group'
  resourceId: string
  attributes?: string[]
}

/** The actor of a scope as events name it. */
export function eventActor(actor: Scope['actor']): EventActor {
  if (actor.kind === 'idp') return { kind: 'idp', id: actor.credentialId }
  if (actor.kind === 'app')
    return actor.operator ? { kind: 'support', id: actor.operator } : { kind: 'app', id: actor.keyId }
  if (actor.kind === 'system') return { kind: 'system', id: actor.task }
  return { kind: 'support', id: null }
}

const NEXT_SEQ = (tenantKey: string) => sql`coalesce((SELECT max(seq) FROM events WHERE tenant_id = ${tenantKey}), 0)`

/** A fresh event id in SQL, for statements that write several events. */
const SQL_EVENT_ID = sql`'evt_' || lower(hex(randomblob(12)))`

function newEventId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return `evt_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** The event of a change, written when `guard` holds. */
export function eventStatement(scope: EventScope, change: EventChange, guard: SQL = sql`1`): Statement {
  const at = scope.now()
  const actor = eventActor(scope.actor)
  const minutes = scope.tenant.settings.receiptMinutes ?? DEFAULT_RECEIPT_MINUTES
  const due = RECEIPT_TYPES.has(change.type) ? new Date(at.getTime() + minutes * 60_000).toISOString() : null
  const data = change.attributes?.length ? JSON.stringify({ attributes: change.attributes }) : null
  return statement(sql`INSERT INTO events (tenant_id, seq, id, at, type, actor_kind, actor_id, resource_type, resource_id, data, receipt_due_at)
    SELECT ${scope.tenantKey}, ${NEXT_SEQ(scope.tenantKey)} + 1, ${newEventId()}, ${at.toISOString()}, ${change.type},
      ${actor.kind}, ${actor.id}, ${change.resourceType}, ${change.resourceId}, ${data}, ${due}
    WHERE ${guard}`)
}

/**
 * The events of many changes in one statement with one JSON parameter (a bulk request's creates), in
 * the order given, with consecutive sequence numbers.
 */
export function eventsStatement(scope: EventScope, changes: EventChange[]): Statement {
  const at = scope.now()
  const actor = eventActor(scope.actor)
  const minutes = scope.tenant.settings.receiptMinutes ?? DEFAULT_RECEIPT_MINUTES
  const dueAt = new Date(at.getTime() + minutes * 60_000).toISOString()
  const json = JSON.stringify(
    changes.map((c) => [
      newEventId(),
      c.type,
      c.resourceType,
      c.resourceId,
      c.attributes?.length ? JSON.stringify({ attributes: c.attributes }) : null,
      RECEIPT_TYPES.has(c.type) ? dueAt : null,
    ]),
  )
  return statement(sql`INSERT INTO events (tenant_id, seq, id, at, type, actor_kind, actor_id, resource_type, resource_id, data, receipt_due_at)
    SELECT ${scope.tenantKey}, base.n + j.key + 1, j.value ->> 0, ${at.toISOString()}, j.value ->> 1, ${actor.kind}, ${actor.id},
      j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5
    FROM (SELECT ${NEXT_SEQ(scope.tenantKey)} AS n) base, json_each(${json}) j
    ORDER BY j.key`)
}

/**
 * `group.members_added` / `group.members_removed` events for the member ids `ids` selects (a query of
 * one column `value`), MEMBERS_PER_EVENT ids each. Placed before the membership statements, so `ids`
 * sees the members as they were.
 */
export function memberEventsStatement(
  scope: EventScope,
  change: { type: 'group.members_added' | 'group.members_removed'; groupId: string; ids: SQL },
  guard: SQL = sql`1`,
): Statement {
  const actor = eventActor(scope.actor)
  return statement(sql`INSERT INTO events (tenant_id, seq, id, at, type, actor_kind, actor_id, resource_type, resource_id, data)
    SELECT ${scope.tenantKey}, base.n + c.chunk + 1, ${SQL_EVENT_ID}, ${scope.now().toISOString()}, ${change.type},
      ${actor.kind}, ${actor.id}, 'Group', ${change.groupId}, '{"members":' || c.ids || '}'
    FROM (SELECT ${NEXT_SEQ(scope.tenantKey)} AS n) base,
      (SELECT chunk, json_group_array(value) AS ids
        FROM (SELECT value, (row_number() OVER (ORDER BY value) - 1) / ${sql.raw(String(MEMBERS_PER_EVENT))} AS chunk FROM (${change.ids}))
        GROUP BY chunk) c
    WHERE ${guard}
    ORDER BY c.chunk`)
}

interface EventRow {
  seq: number
  id: string
  at: string
  type: EventType
  actorKind: EventActor['kind']
  actorId: string | null
  resourceType: 'User' | 'Group'
  resourceId: string
  data: string | null
  receiptDueAt: string | null
  confirmedAt: string | null
  confirmedVia: string | null
}

const EVENT_COLUMNS = sql`seq, id, at, type, actor_kind AS actorKind, actor_id AS actorId, resource_type AS resourceType,
  resource_id AS resourceId, data, receipt_due_at AS receiptDueAt, confirmed_at AS confirmedAt, confirmed_via AS confirmedVia`

/** An event row as the app sees it; `now` decides whether an open receipt is overdue. */
export function toAppEvent(tenantId: string, row: EventRow, now: Date): AppEvent {
  const data = row.data ? (JSON.parse(row.data) as { attributes?: string[]; members?: string[] }) : {}
  return {
    id: row.id,
    seq: row.seq,
    type: row.type,
    time: row.at,
    tenantId,
    actor: { kind: row.actorKind, id: row.actorId },
    resource: { type: row.resourceType, id: row.resourceId },
    ...(data.attributes ? { attributes: data.attributes } : {}),
    ...(data.members ? { members: data.members } : {}),
    ...(row.receiptDueAt
      ? {
          receipt: {
            dueAt: row.receiptDueAt,
            confirmedAt: row.confirmedAt,
            via: row.confirmedVia,
            overdue: (row.confirmedAt ?? now.toISOString()) > row.receiptDueAt,
          },
        }
      : {}),
  }
}

/** The tenant's events after `after`, in sequence order. */
export async function readEvents(
  scope: Pick<Scope, 'db' | 'tenantKey' | 'tenant' | 'now'>,
  query: { after: number; limit: number },
): Promise<AppEvent[]> {
  const rows = await readRows<EventRow>(
    scope.db,
    statement(sql`SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = ${scope.tenantKey} AND seq > ${query.after}
      ORDER BY seq LIMIT ${query.limit}`),
  )
  const now = scope.now()
  return rows.map((row) => toAppEvent(scope.tenant.id, row, now))
}

/** The events with these sequence numbers. */
export async function readEventsBySeq(
  scope: Pick<Scope, 'db' | 'tenantKey' | 'tenant' | 'now'>,
  seqs: number[],
): Promise<Map<number, AppEvent>> {
  const out = new Map<number, AppEvent>()
  if (!seqs.length) return out
  const rows = await readRows<EventRow>(
    scope.db,
    statement(sql`SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = ${scope.tenantKey}
      AND seq IN (SELECT value FROM json_each(${JSON.stringify(seqs)}))`),
  )
  const now = scope.now()
  for (const row of rows) out.set(row.seq, toAppEvent(scope.tenant.id, row, now))
  return out
}

/** One event by id, or undefined. */
export async function readEvent(
  scope: Pick<Scope, 'db' | 'tenantKey' | 'tenant' | 'now'>,
  id: string,
): Promise<AppEvent | undefined> {
  const [row] = await readRows<EventRow>(
    scope.db,
    statement(sql`SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = ${scope.tenantKey} AND id = ${id}`),
  )
  return row ? toAppEvent(scope.tenant.id, row, scope.now()) : undefined
}

/** The tenant's last event seq (0 before any). */
export async function lastEventSeq(scope: Pick<Scope, 'db' | 'tenantKey'>): Promise<number> {
  const [row] = await readRows<{ n: number }>(scope.db, statement(sql`SELECT ${NEXT_SEQ(scope.tenantKey)} AS n`))
  return row?.n ?? 0
}

function describeDelay(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.round(ms / 60_000)} min`
}

/** The journal's words for a receipt: "user.deactivated at T, app confirmed at T' (+Δ, via)". */
function receiptSummary(event: AppEvent, confirmedAt: Date, via: string): string {
  const delay = confirmedAt.getTime() - Date.parse(event.time)
  const late = event.receipt && confirmedAt.toISOString() > event.receipt.dueAt ? ' (late)' : ''
  return `${event.type} at ${event.time}, app confirmed at ${confirmedAt.toISOString()} (+${describeDelay(delay)}${late}) via ${via}`
}

/**
 * The app's receipt of a deactivation or deletion: sets `confirmed_at` once and journals it in the same
 * batch. Returns false when it was confirmed before (the first receipt stands).
 */
export async function confirmReceipt(
  scope: Pick<Scope, 'db' | 'tenantKey' | 'requestId' | 'now'>,
  event: AppEvent,
  via: string,
): Promise<boolean> {
  const at = scope.now()
  const b = batch(scope.db)
  const confirmed = b.changes(
    statement(sql`UPDATE events SET confirmed_at = ${at.toISOString()}, confirmed_via = ${via}
      WHERE tenant_id = ${scope.tenantKey} AND seq = ${event.seq} AND receipt_due_at IS NOT NULL AND confirmed_at IS NULL`),
  )
  b.add(
    journalStatement(
      scope.tenantKey,
      {
        at: at.toISOString(),
        credentialId: via,
        requestId: scope.requestId,
        method: 'RECEIPT',
        path: event.id,
        resourceType: event.resource.type,
        resourceId: event.resource.id,
        action: 'confirm',
        outcome: 'ok',
        summary: receiptSummary(event, at, via),
      },
      sql`changes() = 1`,
    ),
  )
  return (await b.run()).get(confirmed) === 1
}

/**
 * Receipts past due and not yet flagged, across tenants: each is marked and journaled ("not confirmed
 * within N min"), so `log` and the feed show it. Returns how many were flagged.
 */
export async function flagOverdueReceipts(scope: SystemScope, limit = 200): Promise<number> {
  const now = scope.now().toISOString()
  const due = await readRows<{
    tenantKey: string
    seq: number
    id: string
    at: string
    type: string
    resourceId: string
    dueAt: string
  }>(
    scope.db,
    statement(sql`SELECT tenant_id AS tenantKey, seq, id, at, type, resource_id AS resourceId, receipt_due_at AS dueAt FROM events
      WHERE receipt_due_at < ${now} AND confirmed_at IS NULL AND overdue_at IS NULL LIMIT ${limit}`),
  )
  if (!due.length) return 0
  const b = batch(scope.db)
  for (const e of due) {
    b.add(
      statement(
        sql`UPDATE events SET overdue_at = ${now} WHERE tenant_id = ${e.tenantKey} AND seq = ${e.seq} AND overdue_at IS NULL`,
      ),
    )
    b.add(
      journalStatement(
        e.tenantKey,
        {
          at: now,
          credentialId: null,
          requestId: scope.requestId,
          method: 'RECEIPT',
          path: e.id,
          resourceType: 'User',
          resourceId: e.resourceId,
          action: 'receipt-overdue',
          outcome: 'overdue',
          summary: `${e.type} at ${e.at}: the app has not confirmed it (due ${e.dueAt})`,
        },
        sql`changes() = 1`,
      ),
    )
  }
  await b.run()
  return due.length
}

/** Deletes events older than `before` across tenants, never a tenant's newest (its sequence goes on from it). */
export async function pruneEvents(scope: SystemScope, before: Date, limit = 5000): Promise<number> {
  return runWrite(
    scope.db,
    statement(sql`DELETE FROM events WHERE rowid IN (SELECT e.rowid FROM events e WHERE e.at < ${before.toISOString()}
      AND e.seq < (SELECT max(seq) FROM events m WHERE m.tenant_id = e.tenant_id) LIMIT ${limit})`),
  )
}
