/**
 * Tenant-scoped queries on groups and memberships. Membership changes are set operations written in
 * bulk: member ids travel as one JSON array parameter (json_each), so a statement has a handful of
 * bound parameters whatever the number of members (D1 allows 100).
 */
import { and, eq, sql, type SQL } from 'drizzle-orm'
import { Uniqueness } from '../scim/errors.ts'
import type { Json } from '../scim/resource/values.ts'
import { readRows, runBatch, statement, type Statement } from './batch.ts'
import type { Db } from './client.ts'
import type { PageSource } from './pages.ts'
import { isUniqueViolation } from './errors.ts'
import type { Audit } from './journal.ts'
import { groups, tenantCounts } from './schema.ts'

/** A group as stored, without its members. */
export interface GroupRecord {
  id: string
  seq: number
  resource: Json
  memberCount: number
  source: 'scim' | 'app'
  version: number
  createdAt: string
  updatedAt: string
}

/** A member as SCIM shows it: id and a display name. */
export interface MemberRef {
  id: string
  display: string | null
}

/** The net effect of membership operations on a group (see src/scim/patch/members.ts). */
export type MemberChange = { mode: 'delta'; add: string[]; remove: string[] } | { mode: 'replace'; ids: string[] }

type GroupRow = typeof groups.$inferSelect

function toGroupRecord(row: Pick<GroupRow, 'id' | 'seq' | 'resource' | 'memberCount' | 'source' | 'version' | 'createdAt' | 'updatedAt'>): GroupRecord {
  return {
    id: row.id,
    seq: row.seq,
    resource: JSON.parse(row.resource) as Json,
    memberCount: row.memberCount,
    source: row.source as 'scim' | 'app',
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

function groupColumns(resource: Json) {
  return {
    displayName: String(resource.displayName ?? '').toLowerCase(),
    externalId: typeof resource.externalId === 'string' ? resource.externalId : null,
  }
}

function uniquenessError(resource: Json): Uniqueness {
  return new Uniqueness(`A group named "${String(resource.displayName)}" already exists in this tenant (displayName is unique, case-insensitively)`)
}

/** A group's record columns as SQL text, named as GroupRecord names them. */
const RECORD_COLUMNS = sql.raw('id, seq, resource, member_count AS memberCount, source, version, created_at AS createdAt, updated_at AS updatedAt')

/** Reads the group (without members); the last statement of a write's batch, so a write is one round trip. */
function readRecord(tenantId: string, id: string): Statement {
  return statement(sql`SELECT ${RECORD_COLUMNS} FROM groups WHERE tenant_id = ${tenantId} AND id = ${id}`)
}

function recordOf(result: D1Result): GroupRecord | undefined {
  const row = result.results[0] as Parameters<typeof toGroupRecord>[0] | undefined
  return row ? toGroupRecord(row) : undefined
}

/** The ids among `ids` that are not live users of the tenant (one statement, one JSON parameter). */
function unknownMembers(tenantId: string, ids: string[]): Statement {
  return statement(
    sql`SELECT j.value AS value FROM json_each(${JSON.stringify(ids)}) j
      WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ${tenantId} AND u.id = j.value AND u.deleted_at IS NULL)`,
  )
}

/** The group with this id, without members, or undefined. */
export async function getGroup(db: Db, tenantId: string, id: string): Promise<GroupRecord | undefined> {
  const [row] = await readRows<Parameters<typeof toGroupRecord>[0]>(db, readRecord(tenantId, id))
  return row ? toGroupRecord(row) : undefined
}

/** The ids among `ids` that are members of the group (one statement, primary-key probes). */
function presentMembers(tenantId: string, groupId: string, ids: string[]): Statement {
  return statement(
    sql`SELECT j.value AS value FROM json_each(${JSON.stringify(ids)}) j
      WHERE EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = ${tenantId} AND m.group_id = ${groupId} AND m.member_id = j.value)`,
  )
}

/** What a group write reads first, in one round trip (see getGroupForChange). */
export interface GroupChangeRead {
  group?: GroupRecord
  /** Ids among `newMemberIds` that are not live users of the tenant. */
  unknown: string[]
  /** Ids among `probeMemberIds` that are members of the group now. */
  present: Set<string>
}

/**
 * The group (when `id` is given), the ids among `newMemberIds` that are not live users of the
 * tenant, and the ids among `probeMemberIds` that are already members, read in one round trip:
 * what a membership write checks before it writes.
 */
export async function getGroupForChange(
  db: Db,
  tenantId: string,
  id: string | undefined,
  newMemberIds: string[],
  probeMemberIds: string[] = [],
): Promise<GroupChangeRead> {
  const statements: Statement[] = []
  const at = { group: -1, unknown: -1, present: -1 }
  if (id !== undefined) at.group = statements.push(readRecord(tenantId, id)) - 1
  if (newMemberIds.length) at.unknown = statements.push(unknownMembers(tenantId, newMemberIds)) - 1
  if (id !== undefined && probeMemberIds.length) at.present = statements.push(presentMembers(tenantId, id, probeMemberIds)) - 1
  const results = statements.length ? await runBatch(db, statements) : []
  const values = (i: number) => (i < 0 ? [] : (results[i]!.results as { value: string }[]).map((r) => r.value))
  return { group: at.group < 0 ? undefined : recordOf(results[at.group]!), unknown: values(at.unknown), present: new Set(values(at.present)) }
}

/**
 * Statements that apply a membership change to one group. Each writes the rows first and then moves
 * the kept count by `changes()` (the rows the statement before it changed; D1 runs a batch on one
 * connection), so every member id is looked at once and duplicates or absent members count nothing.
 */
export function memberStatements(db: Db, tenantId: string, groupId: string, change: MemberChange, guard: SQL = sql`1`): Statement[] {
  const out: Statement[] = []
  const moveCount = (sign: '+' | '-') =>
    db.run(sql`UPDATE groups SET member_count = member_count ${sql.raw(sign)} changes() WHERE tenant_id = ${tenantId} AND id = ${groupId}`)
  const add = change.mode === 'replace' ? change.ids : change.add
  if (change.mode === 'replace') {
    // Only the members not in the new list go, so a PUT that repeats the member list (Okta AIW apps
    // send the whole list each time) rewrites no member rows.
    const keep = JSON.stringify(change.ids)
    out.push(
      db.run(sql`DELETE FROM group_members WHERE tenant_id = ${tenantId} AND group_id = ${groupId} AND member_id NOT IN (SELECT value FROM json_each(${keep})) AND ${guard}`),
      moveCount('-'),
    )
  } else if (change.remove.length) {
    const ids = JSON.stringify(change.remove)
    out.push(
      db.run(sql`DELETE FROM group_members WHERE tenant_id = ${tenantId} AND group_id = ${groupId} AND member_id IN (SELECT value FROM json_each(${ids})) AND ${guard}`),
      moveCount('-'),
    )
  }
  if (add.length) {
    // Only live users of this tenant become members, so a user deleted meanwhile is simply skipped.
    // CROSS JOIN keeps the id list as the outer loop (SQLite does not reorder it), so each id is one
    // primary-key probe: without it the planner may walk the tenant's users for every id.
    out.push(
      db.run(sql`INSERT OR IGNORE INTO group_members (tenant_id, group_id, member_id)
        SELECT ${tenantId}, ${groupId}, j.value FROM json_each(${JSON.stringify(add)}) j
        CROSS JOIN users u ON u.tenant_id = ${tenantId} AND u.id = j.value AND u.deleted_at IS NULL
        WHERE ${guard}`),
      moveCount('+'),
    )
  }
  return out
}

/** Creates a group with its members in one batch; a taken displayName is 409 uniqueness. */
export async function createGroup(
  db: Db,
  tenantId: string,
  input: { id: string; resource: Json; memberIds: string[]; source: 'scim' | 'app' },
  now: Date,
  audit?: Audit,
): Promise<GroupRecord> {
  const at = now.toISOString()
  const statements: Statement[] = [
    db.insert(groups).values({
      tenantId,
      id: input.id,
      seq: sql`(SELECT coalesce(max(${groups.seq}), 0) + 1 FROM ${groups} WHERE ${groups.tenantId} = ${tenantId})`,
      ...groupColumns(input.resource),
      memberCount: 0,
      source: input.source,
      version: 1,
      createdAt: at,
      updatedAt: at,
      resource: JSON.stringify(input.resource),
    }),
    ...memberStatements(db, tenantId, input.id, { mode: 'delta', add: input.memberIds, remove: [] }),
    db
      .insert(tenantCounts)
      .values({ tenantId, groups: 1 })
      .onConflictDoUpdate({ target: tenantCounts.tenantId, set: { groups: sql`${tenantCounts.groups} + 1` } }),
    ...(audit ? [audit(input.id)] : []),
  ]
  let results: D1Result[]
  try {
    results = await runBatch(db, [...statements, readRecord(tenantId, input.id)])
  } catch (error) {
    if (isUniqueViolation(error, 'groups.')) throw uniquenessError(input.resource)
    throw error
  }
  return recordOf(results[results.length - 1]!)!
}

/**
 * Writes a group's attributes (when `resource` is given) and a membership change in one batch.
 * Every statement is guarded by the group's version before the write (when `expectedVersion` is
 * given) and the version update comes last, so either all of it applies or none. Returns the group as
 * written, or undefined when the write did not apply (the group is gone or its version moved).
 */
export async function updateGroup(
  db: Db,
  tenantId: string,
  id: string,
  write: { resource?: Json; members?: MemberChange; expectedVersion?: number },
  now: Date,
  audit?: Audit,
): Promise<GroupRecord | undefined> {
  const version = write.expectedVersion === undefined ? undefined : eq(groups.version, write.expectedVersion)
  const guard = sql`EXISTS (SELECT 1 FROM groups WHERE tenant_id = ${tenantId} AND id = ${id} ${version ? sql`AND ${version}` : sql``})`
  // Everything before the version update is guarded by what that update checks, the journal entry included.
  const members = [...(audit ? [audit(id, guard)] : []), ...(write.members ? memberStatements(db, tenantId, id, write.members, guard) : [])]
  const update = db
    .update(groups)
    .set({
      ...(write.resource ? { ...groupColumns(write.resource), resource: JSON.stringify(write.resource) } : {}),
      version: sql`${groups.version} + 1`,
      updatedAt: now.toISOString(),
    })
    .where(and(eq(groups.tenantId, tenantId), eq(groups.id, id), version))
  let results: D1Result[]
  try {
    results = await runBatch(db, [...members, update, readRecord(tenantId, id)])
  } catch (error) {
    if (isUniqueViolation(error, 'groups.')) throw uniquenessError(write.resource ?? {})
    throw error
  }
  return results[members.length]!.meta.changes === 1 ? recordOf(results[results.length - 1]!) : undefined
}

/**
 * Deletes a group and its memberships; its users stay. With `expectedVersion` (If-Match) nothing is
 * deleted unless the group still has that version. Returns false when nothing was deleted.
 */
export async function deleteGroup(db: Db, tenantId: string, id: string, expectedVersion?: number, audit?: Audit): Promise<boolean> {
  const version = expectedVersion === undefined ? sql`` : sql` AND version = ${expectedVersion}`
  const exists = sql`EXISTS (SELECT 1 FROM groups WHERE tenant_id = ${tenantId} AND id = ${id}${version})`
  const results = await runBatch(db, [
    db.run(sql`UPDATE tenant_counts SET groups = groups - 1 WHERE tenant_id = ${tenantId} AND ${exists}`),
    db.run(sql`DELETE FROM group_members WHERE tenant_id = ${tenantId} AND group_id = ${id} AND ${exists}`),
    ...(audit ? [audit(id, exists)] : []),
    db.run(sql`DELETE FROM groups WHERE tenant_id = ${tenantId} AND id = ${id}${version}`),
  ])
  return results[results.length - 1]!.meta.changes === 1
}

/** A page of a group's members, by member id after `afterId` (keyset, so deep pages stay cheap). */
export async function listMembers(db: Db, tenantId: string, groupId: string, afterId: string, limit: number): Promise<MemberRef[]> {
  return db.all<MemberRef>(
    sql`SELECT m.member_id AS id, coalesce(json_extract(u.resource, '$.displayName'), json_extract(u.resource, '$.userName')) AS display
        FROM group_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.member_id
        WHERE m.tenant_id = ${tenantId} AND m.group_id = ${groupId} AND m.member_id > ${afterId}
        ORDER BY m.member_id LIMIT ${limit}`,
  )
}

/** The direct groups of each of the given users (one query for a whole page of users). */
export async function groupsOfUsers(db: Db, tenantId: string, userIds: string[]): Promise<Map<string, { id: string; displayName: string }[]>> {
  const out = new Map<string, { id: string; displayName: string }[]>()
  if (!userIds.length) return out
  const rows = await db.all<{ userId: string; id: string; displayName: string }>(
    sql`SELECT m.member_id AS userId, g.id AS id, json_extract(g.resource, '$.displayName') AS displayName
        FROM json_each(${JSON.stringify(userIds)}) j
        CROSS JOIN group_members m INDEXED BY group_members_tenant_member ON m.tenant_id = ${tenantId} AND m.member_id = j.value
        CROSS JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
        ORDER BY g.seq`,
  )
  for (const row of rows) {
    const list = out.get(row.userId) ?? []
    list.push({ id: row.id, displayName: row.displayName })
    out.set(row.userId, list)
  }
  return out
}

/** Pages of groups in `seq` order (or `orderBy`, then `seq`), as SQL for src/db/pages.ts (see userPages). */
export function groupPages(tenantId: string, where?: SQL, orderBy: SQL[] = []): PageSource<GroupRecord> {
  const scope = sql`tenant_id = ${tenantId} ${where ? sql`AND (${where})` : sql``}`
  return {
    count: where ? sql`(SELECT count(*) FROM groups WHERE ${scope})` : sql`(SELECT coalesce((SELECT groups FROM tenant_counts WHERE tenant_id = ${tenantId}), 0))`,
    rows: ({ after, offset, limit }) =>
      sql`SELECT ${RECORD_COLUMNS} FROM groups WHERE ${scope} ${after ? sql`AND seq > ${after}` : sql``}
        ORDER BY ${sql.join([...orderBy, sql`seq`], sql`, `)} LIMIT ${limit} OFFSET ${offset}`,
    record: (row) => toGroupRecord(row as Parameters<typeof toGroupRecord>[0]),
  }
}
