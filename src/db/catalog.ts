/**
 * The catalogue module: the only writer of `catalog_entries`, the app's roles and entitlements and
 * the tenant's own seat row (type and id `*`). Seats move in the batch of the user write that moves
 * them, under its guard: `moveSeats` by the net change between the resource read and the one
 * written, `releaseSeats` by what a deleted row held; the CHECK on `seats_used <= seat_limit` then
 * fails the whole batch when a write would pass a limit.
 */
import { sql, type SQL } from 'drizzle-orm'
import { batch, readRows, statement, type Statement } from '../d1/batch.ts'
import { ConstraintViolation } from '../d1/errors.ts'
import { isObject, type Json } from '../scim/resource/values.ts'
import type { Scope } from '../scope/scope.ts'
import type { PageSource } from './pages.ts'

type Tenant = Pick<Scope, 'db' | 'tenantKey'>

/** The type and id of the tenant's own seat row. */
export const TENANT_SEATS = '*'

/** The name of the CHECK that keeps seats within their limit (src/db/schema.ts). */
const SEAT_CHECK = 'catalog_seats_within_limit'

/** A catalogue entry as stored. */
export interface CatalogEntry {
  type: string
  id: string
  seq: number
  resource: { displayName: string; description?: string }
  seatLimit: number | null
  seatsUsed: number
  createdAt: string
  updatedAt: string
}

const COLUMNS = sql.raw(
  'type, id, seq, resource, seat_limit AS seatLimit, seats_used AS seatsUsed, created_at AS createdAt, updated_at AS updatedAt',
)

function toEntry(row: Record<string, unknown>): CatalogEntry {
  return {
    type: row.type as string,
    id: row.id as string,
    seq: row.seq as number,
    resource: JSON.parse(row.resource as string) as CatalogEntry['resource'],
    seatLimit: (row.seatLimit as number | null) ?? null,
    seatsUsed: row.seatsUsed as number,
    createdAt: row.createdAt as string,
    updatedAt: row.updatedAt as string,
  }
}

/**
 * True when the resource of user row `u` names the entry whose type and id are the SQL values `type`
 * and `id`: `roles[].value` names a Role, `entitlements[]` (value and type) every other kind, and
 * every user names the tenant's seat. The same rule as holdingsOf below.
 */
function names(type: SQL, id: SQL): SQL {
  return sql`(${type} = ${TENANT_SEATS}
    OR (${type} = 'Role' AND EXISTS (SELECT 1 FROM json_each(u.resource, '$.roles') r WHERE r.value ->> '$.value' = ${id}))
    OR (${type} NOT IN ('Role', ${TENANT_SEATS}) AND EXISTS (SELECT 1 FROM json_each(u.resource, '$.entitlements') x
          WHERE x.value ->> '$.value' = ${id} AND x.value ->> '$.type' = ${type})))`
}

/** True when live, active user row `u` holds a seat of the entry: only active users use seats. */
function heldBy(type: SQL, id: SQL): SQL {
  return sql`u.deleted_at IS NULL AND u.active = 1 AND ${names(type, id)}`
}

/** The catalogue types of the tenant (Role, License, ...), sorted; the tenant's seat row is not one. */
export async function catalogTypes(scope: Tenant): Promise<string[]> {
  const rows = await readRows<{ type: string }>(
    scope.db,
    statement(
      sql`SELECT DISTINCT type FROM catalog_entries WHERE tenant_id = ${scope.tenantKey} AND type <> ${TENANT_SEATS} ORDER BY type`,
    ),
  )
  return rows.map((r) => r.type)
}

/** Every entry of the tenant (the catalogue is small: what an app sells and grants), seat row included. */
export async function allEntries(scope: Tenant): Promise<CatalogEntry[]> {
  const rows = await readRows<Record<string, unknown>>(
    scope.db,
    statement(sql`SELECT ${COLUMNS} FROM catalog_entries WHERE tenant_id = ${scope.tenantKey} ORDER BY type, seq`),
  )
  return rows.map(toEntry)
}

/** One entry, or undefined. */
export async function getEntry(scope: Tenant, type: string, id: string): Promise<CatalogEntry | undefined> {
  const rows = await readRows<Record<string, unknown>>(
    scope.db,
    statement(
      sql`SELECT ${COLUMNS} FROM catalog_entries WHERE tenant_id = ${scope.tenantKey} AND type = ${type} AND id = ${id}`,
    ),
  )
  return rows[0] ? toEntry(rows[0]) : undefined
}

/** Why putEntry refused: the limit asked for is below the seats in use. */
export class SeatLimitBelowUse extends Error {}

/**
 * Adds an entry, or changes its name, description and limit. A new entry starts with the seats its
 * current holders use. A limit below the seats in use is refused (SeatLimitBelowUse), nothing changed.
 */
export async function putEntry(
  scope: Tenant & Pick<Scope, 'now'>,
  entry: { type: string; id: string; resource: CatalogEntry['resource']; canonical: string; seatLimit: number | null },
  joined: Statement[] = [],
): Promise<CatalogEntry> {
  const at = scope.now().toISOString()
  const tenantId = scope.tenantKey
  const resource = JSON.stringify(entry.resource)
  const b = batch(scope.db)
  try {
    b.add(
      statement(sql`INSERT INTO catalog_entries
          (tenant_id, type, id, seq, display_name, seat_limit, seats_used, created_at, updated_at, resource)
        SELECT ${tenantId}, ${entry.type}, ${entry.id},
          (SELECT coalesce(max(seq), 0) + 1 FROM catalog_entries WHERE tenant_id = ${tenantId}),
          ${entry.canonical}, ${entry.seatLimit},
          (SELECT count(*) FROM users u WHERE u.tenant_id = ${tenantId} AND ${heldBy(sql`${entry.type}`, sql`${entry.id}`)}),
          ${at}, ${at}, ${resource}
        WHERE true
        ON CONFLICT (tenant_id, type, id) DO UPDATE SET display_name = excluded.display_name,
          seat_limit = excluded.seat_limit, resource = excluded.resource, updated_at = excluded.updated_at`),
    )
    b.addAll(joined)
    await b.run()
  } catch (error) {
    if (isSeatViolation(error)) throw new SeatLimitBelowUse()
    throw error
  }
  return (await getEntry(scope, entry.type, entry.id))!
}

/** The number of live users (active or not) whose resource names the entry: they would hold an unknown grant. */
export async function holderCount(scope: Tenant, type: string, id: string): Promise<number> {
  const rows = await readRows<{ n: number }>(
    scope.db,
    statement(sql`SELECT count(*) AS n FROM users u WHERE u.tenant_id = ${scope.tenantKey} AND u.deleted_at IS NULL
      AND ${names(sql`${type}`, sql`${id}`)}`),
  )
  return rows[0]?.n ?? 0
}

/** Removes an entry, with `joined` statements (the journal) applied only if it existed; false when there was none. */
export async function removeEntry(
  scope: Tenant,
  type: string,
  id: string,
  joined: (guard: SQL) => Statement[] = () => [],
): Promise<boolean> {
  const where = sql`tenant_id = ${scope.tenantKey} AND type = ${type} AND id = ${id}`
  const b = batch(scope.db)
  b.addAll(joined(sql`EXISTS (SELECT 1 FROM catalog_entries WHERE ${where})`))
  const removed = b.changes(statement(sql`DELETE FROM catalog_entries WHERE ${where}`))
  return (await b.run()).get(removed) === 1
}

/** Pages of one type's entries in `seq` order (or `orderBy`, then `seq`), as SQL for src/db/pages.ts. */
export function catalogPages(
  scope: Pick<Scope, 'tenantKey'>,
  type: string,
  where?: SQL,
  orderBy: SQL[] = [],
): PageSource<CatalogEntry> {
  const rowsIn = sql`tenant_id = ${scope.tenantKey} AND type = ${type} ${where ? sql`AND (${where})` : sql``}`
  return {
    count: sql`(SELECT count(*) FROM catalog_entries WHERE ${rowsIn})`,
    rows: ({ after, offset, limit }) =>
      sql`SELECT ${COLUMNS} FROM catalog_entries WHERE ${rowsIn} ${after ? sql`AND seq > ${after}` : sql``}
        ORDER BY ${sql.join([...orderBy, sql`seq`], sql`, `)} LIMIT ${limit} OFFSET ${offset}`,
    record: (row) => toEntry(row as Record<string, unknown>),
  }
}

/**
 * Gives back the seats the stored rows of `userIds` hold, when `guard` holds: for a delete, whose row
 * is not pinned to the version read, so the row itself says what it held.
 */
export function releaseSeats(scope: Pick<Scope, 'tenantKey'>, userIds: string[], guard: SQL = sql`1`): Statement {
  const tenantId = scope.tenantKey
  const ids = JSON.stringify(userIds)
  const holders = sql`FROM users u WHERE u.tenant_id = ${tenantId} AND u.id IN (SELECT value FROM json_each(${ids}))
    AND ${heldBy(sql`catalog_entries.type`, sql`catalog_entries.id`)}`
  return statement(sql`UPDATE catalog_entries SET seats_used = seats_used - (SELECT count(*) ${holders})
    WHERE tenant_id = ${tenantId} AND ${guard} AND EXISTS (SELECT 1 ${holders})`)
}

/** Seat moves: `type:id` -> how many seats it gains (negative: gives back). */
export type SeatDeltas = Map<string, number>

/**
 * The seats a resource holds, as `type:id` keys: the tenant's seat and each granted entry, once each,
 * for an active user; none for an inactive one. The same rule as `names` and `heldBy` above.
 */
export function holdingsOf(resource: Json): string[] {
  if (resource.active !== true) return []
  const keys = new Set([`${TENANT_SEATS}:${TENANT_SEATS}`])
  const list = (name: string) => {
    const v = resource[name]
    return Array.isArray(v) ? v.filter((e): e is Json => isObject(e) && typeof e.value === 'string') : []
  }
  for (const role of list('roles')) keys.add(`Role:${role.value}`)
  for (const e of list('entitlements')) if (typeof e.type === 'string') keys.add(`${e.type}:${e.value}`)
  return [...keys]
}

/** The seat moves of writes that turn the `before` resources' holdings into the `after` ones. */
export function seatDeltas(before: Json[], after: Json[]): SeatDeltas {
  const deltas: SeatDeltas = new Map()
  const add = (resources: Json[], n: number) => {
    for (const r of resources) for (const key of holdingsOf(r)) deltas.set(key, (deltas.get(key) ?? 0) + n)
  }
  add(before, -1)
  add(after, 1)
  for (const [key, n] of deltas) if (n === 0) deltas.delete(key)
  return deltas
}

/**
 * Moves seats by `deltas` when `guard` holds: one statement for any number of entries and users, or
 * none when nothing moves. An entry pushed past its limit fails the batch (isSeatViolation). Each
 * entry moves by its net delta, so a write that keeps a grant never counts it twice.
 */
export function moveSeats(scope: Pick<Scope, 'tenantKey'>, deltas: SeatDeltas, guard: SQL = sql`1`): Statement[] {
  if (!deltas.size) return []
  const moves = JSON.stringify(Object.fromEntries(deltas))
  return [
    statement(sql`UPDATE catalog_entries SET seats_used = seats_used
        + (SELECT j.value FROM json_each(${moves}) j WHERE j.key = catalog_entries.type || ':' || catalog_entries.id)
      WHERE tenant_id = ${scope.tenantKey} AND ${guard}
        AND type || ':' || id IN (SELECT key FROM json_each(${moves}))`),
  ]
}

/** True when a write failed because it would pass a seat limit (nothing of its batch was written). */
export function isSeatViolation(error: unknown): boolean {
  return error instanceof ConstraintViolation && error.kind === 'check' && error.columns[0] === SEAT_CHECK
}

/** The entries at their limit among `keys` (`type:id`): what a refused write ran into. */
export async function fullEntries(scope: Tenant, keys: string[]): Promise<CatalogEntry[]> {
  const rows = await readRows<Record<string, unknown>>(
    scope.db,
    statement(sql`SELECT ${COLUMNS} FROM catalog_entries WHERE tenant_id = ${scope.tenantKey}
      AND type || ':' || id IN (SELECT value FROM json_each(${JSON.stringify(keys)}))
      AND seat_limit IS NOT NULL AND seats_used >= seat_limit ORDER BY type = ${TENANT_SEATS}, type, id`),
  )
  return rows.map(toEntry)
}
