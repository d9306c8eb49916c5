/**
 * The groups module: the only writer of `groups`. Members live in group_members (src/db/members.ts);
 * a group write puts its membership statements in its own batch, each followed by the move of the
 * kept member count, so a 50,000-member group is never loaded to be changed.
 */
import { findCollisions, type Collision } from './collisions.ts'
import { and, eq, sql, type SQL } from 'drizzle-orm'
import { batch, readRows, runWrite, statement, type BatchResults, type Statement } from '../d1/batch.ts'
import { ConstraintViolation } from '../d1/errors.ts'
import { Uniqueness } from '../scim/errors.ts'
import { canonicalName } from '../scim/resource/canonical.ts'
import type { Json } from '../scim/resource/values.ts'
import type { Scope } from '../scope/scope.ts'
import { expectViolation, violatedIndex } from './constraints.ts'
import { countStatement, keptCount } from './counts.ts'
import { dropGroupMembers, groupsOfMember, memberSteps, presentMembers, type MemberChange } from './members.ts'
import type { PageSource } from './pages.ts'
import { groups } from './schema.ts'
import { unknownUserIds } from './users.ts'

type Tenant = Pick<Scope, 'db' | 'tenantKey'>

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

function toGroupRecord(row: Record<string, unknown>): GroupRecord {
  return {
    id: row.id as string,
    seq: row.seq as number,
    resource: JSON.parse(row.resource as string) as Json,
    memberCount: row.memberCount as number,
    source: row.source as 'scim' | 'app',
    version: row.version as number,
    createdAt: row.createdAt as string,
    updatedAt: row.updatedAt as string,
  }
}

/** The indexed columns of a group; display_name holds the comparison form (canonicalName), unique per tenant. */
export function groupColumns(resource: Json) {
  return {
    displayName: canonicalName(String(resource.displayName ?? '')),
    externalId: typeof resource.externalId === 'string' ? resource.externalId : null,
  }
}

/** A group's record columns as SQL text, named as GroupRecord names them. */
const RECORD_COLUMNS = sql.raw(
  'id, seq, resource, member_count AS memberCount, source, version, created_at AS createdAt, updated_at AS updatedAt',
)

/** Reads the group (without members); the last statement of a write's batch, so a write is one round trip. */
function readRecord(tenantId: string, id: string): Statement {
  return statement(sql`SELECT ${RECORD_COLUMNS} FROM groups WHERE tenant_id = ${tenantId} AND id = ${id}`)
}

/** The group with this id, without members, or undefined. */
export async function getGroup(scope: Tenant, id: string): Promise<GroupRecord | undefined> {
  const [row] = await readRows<Record<string, unknown>>(scope.db, readRecord(scope.tenantKey, id))
  return row ? toGroupRecord(row) : undefined
}

/** What a group write reads first, in one round trip (see readGroupForChange). */
export interface GroupChangeRead {
  group?: GroupRecord
  /** Ids among `newMemberIds` that are not live users of the tenant. */
  unknown: string[]
  /** Ids among `probeMemberIds` that are members of the group now. */
  present: Set<string>
}

/**
 * The group (when `id` is given), the ids among `newMemberIds` that are not live users of the tenant,
 * and the ids among `probeMemberIds` that are already members, read in one round trip: what a
 * membership write checks before it writes.
 */
export async function readGroupForChange(
  scope: Tenant,
  read: { id?: string; newMemberIds: string[]; probeMemberIds?: string[] },
): Promise<GroupChangeRead> {
  const b = batch(scope.db)
  const value = (row: Record<string, unknown>) => row.value as string
  const group = read.id === undefined ? undefined : b.first(readRecord(scope.tenantKey, read.id), toGroupRecord)
  const unknown = read.newMemberIds.length ? b.rows(unknownUserIds(scope, read.newMemberIds), value) : undefined
  const probe = read.probeMemberIds ?? []
  const present =
    read.id !== undefined && probe.length ? b.rows(presentMembers(scope, read.id, probe), value) : undefined
  if (!b.size) return { unknown: [], present: new Set() }
  const results = await b.run()
  return {
    group: group && results.get(group),
    unknown: unknown ? results.get(unknown) : [],
    present: new Set(present ? results.get(present) : []),
  }
}

/** The membership change's statements, each followed by the move of the kept count by changes(). */
function membershipStatements(
  scope: Pick<Scope, 'tenantKey'>,
  groupId: string,
  change: MemberChange,
  guard?: SQL,
): Statement[] {
  return memberSteps(scope, groupId, change, guard).flatMap((step) => [
    step.statement,
    statement(
      sql`UPDATE groups SET member_count = member_count ${sql.raw(step.sign)} changes() WHERE tenant_id = ${scope.tenantKey} AND id = ${groupId}`,
    ),
  ])
}

function takenError(resource: Json): () => Uniqueness {
  return () =>
    new Uniqueness(
      `A group named "${String(resource.displayName)}" already exists in this tenant (displayName is unique, case-insensitively)`,
    )
}

/** Runs a group write's batch; a taken displayName is 409 uniqueness. */
async function runGroupBatch<T>(
  b: ReturnType<typeof batch>,
  resource: Json | undefined,
  read: (results: BatchResults) => T,
): Promise<T> {
  try {
    return read(await b.run())
  } catch (error) {
    if (error instanceof ConstraintViolation)
      throw expectViolation(error, 'groups_tenant_display_name', takenError(resource ?? {}))
    throw error
  }
}

/** Creates a group with its members in one batch; `joined` statements (the journal) commit with it. */
export async function createGroup(
  scope: Tenant & Pick<Scope, 'now'>,
  input: { id: string; resource: Json; memberIds: string[]; source: 'scim' | 'app'; joined?: Statement[] },
): Promise<GroupRecord> {
  const at = scope.now().toISOString()
  const tenantId = scope.tenantKey
  const b = batch(scope.db)
  b.add(
    scope.db.insert(groups).values({
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
  )
  b.addAll(membershipStatements(scope, input.id, { mode: 'delta', add: input.memberIds, remove: [] }))
  b.add(countStatement(scope, 'groups', 1))
  b.addAll(input.joined ?? [])
  const created = b.first(readRecord(tenantId, input.id), toGroupRecord)
  return runGroupBatch(b, input.resource, (results) => results.get(created)!)
}

/**
 * Writes a group's attributes (when `resource` is given) and a membership change in one batch. Every
 * statement is guarded by the group's version before the write (when `expectedVersion` is given) and
 * the version update comes last, so either all of it applies or none. Returns the group as written,
 * or undefined when the write did not apply (the group is gone or its version moved).
 */
export async function updateGroup(
  scope: Tenant & Pick<Scope, 'now'>,
  write: {
    id: string
    resource?: Json
    members?: MemberChange
    expectedVersion?: number
    joined?: (guard: SQL) => Statement[]
  },
): Promise<GroupRecord | undefined> {
  const tenantId = scope.tenantKey
  const version = write.expectedVersion === undefined ? undefined : eq(groups.version, write.expectedVersion)
  const guard = sql`EXISTS (SELECT 1 FROM groups WHERE tenant_id = ${tenantId} AND id = ${write.id} ${version ? sql`AND ${version}` : sql``})`
  const b = batch(scope.db)
  // Everything before the version update is guarded by what that update checks, the journal entry included.
  b.addAll(write.joined?.(guard) ?? [])
  if (write.members) b.addAll(membershipStatements(scope, write.id, write.members, guard))
  const applied = b.changes(
    scope.db
      .update(groups)
      .set({
        ...(write.resource ? { ...groupColumns(write.resource), resource: JSON.stringify(write.resource) } : {}),
        version: sql`${groups.version} + 1`,
        updatedAt: scope.now().toISOString(),
      })
      .where(and(eq(groups.tenantId, tenantId), eq(groups.id, write.id), version)),
  )
  const written = b.first(readRecord(tenantId, write.id), toGroupRecord)
  return runGroupBatch(b, write.resource, (results) => (results.get(applied) === 1 ? results.get(written) : undefined))
}

/**
 * Deletes a group and its memberships; its users stay. With `expectedVersion` (If-Match) nothing is
 * deleted unless the group still has that version. Returns false when nothing was deleted.
 */
export async function deleteGroup(
  scope: Tenant,
  change: { id: string; expectedVersion?: number; joined?: (guard: SQL) => Statement[] },
): Promise<boolean> {
  const tenantId = scope.tenantKey
  const version = change.expectedVersion === undefined ? sql`` : sql` AND version = ${change.expectedVersion}`
  const exists = sql`EXISTS (SELECT 1 FROM groups WHERE tenant_id = ${tenantId} AND id = ${change.id}${version})`
  const b = batch(scope.db)
  b.add(countStatement(scope, 'groups', -1, exists))
  b.add(dropGroupMembers(scope, change.id, exists))
  b.addAll(change.joined?.(exists) ?? [])
  const deleted = b.changes(
    statement(sql`DELETE FROM groups WHERE tenant_id = ${tenantId} AND id = ${change.id}${version}`),
  )
  return (await b.run()).get(deleted) === 1
}

/**
 * The groups of a user who is being deleted lose a member: their count, version (ETag) and
 * lastModified move. Runs before the memberships go, when `guard` holds.
 */
export function memberLeavesGroups(scope: Pick<Scope, 'tenantKey' | 'now'>, userId: string, guard: SQL): Statement {
  const at = scope.now().toISOString()
  return statement(
    sql`UPDATE groups SET member_count = member_count - 1, version = version + 1, updated_at = ${at}
        WHERE tenant_id = ${scope.tenantKey} AND id IN ${groupsOfMember(scope, userId)} AND ${guard}`,
  )
}

/** Pages of groups in `seq` order (or `orderBy`, then `seq`), as SQL for src/db/pages.ts (see userPages). */
export function groupPages(scope: Pick<Scope, 'tenantKey'>, where?: SQL, orderBy: SQL[] = []): PageSource<GroupRecord> {
  const tenantId = scope.tenantKey
  const rowsIn = sql`tenant_id = ${tenantId} ${where ? sql`AND (${where})` : sql``}`
  return {
    count: where ? sql`(SELECT count(*) FROM groups WHERE ${rowsIn})` : keptCount(tenantId, 'groups'),
    rows: ({ after, offset, limit }) =>
      sql`SELECT ${RECORD_COLUMNS} FROM groups WHERE ${rowsIn} ${after ? sql`AND seq > ${after}` : sql``}
        ORDER BY ${sql.join([...orderBy, sql`seq`], sql`, `)} LIMIT ${limit} OFFSET ${offset}`,
    record: (row) => toGroupRecord(row as Record<string, unknown>),
  }
}

/** What a re-canonicalization of one tenant's groups did (as recanonicalizeUsers reports users). */
export interface GroupsRecanonicalized {
  scanned: number
  updated: number
  /** Groups whose displayNames share one canonical form: left unchanged. */
  collisions: Collision[]
}

/** Every group of the tenant in `seq` pages (keyset): id, version, resource and the stored display_name. */
async function* scanGroups(
  scope: Tenant,
  pageSize: number,
): AsyncGenerator<{ id: string; seq: number; version: number; resource: string; displayName: string }[]> {
  let after = 0
  for (;;) {
    const page = await readRows<{ id: string; seq: number; version: number; resource: string; displayName: string }>(
      scope.db,
      statement(sql`SELECT id, seq, version, resource, display_name AS displayName FROM groups
        WHERE tenant_id = ${scope.tenantKey} AND seq > ${after} ORDER BY seq LIMIT ${pageSize}`),
    )
    if (page.length) yield page
    if (page.length < pageSize) return
    after = page[page.length - 1]!.seq
  }
}

/**
 * Recomputes every group's display_name from its resource (canonicalName), in `seq` pages: groups
 * written before the comparison form was canonicalName. Groups whose displayNames would share one
 * canonical form are reported in `collisions` and left unchanged, never merged. Each rewrite is guarded
 * by the version read; the version (the ETag) does not move, since the resource does not change.
 */
export async function recanonicalizeGroups(scope: Tenant, pageSize = 200): Promise<GroupsRecanonicalized> {
  const collisions = await findCollisions(
    scanGroups(scope, pageSize),
    (row) => groupColumns(JSON.parse(row.resource) as Json).displayName,
  )
  const colliding = new Set(collisions.flatMap((c) => c.ids))
  let scanned = 0
  let updated = 0
  for await (const page of scanGroups(scope, pageSize)) {
    scanned += page.length
    for (const row of page) {
      const canonical = groupColumns(JSON.parse(row.resource) as Json).displayName
      if (colliding.has(row.id) || canonical === row.displayName) continue
      try {
        updated += await runWrite(
          scope.db,
          statement(sql`UPDATE groups SET display_name = ${canonical}
            WHERE tenant_id = ${scope.tenantKey} AND id = ${row.id} AND version = ${row.version}`),
        )
      } catch (error) {
        if (!(error instanceof ConstraintViolation) || violatedIndex(error) !== 'groups_tenant_display_name')
          throw error
        // A group written since the first pass took this displayName: report both, change neither.
        const holders = await readRows<{ id: string }>(
          scope.db,
          statement(sql`SELECT id FROM groups WHERE tenant_id = ${scope.tenantKey} AND display_name = ${canonical}`),
        )
        collisions.push({ canonical, ids: [row.id, ...holders.map((h) => h.id)] })
      }
    }
  }
  return { scanned, updated, collisions }
}
