/**
 * Checks that what is timed is right: the Worker serves the seeded data (before any timing) and the
 * timed writes landed (after). Any mismatch throws, so a bench run never reports figures of a broken
 * service.
 */
import type { Req } from './load.ts'
import { timed } from './load.ts'
import type { SeededTenant, TenantShape } from './seed.ts'
import { requests, userNameFilter } from './workloads.ts'

interface Check {
  check: string
  ok: true
}

type Json = Record<string, any>

function expectEqual(what: string, actual: unknown, expected: unknown): Check {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    throw new Error(`check failed: ${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
  return { check: `${what} = ${JSON.stringify(expected)}`, ok: true }
}

async function json(origin: string, req: Req): Promise<Json> {
  return JSON.parse((await timed(origin, req)).body) as Json
}

function scimGet(t: SeededTenant, path: string): Req {
  return { method: 'GET', path: `/scim/v2/${t.id}${path}`, headers: { authorization: t.authorization } }
}

async function d1Row(d1: D1Database, sql: string, ...params: unknown[]): Promise<Json> {
  const row = await d1
    .prepare(sql)
    .bind(...params)
    .first<Json>()
  if (!row) throw new Error(`check failed: no row for ${sql}`)
  return row
}

/** The seeded data, read back through the Worker, the baseline and D1 itself. */
export async function verifySeed(
  app: string,
  baseline: string,
  d1: D1Database,
  big: SeededTenant,
  shape: TenantShape,
  mix: SeededTenant[],
  mixShape: TenantShape,
): Promise<Check[]> {
  const out: Check[] = []
  const mid = Math.ceil(shape.users / 2)
  const found = await json(app, scimGet(big, userNameFilter(`user${mid}@example.com`)))
  out.push(expectEqual(`filter userName eq "user${mid}@example.com": totalResults`, found.totalResults, 1))
  out.push(
    expectEqual(`filter userName eq "user${mid}@example.com": id`, found.Resources?.[0]?.id, big.userIds[mid - 1]),
  )
  out.push(
    expectEqual(
      `filter (case-insensitive) userName eq "USER${mid}@EXAMPLE.COM": id`,
      (await json(app, scimGet(big, userNameFilter(`USER${mid}@EXAMPLE.COM`)))).Resources?.[0]?.id,
      big.userIds[mid - 1],
    ),
  )
  const first = await json(app, requests.getUser(big, big.userIds[0]!))
  out.push(expectEqual('GET /Users/{user 1}: userName', first.userName, 'user1@example.com'))
  // `groups` is returned on request (src/scim/schemas/user.ts).
  const firstGroups = await json(app, scimGet(big, `/Users/${big.userIds[0]!}?attributes=groups`))
  out.push(
    expectEqual(
      'GET /Users/{user 1}?attributes=groups: in the big group',
      (firstGroups.groups as Json[] | undefined)?.some((g) => g.value === big.bigGroupId),
      true,
    ),
  )
  out.push(
    expectEqual(
      'baseline GET /u/{user 1}: userName',
      (await json(baseline, requests.limit(big, big.userIds[0]!))).userName,
      'user1@example.com',
    ),
  )
  out.push(
    expectEqual(
      'GET /Users?count=1: totalResults',
      (await json(app, scimGet(big, '/Users?count=1'))).totalResults,
      shape.users,
    ),
  )
  const groups = await json(app, requests.listGroups(big))
  out.push(expectEqual('GET /Groups?excludedAttributes=members: totalResults', groups.totalResults, shape.groups))
  out.push(
    expectEqual(
      'GET /Groups?excludedAttributes=members: page without members',
      (groups.Resources as Json[]).length === Math.min(100, shape.groups) &&
        (groups.Resources as Json[]).every((g) => g.members === undefined),
      true,
    ),
  )
  const bigGroup = await json(app, scimGet(big, `/Groups/${big.bigGroupId}`))
  out.push(expectEqual('GET /Groups/{big}: members served', (bigGroup.members as Json[]).length, shape.bigGroupMembers))
  const counted = await d1Row(
    d1,
    'SELECT member_count AS kept, (SELECT count(*) FROM group_members WHERE tenant_id = ?1 AND group_id = ?2) AS rows FROM groups WHERE tenant_id = ?1 AND id = ?2',
    big.id,
    big.bigGroupId,
  )
  out.push(
    expectEqual(
      'D1 big group: member_count, member rows',
      [counted.kept, counted.rows],
      [shape.bigGroupMembers, shape.bigGroupMembers],
    ),
  )
  for (const t of mix)
    out.push(
      expectEqual(
        `${t.id}: GET /Users?count=1 totalResults`,
        (await json(app, scimGet(t, '/Users?count=1'))).totalResults,
        mixShape.users,
      ),
    )
  return out
}

/** The timed writes, read back. */
export async function verifyAfterWrites(
  app: string,
  d1: D1Database,
  big: SeededTenant,
  expected: {
    bigGroupMembers: number
    emptyGroups: string[]
    emptyGroupMembers: number
    deactivated: string[]
    minUsers: number
  },
): Promise<Check[]> {
  const out: Check[] = []
  const bigRow = await d1Row(
    d1,
    'SELECT member_count AS kept, (SELECT count(*) FROM group_members WHERE tenant_id = ?1 AND group_id = ?2) AS rows FROM groups WHERE tenant_id = ?1 AND id = ?2',
    big.id,
    big.bigGroupId,
  )
  out.push(
    expectEqual(
      'after PATCH: big group member_count, member rows',
      [bigRow.kept, bigRow.rows],
      [expected.bigGroupMembers, expected.bigGroupMembers],
    ),
  )
  for (const id of expected.emptyGroups) {
    const row = await d1Row(
      d1,
      'SELECT member_count AS kept, (SELECT count(*) FROM group_members WHERE tenant_id = ?1 AND group_id = ?2) AS rows FROM groups WHERE tenant_id = ?1 AND id = ?2',
      big.id,
      id,
    )
    out.push(
      expectEqual(
        `after PATCH: group ${id.slice(0, 8)} member_count, member rows`,
        [row.kept, row.rows],
        [expected.emptyGroupMembers, expected.emptyGroupMembers],
      ),
    )
  }
  for (const id of expected.deactivated) {
    const user = await json(app, requests.getUser(big, id))
    if (user.active !== false) throw new Error(`check failed: user ${id} is still active after PATCH deactivate`)
  }
  out.push({
    check: `after PATCH deactivate: ${expected.deactivated.length} sampled users read back active=false`,
    ok: true,
  })
  const users = await d1Row(
    d1,
    'SELECT (SELECT users FROM tenant_counts WHERE tenant_id = ?1) AS kept, (SELECT count(*) FROM users WHERE tenant_id = ?1 AND deleted_at IS NULL) AS live',
    big.id,
  )
  out.push(expectEqual('after POST: kept user count equals live users', users.kept, users.live))
  if (users.live < expected.minUsers)
    throw new Error(`check failed: ${users.live} live users, expected at least ${expected.minUsers}`)
  out.push({ check: `after POST: ${users.live} live users >= ${expected.minUsers} (seeded + created)`, ok: true })
  return out
}

/**
 * After the mixed workload: nothing lost or duplicated in its tenants. Per tenant, the kept user and
 * group counts equal the live rows, no userName is live twice, every group's kept member count
 * equals its member rows, and every member is a live user of that tenant.
 */
export async function verifyMixedTenants(d1: D1Database, mix: SeededTenant[]): Promise<Check[]> {
  const out: Check[] = []
  for (const t of mix) {
    const row = await d1Row(
      d1,
      `SELECT
         (SELECT users FROM tenant_counts WHERE tenant_id = ?1) AS keptUsers,
         (SELECT count(*) FROM users WHERE tenant_id = ?1 AND deleted_at IS NULL) AS liveUsers,
         (SELECT groups FROM tenant_counts WHERE tenant_id = ?1) AS keptGroups,
         (SELECT count(*) FROM groups WHERE tenant_id = ?1) AS groupRows,
         (SELECT count(*) FROM (SELECT user_name FROM users WHERE tenant_id = ?1 AND deleted_at IS NULL GROUP BY user_name HAVING count(*) > 1)) AS duplicateUserNames,
         (SELECT count(*) FROM groups g WHERE g.tenant_id = ?1 AND g.member_count <> (SELECT count(*) FROM group_members m WHERE m.tenant_id = ?1 AND m.group_id = g.id)) AS groupsWithWrongCount,
         (SELECT count(*) FROM group_members m WHERE m.tenant_id = ?1 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ?1 AND u.id = m.member_id AND u.deleted_at IS NULL)) AS orphanMembers`,
      t.id,
    )
    out.push(
      expectEqual(
        `${t.id} after the mixed workload: kept/live users, kept/rows groups, duplicate userNames, groups with a wrong member count, orphan members`,
        [row.keptUsers, row.keptGroups, row.duplicateUserNames, row.groupsWithWrongCount, row.orphanMembers],
        [row.liveUsers, row.groupRows, 0, 0, 0],
      ),
    )
  }
  return out
}

/**
 * The token the bench times with, before any timing: the token endpoint answered a Bearer token with
 * both scopes and the tenant's lifetime, signed with this run's key (its `kid`); the same GET answers
 * user 1 with the static bearer token and with that access token.
 */
export async function verifyOAuth(app: string, big: SeededTenant, tokenBody: string, kid: string): Promise<Check[]> {
  const out: Check[] = []
  const grant = JSON.parse(tokenBody) as Json
  out.push(
    expectEqual(
      'POST /oauth/{tenant}/token (client_secret_basic): token_type, scope, expires_in',
      [grant.token_type, grant.scope, grant.expires_in],
      ['Bearer', 'scim:read scim:write', 3600],
    ),
  )
  const token = String(grant.access_token ?? '')
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8') || '{}') as Json
  out.push(
    expectEqual('access token header: alg, typ, kid', [header.alg, header.typ, header.kid], ['ES256', 'at+jwt', kid]),
  )
  const user1 = big.userIds[0]!
  out.push(
    expectEqual(
      'GET /Users/{user 1} with the static bearer token: userName',
      (await json(app, requests.getUserAs(big, user1, big.bearer))).userName,
      'user1@example.com',
    ),
  )
  out.push(
    expectEqual(
      'GET /Users/{user 1} with the OAuth access token: userName',
      (await json(app, requests.getUserAs(big, user1, `Bearer ${token}`))).userName,
      'user1@example.com',
    ),
  )
  return out
}
