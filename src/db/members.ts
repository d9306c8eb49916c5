/**
 * The members module: the only writer of `group_members`. Membership changes are set operations
 * written in bulk: member ids travel as one JSON array parameter (json_each), so a statement has a
 * handful of bound parameters whatever the number of members (D1 allows 100).
 */
import { sql, type SQL } from 'drizzle-orm'
import { readRows, statement, type Statement } from '../d1/batch.ts'
import type { MemberChange } from '../scim/patch/members.ts'
import type { Scope } from '../scope/scope.ts'

export type { MemberChange }

type Tenant = Pick<Scope, 'db' | 'tenantKey'>

/** A member as SCIM shows it: id and a display name. */
export interface MemberRef {
  id: string
  display: string | null
}

/** A member's group, for the read-only User `groups` attribute (RFC 7643 §4.1.2). */
export interface UserGroupRef {
  id: string
  displayName: string
}

/**
 * How one membership statement moved the member rows: the groups module follows each with
 * `member_count ± changes()` (D1 runs a batch on one connection, so changes() is that statement's).
 */
export interface MemberStep {
  statement: Statement
  sign: '+' | '-'
}

/** The member rows a change writes, each step to be followed by the count update of its sign. */
export function memberSteps(
  scope: Pick<Scope, 'tenantKey'>,
  groupId: string,
  change: MemberChange,
  guard: SQL = sql`1`,
): MemberStep[] {
  const tenantId = scope.tenantKey
  const out: MemberStep[] = []
  const add = change.mode === 'replace' ? change.ids : change.add
  if (change.mode === 'replace') {
    // Only the members not in the new list go, so a PUT that repeats the member list (Okta app
    // integrations send the whole list each time) rewrites no member rows.
    out.push({
      statement: statement(
        sql`DELETE FROM group_members WHERE tenant_id = ${tenantId} AND group_id = ${groupId} AND member_id NOT IN (SELECT value FROM json_each(${JSON.stringify(change.ids)})) AND ${guard}`,
      ),
      sign: '-',
    })
  } else if (change.remove.length) {
    out.push({
      statement: statement(
        sql`DELETE FROM group_members WHERE tenant_id = ${tenantId} AND group_id = ${groupId} AND member_id IN (SELECT value FROM json_each(${JSON.stringify(change.remove)})) AND ${guard}`,
      ),
      sign: '-',
    })
  }
  if (add.length) {
    // Only live users of this tenant become members, so a user deleted meanwhile is simply skipped.
    // CROSS JOIN keeps the id list as the outer loop (SQLite does not reorder it), so each id is one
    // primary-key probe: without it the planner may walk the tenant's users for every id.
    out.push({
      statement: statement(sql`INSERT OR IGNORE INTO group_members (tenant_id, group_id, member_id)
        SELECT ${tenantId}, ${groupId}, j.value FROM json_each(${JSON.stringify(add)}) j
        CROSS JOIN users u ON u.tenant_id = ${tenantId} AND u.id = j.value AND u.deleted_at IS NULL
        WHERE ${guard}`),
      sign: '+',
    })
  }
  return out
}

/** Removes a user from all their groups (when `guard` holds). */
export function dropUserMemberships(scope: Pick<Scope, 'tenantKey'>, userId: string, guard: SQL): Statement {
  return statement(
    sql`DELETE FROM group_members WHERE tenant_id = ${scope.tenantKey} AND member_id = ${userId} AND ${guard}`,
  )
}

/** Removes every member of a group (when `guard` holds). */
export function dropGroupMembers(scope: Pick<Scope, 'tenantKey'>, groupId: string, guard: SQL): Statement {
  return statement(
    sql`DELETE FROM group_members WHERE tenant_id = ${scope.tenantKey} AND group_id = ${groupId} AND ${guard}`,
  )
}

/** The ids of the groups a user is a member of, as a subquery. */
export function groupsOfMember(scope: Pick<Scope, 'tenantKey'>, userId: string): SQL {
  return sql`(SELECT group_id FROM group_members WHERE tenant_id = ${scope.tenantKey} AND member_id = ${userId})`
}

/** The ids among `ids` that are members of the group (one statement, primary-key probes). */
export function presentMembers(scope: Pick<Scope, 'tenantKey'>, groupId: string, ids: string[]): Statement {
  return statement(
    sql`SELECT j.value AS value FROM json_each(${JSON.stringify(ids)}) j
      WHERE EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = ${scope.tenantKey} AND m.group_id = ${groupId} AND m.member_id = j.value)`,
  )
}

/** A page of a group's members, by member id after `afterId` (keyset, so deep pages stay cheap). */
export async function listMembers(
  scope: Tenant,
  groupId: string,
  page: { afterId: string; limit: number },
): Promise<MemberRef[]> {
  return readRows<MemberRef>(
    scope.db,
    statement(sql`SELECT m.member_id AS id, coalesce(json_extract(u.resource, '$.displayName'), json_extract(u.resource, '$.userName')) AS display
        FROM group_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.member_id
        WHERE m.tenant_id = ${scope.tenantKey} AND m.group_id = ${groupId} AND m.member_id > ${page.afterId}
        ORDER BY m.member_id LIMIT ${page.limit}`),
  )
}

/** The direct groups of each of the given users (one query for a whole page of users). */
export async function groupsOfUsers(scope: Tenant, userIds: string[]): Promise<Map<string, UserGroupRef[]>> {
  const out = new Map<string, UserGroupRef[]>()
  if (!userIds.length) return out
  const rows = await readRows<{ userId: string; id: string; displayName: string }>(
    scope.db,
    statement(sql`SELECT m.member_id AS userId, g.id AS id, json_extract(g.resource, '$.displayName') AS displayName
        FROM json_each(${JSON.stringify(userIds)}) j
        CROSS JOIN group_members m INDEXED BY group_members_tenant_member ON m.tenant_id = ${scope.tenantKey} AND m.member_id = j.value
        CROSS JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
        ORDER BY g.seq`),
  )
  for (const row of rows) {
    const list = out.get(row.userId) ?? []
    list.push({ id: row.id, displayName: row.displayName })
    out.set(row.userId, list)
  }
  return out
}

/**
 * The member ids a change adds and removes, as queries of one column `value` over the members as they
 * are before the change's statements run (for the change's events, src/db/events.ts).
 */
export function memberChangeIds(
  scope: Pick<Scope, 'tenantKey'>,
  groupId: string,
  change: MemberChange,
): { added?: SQL; removed?: SQL } {
  const tenantId = scope.tenantKey
  const add = change.mode === 'replace' ? change.ids : change.add
  const isMember = (column: SQL) =>
    sql`EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = ${tenantId} AND m.group_id = ${groupId} AND m.member_id = ${column})`
  const added = add.length
    ? sql`SELECT j.value AS value FROM json_each(${JSON.stringify(add)}) j
        CROSS JOIN users u ON u.tenant_id = ${tenantId} AND u.id = j.value AND u.deleted_at IS NULL
        WHERE NOT ${isMember(sql`j.value`)}`
    : undefined
  let removed: SQL | undefined
  if (change.mode === 'replace') {
    removed = sql`SELECT member_id AS value FROM group_members WHERE tenant_id = ${tenantId} AND group_id = ${groupId}
      AND member_id NOT IN (SELECT value FROM json_each(${JSON.stringify(change.ids)}))`
  } else if (change.remove.length) {
    removed = sql`SELECT j.value AS value FROM json_each(${JSON.stringify(change.remove)}) j WHERE ${isMember(sql`j.value`)}`
  }
  return { added, removed }
}

/** Every member id of a group, as a query of one column `value`. */
export function allMemberIds(scope: Pick<Scope, 'tenantKey'>, groupId: string): SQL {
  return sql`SELECT member_id AS value FROM group_members WHERE tenant_id = ${scope.tenantKey} AND group_id = ${groupId}`
}
