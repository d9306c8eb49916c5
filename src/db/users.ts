/**
 * The users module: the only writer of `users` and `user_emails`. Every function takes the scope first
 * and reads or writes that tenant's rows only. A write is one batch that ends with a read of what it
 * wrote, so a POST, PUT or PATCH is one round trip after the read it starts from.
 */
import { findCollisions, type Collision } from './collisions.ts'
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm'
import { batch, d1Call, readRows, statement, type Statement } from '../d1/batch.ts'
import type { Db } from '../d1/client.ts'
import { ConstraintViolation } from '../d1/errors.ts'
import { isSeatViolation } from './catalog.ts'
import { Uniqueness } from '../scim/errors.ts'
import { canonicalLookup } from '../scim/resource/canonical.ts'
import type { Json } from '../scim/resource/values.ts'
import type { Scope } from '../scope/scope.ts'
import { expectViolation, violatedIndex } from './constraints.ts'
import { countStatement, keptCount } from './counts.ts'
import type { PageSource } from './pages.ts'
import { userEmails, users, type UserState } from './schema.ts'
import { attributeRows, userColumns, userEmails as emailRows } from './user-columns.ts'
import { declaredSchema } from '../scim/schemas/extension.ts'
import { readsDeclaredIndex } from './filter-sql.ts'

export type { UserState }

/** The part of a scope the users module reads: the tenant's database and id. */
type Tenant = Pick<Scope, 'db' | 'tenantKey'>

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

/** Who the app asks about: a userName or an email address (both case-insensitive). */
export type Who = { userName: string } | { email: string }

/** Statements that join a user write, built with its guard: they apply exactly when the write does. */
export type Joined = (guard: SQL) => Statement[]

/** Maps a row of RECORD_COLUMNS to a record. */
function toUserRecord(row: Record<string, unknown>): UserRecord {
  return {
    id: row.id as string,
    seq: row.seq as number,
    resource: JSON.parse(row.resource as string) as Json,
    state: row.state as UserState,
    stateBeforeDeactivation: row.stateBeforeDeactivation as UserState | null,
    source: row.source as 'scim' | 'app',
    version: row.version as number,
    createdAt: row.createdAt as string,
    updatedAt: row.updatedAt as string,
  }
}

/** The columns a UserRecord is made of, named as UserRecord names them. */
const RECORD_COLUMNS = sql.raw(
  'id, seq, resource, state, state_before_deactivation AS stateBeforeDeactivation, source, version, created_at AS createdAt, updated_at AS updatedAt',
)

/** The read of one live user, as a statement (the last one of a write's batch reads what it wrote). */
function readRecord(tenantId: string, id: string): Statement {
  return statement(
    sql`SELECT ${RECORD_COLUMNS} FROM users WHERE tenant_id = ${tenantId} AND id = ${id} AND deleted_at IS NULL`,
  )
}

/**
 * The read of one live user, built once per drizzle handle and reused: it is the hottest query (every
 * GET, PUT and PATCH of a user), and building drizzle SQL costs more CPU than running it.
 */
const getUserQueries = new WeakMap<Db, ReturnType<typeof buildGetUser>>()

function buildGetUser(db: Db) {
  return db
    .select({
      id: users.id,
      seq: users.seq,
      resource: users.resource,
      state: users.state,
      stateBeforeDeactivation: users.stateBeforeDeactivation,
      source: users.source,
      version: users.version,
      createdAt: users.createdAt,
      updatedAt: users.updatedAt,
    })
    .from(users)
    .where(
      and(
        eq(users.tenantId, sql.placeholder('tenantId')),
        eq(users.id, sql.placeholder('id')),
        isNull(users.deletedAt),
      ),
    )
    .prepare()
}

/** The live user with this id, or undefined (tombstones are not returned). */
export async function getUser(scope: Tenant, id: string): Promise<UserRecord | undefined> {
  let query = getUserQueries.get(scope.db)
  if (!query) {
    query = buildGetUser(scope.db)
    getUserQueries.set(scope.db, query)
  }
  const row = await d1Call(() => query.get({ tenantId: scope.tenantKey, id }))
  return row ? toUserRecord(row) : undefined
}

/**
 * The comparison column of `who` (it holds the canonicalName form, see src/db/schema.ts); the value is
 * trimmed and put in that form, so every spelling of one name finds the same user.
 */
function whoCondition(who: Who): SQL {
  return 'userName' in who
    ? sql`user_name = ${canonicalLookup(who.userName)}`
    : sql`email = ${canonicalLookup(who.email)}`
}

/** The live users matching `who` (at most 2: enough to tell one from many). */
export async function findLiveUsers(scope: Tenant, who: Who): Promise<UserRecord[]> {
  const rows = await readRows<Record<string, unknown>>(
    scope.db,
    statement(
      sql`SELECT ${RECORD_COLUMNS} FROM users WHERE tenant_id = ${scope.tenantKey} AND ${whoCondition(who)} AND deleted_at IS NULL LIMIT 2`,
    ),
  )
  return rows.map(toUserRecord)
}

/** The id of the latest tombstone matching `who`, if any. */
export async function latestTombstone(scope: Tenant, who: Who): Promise<string | undefined> {
  const [row] = await readRows<{ id: string }>(
    scope.db,
    statement(
      sql`SELECT id FROM users WHERE tenant_id = ${scope.tenantKey} AND ${whoCondition(who)} AND deleted_at IS NOT NULL ORDER BY deleted_at DESC LIMIT 1`,
    ),
  )
  return row?.id
}

/** The user with this id whether live or deleted (support's view), with its deletion time; undefined when none. */
export async function getUserAnyState(
  scope: Tenant,
  id: string,
): Promise<(UserRecord & { deletedAt: string | null }) | undefined> {
  const [row] = await readRows<Record<string, unknown>>(
    scope.db,
    statement(
      sql`SELECT ${RECORD_COLUMNS}, deleted_at AS deletedAt FROM users WHERE tenant_id = ${scope.tenantKey} AND id = ${id}`,
    ),
  )
  return row ? { ...toUserRecord(row), deletedAt: (row.deletedAt as string | null) ?? null } : undefined
}

/** A condition that holds while the user is live (and, when given, in one of `states`). */
export function userIsLive(scope: Pick<Scope, 'tenantKey'>, id: string, states?: readonly UserState[]): SQL {
  const inStates = states
    ? sql` AND state IN (${sql.join(
        states.map((s) => sql`${s}`),
        sql`, `,
      )})`
    : sql``
  return sql`EXISTS (SELECT 1 FROM users WHERE tenant_id = ${scope.tenantKey} AND id = ${id} AND deleted_at IS NULL${inStates})`
}

/** The ids among `ids` that are not live users of the tenant (one statement, one JSON parameter). */
export function unknownUserIds(scope: Pick<Scope, 'tenantKey'>, ids: string[]): Statement {
  return statement(
    sql`SELECT j.value AS value FROM json_each(${JSON.stringify(ids)}) j
      WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ${scope.tenantKey} AND u.id = j.value AND u.deleted_at IS NULL)`,
  )
}

function takenError(resource: Json): () => Uniqueness {
  return () =>
    new Uniqueness(
      `userName "${String(resource.userName)}" is already in use in this tenant (userName is unique, case-insensitively)`,
    )
}

/**
 * Runs a user write's batch; a taken userName is 409 uniqueness, decided by the unique index, so races
 * are safe. A seat limit's CHECK (src/db/catalog.ts) passes through for the caller to explain.
 */
async function runUserBatch<T>(
  b: ReturnType<typeof batch>,
  resource: Json,
  read: (results: Awaited<ReturnType<typeof b.run>>) => T,
): Promise<T> {
  try {
    return read(await b.run())
  } catch (error) {
    if (error instanceof ConstraintViolation && !isSeatViolation(error))
      throw expectViolation(error, 'users_tenant_user_name', takenError(resource))
    throw error
  }
}

function emailInserts(scope: Tenant, userId: string, resource: Json, guard: SQL): Statement[] {
  const rows = emailRows(resource)
  const out: Statement[] = []
  // 5 parameters a row and a guard: 10 rows a statement stays well under D1's 100.
  for (let i = 0; i < rows.length; i += 10) {
    const values = sql.join(
      rows
        .slice(i, i + 10)
        .map((e) => sql`(${scope.tenantKey}, ${userId}, ${e.value}, ${e.type}, ${e.primary ? 1 : 0})`),
      sql`, `,
    )
    out.push(
      statement(
        sql`INSERT OR IGNORE INTO user_emails (tenant_id, user_id, value, type, is_primary) SELECT * FROM (VALUES ${values}) WHERE ${guard}`,
      ),
    )
  }
  return out
}

/**
 * The values of the tenant's declared attributes of these users, in one statement (a JSON parameter),
 * when `guard` holds; none for a tenant that declared nothing.
 */
function attributeInserts(
  scope: Tenant & Pick<Scope, 'userType'>,
  users: { id: string; resource: Json }[],
  guard: SQL,
): Statement[] {
  if (!declaredSchema(scope.userType)) return []
  const rows = users.flatMap((u) => attributeRows(scope.userType, u.resource).map((r) => [u.id, r.attr, r.value]))
  if (!rows.length) return []
  return [
    statement(sql`INSERT INTO user_attribute_values (tenant_id, user_id, attr, value)
      SELECT ${scope.tenantKey}, j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(${JSON.stringify(rows)}) j WHERE ${guard}`),
  ]
}

/** Removes a user's declared attribute values when `guard` holds (before they are written again, or the user goes). */
function attributeDeletes(scope: Tenant & Pick<Scope, 'userType'>, userId: string, guard: SQL): Statement[] {
  if (!declaredSchema(scope.userType)) return []
  return [
    statement(
      sql`DELETE FROM user_attribute_values WHERE tenant_id = ${scope.tenantKey} AND user_id = ${userId} AND ${guard}`,
    ),
  ]
}

/** Creates a user with its emails and the kept count; `joined` statements (an invite, the journal) commit with it. */
export async function createUser(
  scope: Tenant & Pick<Scope, 'now' | 'userType'>,
  input: UserWrite & { id: string; source: 'scim' | 'app'; joined?: Statement[] },
): Promise<UserRecord> {
  const at = scope.now().toISOString()
  const tenantId = scope.tenantKey
  const b = batch(scope.db)
  b.add(
    scope.db.insert(users).values({
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
  )
  b.addAll(emailInserts(scope, input.id, input.resource, sql`1`))
  b.addAll(attributeInserts(scope, [input], sql`1`))
  b.add(countStatement(scope, 'users', 1))
  b.addAll(input.joined ?? [])
  const created = b.first(readRecord(tenantId, input.id), toUserRecord)
  return runUserBatch(b, input.resource, (results) => results.get(created)!)
}

/** The input of one user of `createUsers`. */
export type NewUser = UserWrite & { id: string; source: 'scim' | 'app' }

/**
 * Creates many users in one batch (a bulk request's creates): their rows, emails and the kept count
 * by statements with one JSON parameter each, so the batch stays a handful of statements whatever
 * the number of users; `joined` statements (invites, events, the journal) commit with them. A taken
 * userName fails the whole batch with 409 uniqueness (the unique index decides, so races are safe).
 * Returns the records in the order given.
 */
export async function createUsers(
  scope: Tenant & Pick<Scope, 'now' | 'userType'>,
  inputs: NewUser[],
  joined: Statement[] = [],
): Promise<UserRecord[]> {
  if (!inputs.length) return []
  const at = scope.now().toISOString()
  const tenantId = scope.tenantKey
  const rows = inputs.map((u) => {
    const c = userColumns(u.resource)
    return [
      u.id,
      c.userName,
      c.externalId,
      c.displayName,
      c.givenName,
      c.familyName,
      c.email,
      c.employeeNumber,
      c.department,
      c.managerId,
      c.active ? 1 : 0,
      u.state,
      u.stateBeforeDeactivation,
      u.source,
      JSON.stringify(u.resource),
    ]
  })
  const emails = inputs.flatMap((u) => emailRows(u.resource).map((e) => [u.id, e.value, e.type, e.primary ? 1 : 0]))
  const b = batch(scope.db)
  b.add(
    statement(sql`INSERT INTO users (tenant_id, id, seq, user_name, external_id, display_name, given_name, family_name, email,
        employee_number, department, manager_id, active, state, state_before_deactivation, source, version, created_at, updated_at, resource)
      SELECT ${tenantId}, j.value ->> 0, base.n + j.key + 1, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5,
        j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10, j.value ->> 11, j.value ->> 12, j.value ->> 13,
        1, ${at}, ${at}, j.value ->> 14
      FROM (SELECT coalesce(max(seq), 0) AS n FROM users WHERE tenant_id = ${tenantId}) base, json_each(${JSON.stringify(rows)}) j
      ORDER BY j.key`),
  )
  if (emails.length)
    b.add(
      statement(sql`INSERT OR IGNORE INTO user_emails (tenant_id, user_id, value, type, is_primary)
        SELECT ${tenantId}, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3 FROM json_each(${JSON.stringify(emails)}) j`),
    )
  b.addAll(attributeInserts(scope, inputs, sql`1`))
  b.add(countStatement(scope, 'users', inputs.length))
  b.addAll(joined)
  const created = b.rows(
    statement(sql`SELECT ${RECORD_COLUMNS} FROM users WHERE tenant_id = ${tenantId} AND deleted_at IS NULL
      AND id IN (SELECT value FROM json_each(${JSON.stringify(inputs.map((u) => u.id))}))`),
    toUserRecord,
  )
  return runUserBatch(b, { userName: 'one of the users' }, (results) => {
    const byId = new Map(results.get(created).map((r) => [r.id, r]))
    return inputs.map((u) => byId.get(u.id)!)
  })
}

/** Of these userNames, the ones live users of the tenant hold (compared in canonical form). */
export async function takenUserNames(scope: Tenant, userNames: string[]): Promise<Set<string>> {
  const folded = [...new Set(userNames.map((n) => userColumns({ userName: n }).userName))]
  if (!folded.length) return new Set()
  const rows = await readRows<{ userName: string }>(
    scope.db,
    statement(sql`SELECT user_name AS userName FROM users WHERE tenant_id = ${scope.tenantKey} AND deleted_at IS NULL
      AND user_name IN (SELECT value FROM json_each(${JSON.stringify(folded)}))`),
  )
  return new Set(rows.map((r) => r.userName))
}

/** The comparison form of a userName, as the unique index holds it. */
export function userNameKey(userName: unknown): string {
  return userColumns({ userName }).userName
}

/**
 * Replaces a user's resource if its version is still the one read (optimistic concurrency, RFC 7644
 * §3.14). Every statement is guarded by that version and runs before the update, so the batch applies
 * whole or not at all. Returns the user as written, or undefined when the version moved (or the user went).
 */
export async function updateUser(
  scope: Tenant & Pick<Scope, 'now' | 'userType'>,
  change: { current: UserRecord; next: UserWrite; joined?: Joined },
): Promise<UserRecord | undefined> {
  const { current, next } = change
  const tenantId = scope.tenantKey
  const guard = sql`EXISTS (SELECT 1 FROM users WHERE tenant_id = ${tenantId} AND id = ${current.id} AND version = ${current.version} AND deleted_at IS NULL)`
  const b = batch(scope.db)
  b.addAll(change.joined?.(guard) ?? [])
  b.add(
    scope.db.delete(userEmails).where(and(eq(userEmails.tenantId, tenantId), eq(userEmails.userId, current.id), guard)),
  )
  b.addAll(emailInserts(scope, current.id, next.resource, guard))
  b.addAll(attributeDeletes(scope, current.id, guard))
  b.addAll(attributeInserts(scope, [{ id: current.id, resource: next.resource }], guard))
  const applied = b.changes(
    scope.db
      .update(users)
      .set({
        ...userColumns(next.resource),
        state: next.state,
        stateBeforeDeactivation: next.stateBeforeDeactivation,
        version: current.version + 1,
        updatedAt: scope.now().toISOString(),
        resource: JSON.stringify(next.resource),
      })
      .where(
        and(
          eq(users.tenantId, tenantId),
          eq(users.id, current.id),
          eq(users.version, current.version),
          isNull(users.deletedAt),
        ),
      ),
  )
  const written = b.first(readRecord(tenantId, current.id), toUserRecord)
  return runUserBatch(b, next.resource, (results) => (results.get(applied) === 1 ? results.get(written) : undefined))
}

/**
 * Makes a user a tombstone: SCIM answers 404 from then on, the userName is free again, email index rows
 * go, the row stays for audit. `joined` statements (memberships, invites, the journal) apply only with
 * the delete. With `expectedVersion` (If-Match) nothing happens unless the user still has that version.
 * Returns false when nothing was deleted.
 */
export async function deleteUser(
  scope: Tenant & Pick<Scope, 'now' | 'userType'>,
  change: { id: string; expectedVersion?: number; joined?: Joined },
): Promise<boolean> {
  const at = scope.now().toISOString()
  const tenantId = scope.tenantKey
  const live = and(
    eq(users.tenantId, tenantId),
    eq(users.id, change.id),
    isNull(users.deletedAt),
    change.expectedVersion === undefined ? undefined : eq(users.version, change.expectedVersion),
  )
  const guard = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${live})`
  const b = batch(scope.db)
  b.add(
    scope.db.delete(userEmails).where(and(eq(userEmails.tenantId, tenantId), eq(userEmails.userId, change.id), guard)),
  )
  b.add(countStatement(scope, 'users', -1, guard))
  b.addAll(attributeDeletes(scope, change.id, guard))
  b.addAll(change.joined?.(guard) ?? [])
  const deleted = b.changes(
    scope.db
      .update(users)
      .set({ deletedAt: at, updatedAt: at, state: 'deleted', version: sql`${users.version} + 1` })
      .where(live),
  )
  return (await b.run()).get(deleted) === 1
}

/**
 * Moves a live user from one of `from` to `to` when `when` holds (an invite was sent or accepted): a
 * statement for the caller's batch. The version moves, so the ETag does.
 */
export function userStateStatement(
  scope: Pick<Scope, 'tenantKey' | 'now'>,
  change: { userId: string; from: readonly UserState[]; to: UserState; when: SQL },
): Statement {
  const at = scope.now().toISOString()
  return statement(
    sql`UPDATE users SET state = ${change.to}, version = version + 1, updated_at = ${at}
        WHERE tenant_id = ${scope.tenantKey} AND id = ${change.userId} AND deleted_at IS NULL
          AND state IN (${sql.join(
            change.from.map((s) => sql`${s}`),
            sql`, `,
          )}) AND ${change.when}`,
  )
}

/** Pages of live users in `seq` order (or `orderBy`, then `seq`), as SQL for src/db/pages.ts. */
export function userPages(scope: Pick<Scope, 'tenantKey'>, where?: SQL, orderBy: SQL[] = []): PageSource<UserRecord> {
  const tenantId = scope.tenantKey
  // SQL text around the filter: it runs for every list and lookup, and drizzle's query builder costs
  // more CPU than the query (the filter and sort keep their own SQL).
  const rowsIn = sql`tenant_id = ${tenantId} AND deleted_at IS NULL ${where ? sql`AND (${where})` : sql``}`
  // `+seq` (no index for the order or the seek): a filter on a declared attribute then finds its rows
  // through user_attribute_values and sorts them, instead of SQLite walking every user in seq order.
  const seq = readsDeclaredIndex(where) ? sql`+seq` : sql`seq`
  return {
    count: where ? sql`(SELECT count(*) FROM users WHERE ${rowsIn})` : keptCount(tenantId, 'users'),
    rows: ({ after, offset, limit }) =>
      sql`SELECT ${RECORD_COLUMNS} FROM users WHERE ${rowsIn} ${after ? sql`AND ${seq} > ${after}` : sql``}
        ORDER BY ${sql.join([...orderBy, seq], sql`, `)} LIMIT ${limit} OFFSET ${offset}`,
    record: (row) => toUserRecord(row as Record<string, unknown>),
  }
}

/** What a re-canonicalization of one tenant's rows did. */
export interface Recanonicalized {
  /** Rows read (tombstones included: their columns answer tombstone and journal lookups). */
  scanned: number
  /** Rows whose comparison columns (and email rows) were rewritten. */
  updated: number
  /** Live rows that would share one canonical value: left unchanged, for a person to resolve. */
  collisions: Collision[]
}

/** The comparison columns userColumns() computes, as stored columns. */
const COMPARISON_COLUMNS = {
  userName: 'user_name',
  displayName: 'display_name',
  givenName: 'given_name',
  familyName: 'family_name',
  email: 'email',
  employeeNumber: 'employee_number',
  department: 'department',
} as const

type ComparisonColumn = keyof typeof COMPARISON_COLUMNS

/** One row as the re-canonicalization reads it: its resource, version, liveness and stored comparison forms. */
interface ScanRow extends Record<ComparisonColumn, string | null> {
  id: string
  seq: number
  version: number
  live: number
  resource: string
  /** JSON [[value, type], ...] of its user_emails rows. */
  emails: string
}

/** Every user row of the tenant in `seq` pages (keyset), tombstones included. */
async function* scanUsers(scope: Tenant, pageSize: number): AsyncGenerator<ScanRow[]> {
  const stored = sql.raw(
    Object.entries(COMPARISON_COLUMNS)
      .map(([key, col]) => `${col} AS ${key}`)
      .join(', '),
  )
  let after = 0
  for (;;) {
    const page = await readRows<ScanRow>(
      scope.db,
      statement(
        sql`SELECT id, seq, version, deleted_at IS NULL AS live, resource, ${stored},
          (SELECT json_group_array(json_array(e.value, e.type)) FROM user_emails e WHERE e.tenant_id = users.tenant_id AND e.user_id = users.id) AS emails
          FROM users WHERE tenant_id = ${scope.tenantKey} AND seq > ${after} ORDER BY seq LIMIT ${pageSize}`,
      ),
    )
    if (page.length) yield page
    if (page.length < pageSize) return
    after = page[page.length - 1]!.seq
  }
}

/** The statements that bring one row's comparison forms up to date, or undefined when they are. */
function rewriteOf(scope: Tenant, row: ScanRow): Statement[] | undefined {
  const resource = JSON.parse(row.resource) as Json
  const columns = userColumns(resource)
  const stale = (Object.keys(COMPARISON_COLUMNS) as ComparisonColumn[]).filter((k) => columns[k] !== row[k])
  const key = (pairs: string[][]) => JSON.stringify(pairs.map((p) => p.join('\u0000')).sort())
  // Tombstones keep no email rows (deleteUser drops them).
  const wanted = row.live ? emailRows(resource).map((e) => [e.value, e.type]) : []
  const emailsStale = key(wanted) !== key(JSON.parse(row.emails) as string[][])
  if (!stale.length && !emailsStale) return undefined
  const tenantId = scope.tenantKey
  // The version guard leaves a row alone that a write changed since it was read: that write stored current forms.
  const guard = sql`EXISTS (SELECT 1 FROM users WHERE tenant_id = ${tenantId} AND id = ${row.id} AND version = ${row.version})`
  const out: Statement[] = []
  if (emailsStale) {
    out.push(
      statement(sql`DELETE FROM user_emails WHERE tenant_id = ${tenantId} AND user_id = ${row.id} AND ${guard}`),
      ...(row.live ? emailInserts(scope, row.id, resource, guard) : []),
    )
  }
  const sets = sql.join(
    (Object.keys(COMPARISON_COLUMNS) as ComparisonColumn[]).map(
      (k) => sql`${sql.raw(COMPARISON_COLUMNS[k])} = ${columns[k]}`,
    ),
    sql`, `,
  )
  // The resource is unchanged, so the version (the ETag) stays.
  out.push(
    statement(
      sql`UPDATE users SET ${sets} WHERE tenant_id = ${tenantId} AND id = ${row.id} AND version = ${row.version}`,
    ),
  )
  return out
}

/** The live users holding `canonical` as their userName column. */
async function holdersOf(scope: Tenant, canonical: string): Promise<string[]> {
  const rows = await readRows<{ id: string }>(
    scope.db,
    statement(
      sql`SELECT id FROM users WHERE tenant_id = ${scope.tenantKey} AND user_name = ${canonical} AND deleted_at IS NULL`,
    ),
  )
  return rows.map((r) => r.id)
}

/**
 * Runs one row's rewrite (its last statement is the update): `written`, `moved` when a write changed
 * the row since it was read, `taken` when the unique index refused it (a live row holds that userName).
 */
async function runRewrite(scope: Tenant, rewrite: Statement[]): Promise<'written' | 'moved' | 'taken'> {
  const b = batch(scope.db)
  b.addAll(rewrite.slice(0, -1))
  const update = b.changes(rewrite[rewrite.length - 1]!)
  try {
    return (await b.run()).get(update) === 1 ? 'written' : 'moved'
  } catch (error) {
    if (error instanceof ConstraintViolation && violatedIndex(error) === 'users_tenant_user_name') return 'taken'
    throw error
  }
}

/**
 * Recomputes the comparison columns (and user_emails rows) of every user of the tenant from its
 * resource, in `seq` pages of `pageSize`: rows written before the comparison form was canonicalName
 * (SQLite cannot NFC-normalise, so this runs in the Worker). Live rows whose userNames share one
 * canonical form are never merged or changed: they are reported in `collisions`. The first pass keeps
 * one map entry per live user (its canonical userName), the second rewrites page by page, one batch per
 * stale row, each guarded by the version it read (a row changed meanwhile was written in current form).
 */
export async function recanonicalizeUsers(scope: Tenant, pageSize = 200): Promise<Recanonicalized> {
  const collisions = await findCollisions(scanUsers(scope, pageSize), (row) =>
    row.live ? userColumns(JSON.parse(row.resource) as Json).userName : undefined,
  )
  const colliding = new Set(collisions.flatMap((c) => c.ids))
  let scanned = 0
  let updated = 0
  for await (const page of scanUsers(scope, pageSize)) {
    scanned += page.length
    for (const row of page) {
      const rewrite = colliding.has(row.id) ? undefined : rewriteOf(scope, row)
      if (!rewrite) continue
      const outcome = await runRewrite(scope, rewrite)
      if (outcome === 'written') updated++
      else if (outcome === 'taken') {
        // A row written since the first pass took this userName: report both, change neither.
        const canonical = userColumns(JSON.parse(row.resource) as Json).userName
        collisions.push({ canonical, ids: [row.id, ...(await holdersOf(scope, canonical))] })
      }
    }
  }
  return { scanned, updated, collisions }
}
