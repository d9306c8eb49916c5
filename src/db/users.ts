/** Tenant-scoped queries on users (shared/DESIGN.md "Data"). Every function takes the tenant id first after db. */
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm'
import type { UserState } from '../lifecycle/state.ts'
import { PreconditionFailed, Uniqueness } from '../scim/errors.ts'
import type { Json } from '../scim/resource/values.ts'
import { runBatch, statement, type Statement } from './batch.ts'
import type { Db } from './client.ts'
import type { PageSource } from './pages.ts'
import { isUniqueViolation } from './errors.ts'
import type { Audit } from './journal.ts'
import { tenantCounts, userEmails, users } from './schema.ts'
import { userColumns, userEmails as emailRows } from './user-columns.ts'

/** A live user as stored. */
export interface UserRecord {
  id: string
  seq: number
  resource: Json
  state: UserState
  stateBeforeDeactivation: UserState | null
  source: 'scim' | 'app'
  version: number
  createdAt: string
  updatedAt: string
}

/** What a write stores: the normalised resource and the lifecycle state that goes with it. */
export interface UserWrite {
  resource: Json
  state: UserState
  stateBeforeDeactivation: UserState | null
}

type UserRow = typeof users.$inferSelect

/** Maps a users row to a record. */
export function toUserRecord(row: Pick<UserRow, 'id' | 'seq' | 'resource' | 'state' | 'stateBeforeDeactivation' | 'source' | 'version' | 'createdAt' | 'updatedAt'>): UserRecord {
  return {
    id: row.id,
    seq: row.seq,
    resource: JSON.parse(row.resource) as Json,
    state: row.state as UserState,
    stateBeforeDeactivation: row.stateBeforeDeactivation as UserState | null,
    source: row.source as 'scim' | 'app',
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

/** The columns a UserRecord is made of: reads select only these, not the filter columns. */
const recordFields = {
  id: users.id,
  seq: users.seq,
  resource: users.resource,
  state: users.state,
  stateBeforeDeactivation: users.stateBeforeDeactivation,
  source: users.source,
  version: users.version,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
}

/** The same columns as SQL text, named as UserRecord names them: the last statement of a write's batch reads them back. */
const RECORD_COLUMNS = sql.raw(
  'id, seq, resource, state, state_before_deactivation AS stateBeforeDeactivation, source, version, created_at AS createdAt, updated_at AS updatedAt',
)

/** Reads the live user back at the end of the batch that wrote it, so a write is one round trip. */
function readRecord(tenantId: string, id: string): Statement {
  return statement(sql`SELECT ${RECORD_COLUMNS} FROM users WHERE tenant_id = ${tenantId} AND id = ${id} AND deleted_at IS NULL`)
}

function recordOf(result: D1Result): UserRecord | undefined {
  const row = result.results[0] as Parameters<typeof toUserRecord>[0] | undefined
  return row ? toUserRecord(row) : undefined
}

/**
 * The read of one live user, built once per drizzle handle and reused: it is the hottest query (every
 * GET, PUT and PATCH of a user), and building drizzle SQL costs more CPU than running it.
 */
const getUserQueries = new WeakMap<Db, ReturnType<typeof buildGetUser>>()

function buildGetUser(db: Db) {
  return db
    .select(recordFields)
    .from(users)
    .where(and(eq(users.tenantId, sql.placeholder('tenantId')), eq(users.id, sql.placeholder('id')), isNull(users.deletedAt)))
    .prepare()
}

/** The live user with this id, or undefined (tombstones are not returned). */
export async function getUser(db: Db, tenantId: string, id: string): Promise<UserRecord | undefined> {
  let query = getUserQueries.get(db)
  if (!query) {
    query = buildGetUser(db)
    getUserQueries.set(db, query)
  }
  const row = await query.get({ tenantId, id })
  return row ? toUserRecord(row) : undefined
}

function uniquenessError(resource: Json): Uniqueness {
  return new Uniqueness(`userName "${String(resource.userName)}" is already in use in this tenant (userName is unique, case-insensitively)`)
}

/**
 * Creates a user in one batch with its emails and the kept count; `extra` statements (an invite)
 * join the same batch. A taken userName is 409 uniqueness, decided by the unique index, so races are safe.
 */
export async function createUser(
  db: Db,
  tenantId: string,
  input: UserWrite & { id: string; source: 'scim' | 'app' },
  now: Date,
  extra: Statement[] = [],
  audit?: Audit,
): Promise<UserRecord> {
  const at = now.toISOString()
  const statements: Statement[] = [
    db.insert(users).values({
      tenantId,
      id: input.id,
      seq: sql`(SELECT coalesce(max(${users.seq}), 0) + 1 FROM ${users} WHERE ${users.tenantId} = ${tenantId})`,
      ...userColumns(input.resource),
      state: input.state,
      stateBeforeDeactivation: input.stateBeforeDeactivation,
      source: input.source,
      version: 1,
      createdAt: at,
      updatedAt: at,
      resource: JSON.stringify(input.resource),
    }),
    ...emailInserts(db, tenantId, input.id, input.resource),
    db
      .insert(tenantCounts)
      .values({ tenantId, users: 1 })
      .onConflictDoUpdate({ target: tenantCounts.tenantId, set: { users: sql`${tenantCounts.users} + 1` } }),
    ...extra,
    ...(audit ? [audit(input.id)] : []),
  ]
  let results: D1Result[]
  try {
    results = await runBatch(db, [...statements, readRecord(tenantId, input.id)])
  } catch (error) {
    if (isUniqueViolation(error, 'users.')) throw uniquenessError(input.resource)
    throw error
  }
  return recordOf(results[results.length - 1]!)!
}

function emailInserts(db: Db, tenantId: string, userId: string, resource: Json): Statement[] {
  const rows = emailRows(resource).map((e) => ({ tenantId, userId, ...e }))
  const out: Statement[] = []
  // 5 parameters a row: 15 rows a statement stays well under D1's 100.
  for (let i = 0; i < rows.length; i += 15) out.push(db.insert(userEmails).values(rows.slice(i, i + 15)).onConflictDoNothing())
  return out
}

/**
 * Replaces a user's resource if its version is still `expectedVersion` (optimistic concurrency,
 * RFC 7644 §3.14). All statements of the batch are guarded by that version, so a writer that lost
 * the race changes nothing and gets 412.
 */
export async function updateUser(
  db: Db,
  tenantId: string,
  id: string,
  expectedVersion: number,
  next: UserWrite,
  now: Date,
  extra: Statement[] = [],
  audit?: Audit,
): Promise<UserRecord> {
  const guard = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.tenantId} = ${tenantId} AND ${users.id} = ${id} AND ${users.version} = ${expectedVersion} AND ${users.deletedAt} IS NULL)`
  // Everything before the update is guarded by the version it checks, the journal entry included.
  const emailStatements: Statement[] = [
    ...(audit ? [audit(id, guard)] : []),
    db.delete(userEmails).where(and(eq(userEmails.tenantId, tenantId), eq(userEmails.userId, id), guard)),
  ]
  const rows = emailRows(next.resource)
  for (let i = 0; i < rows.length; i += 10) {
    const values = sql.join(
      rows.slice(i, i + 10).map((e) => sql`(${tenantId}, ${id}, ${e.value}, ${e.type}, ${e.primary ? 1 : 0})`),
      sql`, `,
    )
    emailStatements.push(
      db.run(sql`INSERT OR IGNORE INTO ${userEmails} (tenant_id, user_id, value, type, is_primary) SELECT * FROM (VALUES ${values}) WHERE ${guard}`),
    )
  }
  const update = db
    .update(users)
    .set({
      ...userColumns(next.resource),
      state: next.state,
      stateBeforeDeactivation: next.stateBeforeDeactivation,
      version: expectedVersion + 1,
      updatedAt: now.toISOString(),
      resource: JSON.stringify(next.resource),
    })
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id), eq(users.version, expectedVersion), isNull(users.deletedAt)))
  let results: D1Result[]
  try {
    results = await runBatch(db, [...emailStatements, update, ...extra, readRecord(tenantId, id)])
  } catch (error) {
    if (isUniqueViolation(error, 'users.')) throw uniquenessError(next.resource)
    throw error
  }
  const changes = results[emailStatements.length]!.meta.changes
  const updated = recordOf(results[results.length - 1]!)
  if (changes !== 1 || !updated) throw new PreconditionFailed(`User ${id} was changed by another request; read it again and retry`)
  return updated
}

/**
 * Makes a user a tombstone (shared/DESIGN.md "Lifecycle"): SCIM answers 404 from then on, the userName
 * is free again, memberships and email index rows go, the row stays for audit. Returns false if absent.
 */
export async function deleteUser(
  db: Db,
  tenantId: string,
  id: string,
  now: Date,
  expectedVersion?: number,
  /** Statements of the same change (voiding invites), built with the guard so they apply only with the delete. */
  extra: (guard: SQL) => Statement[] = () => [],
  audit?: Audit,
): Promise<boolean> {
  const at = now.toISOString()
  const live = and(eq(users.tenantId, tenantId), eq(users.id, id), isNull(users.deletedAt), expectedVersion === undefined ? undefined : eq(users.version, expectedVersion))
  const guard = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${live})`
  const results = await runBatch(db, [
    db.delete(userEmails).where(and(eq(userEmails.tenantId, tenantId), eq(userEmails.userId, id), guard)),
    // The groups lose a member: their count, version (ETag) and lastModified move with it.
    db.run(sql`UPDATE groups SET member_count = member_count - 1, version = version + 1, updated_at = ${at} WHERE tenant_id = ${tenantId} AND id IN (SELECT group_id FROM group_members WHERE tenant_id = ${tenantId} AND member_id = ${id}) AND ${guard}`),
    db.run(sql`DELETE FROM group_members WHERE tenant_id = ${tenantId} AND member_id = ${id} AND ${guard}`),
    db.run(sql`UPDATE tenant_counts SET users = users - 1 WHERE tenant_id = ${tenantId} AND ${guard}`),
    ...extra(guard),
    ...(audit ? [audit(id, guard)] : []),
    db
      .update(users)
      .set({ deletedAt: at, updatedAt: at, state: 'deleted', version: sql`${users.version} + 1` })
      .where(live),
  ])
  return results[results.length - 1]!.meta.changes === 1
}

/** Pages of live users in `seq` order (or `orderBy`, then `seq`), as SQL for src/db/pages.ts. */
export function userPages(tenantId: string, where?: SQL, orderBy: SQL[] = []): PageSource<UserRecord> {
  // SQL text around the filter: it runs for every list and lookup, and drizzle's query builder costs
  // more CPU than the query (the filter and sort keep their own SQL).
  const scope = sql`tenant_id = ${tenantId} AND deleted_at IS NULL ${where ? sql`AND (${where})` : sql``}`
  return {
    count: where ? sql`(SELECT count(*) FROM users WHERE ${scope})` : sql`(SELECT coalesce((SELECT users FROM tenant_counts WHERE tenant_id = ${tenantId}), 0))`,
    rows: ({ after, offset, limit }) =>
      sql`SELECT ${RECORD_COLUMNS} FROM users WHERE ${scope} ${after ? sql`AND seq > ${after}` : sql``}
        ORDER BY ${sql.join([...orderBy, sql`seq`], sql`, `)} LIMIT ${limit} OFFSET ${offset}`,
    record: (row) => toUserRecord(row as Parameters<typeof toUserRecord>[0]),
  }
}
