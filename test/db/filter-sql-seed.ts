/** Seeding D1 rows directly for the filter SQL tests, the way src/db/schema.ts documents the columns. */
import { env } from 'cloudflare:test'
import { and, asc, eq, isNull, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { groupMembers, groups, userEmails, users } from '../../src/db/schema.ts'
import { canonicalName, canonicalOrNull } from '../../src/scim/resource/canonical.ts'

export const db = drizzle(env.DB)
export const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
export type Resource = Record<string, any>

let tenants = 0
export const newTenant = () => `filter-sql-${++tenants}`
/** The comparison form the columns hold (src/scim/resource/canonical.ts). */
const lower = canonicalOrNull

/** Writes a user the way src/db/schema.ts documents the columns: comparison forms, and the resource without id/meta/groups. */
export function insertUser(tenantId: string, seq: number, r: Resource) {
  const { id, meta, groups: _groups, ...stored } = r
  const emails: Resource[] = Array.isArray(r.emails) ? r.emails : []
  const primary = emails.find((e) => e.primary === true) ?? emails[0]
  const ent = r[ENT] ?? {}
  const statements: any[] = [
    db.insert(users).values({
      tenantId,
      id,
      seq,
      userName: canonicalName(r.userName),
      externalId: r.externalId ?? null,
      displayName: lower(r.displayName),
      givenName: lower(r.name?.givenName),
      familyName: lower(r.name?.familyName),
      email: lower(primary?.value),
      employeeNumber: lower(ent.employeeNumber),
      department: lower(ent.department),
      managerId: ent.manager?.value ?? null,
      active: r.active === true,
      state: 'provisioned',
      source: 'scim',
      version: 1,
      createdAt: meta.created,
      updatedAt: meta.lastModified,
      resource: JSON.stringify(stored),
    }),
  ]
  // As src/db/user-columns.ts writes them: no row for an email without a value, the first of a (value, type) wins.
  for (const e of emails) {
    const value = lower(e.value)
    if (!value) continue
    statements.push(
      db
        .insert(userEmails)
        .values({ tenantId, userId: id, value, type: lower(e.type) ?? '', primary: e.primary === true })
        .onConflictDoNothing(),
    )
  }
  return statements
}

export function insertGroup(tenantId: string, seq: number, g: Resource) {
  const { id, meta, members, ...stored } = g
  return [
    db.insert(groups).values({
      tenantId,
      id,
      seq,
      displayName: canonicalName(g.displayName),
      externalId: g.externalId ?? null,
      source: 'scim',
      version: 1,
      createdAt: meta.created,
      updatedAt: meta.lastModified,
      resource: JSON.stringify(stored),
    }),
    ...(members as Resource[]).map((m) => db.insert(groupMembers).values({ tenantId, groupId: id, memberId: m.value })),
  ]
}

export async function seed(tenantId: string, userList: Resource[], groupList: Resource[] = []) {
  const statements = [
    ...userList.flatMap((u, i) => insertUser(tenantId, i + 1, u)),
    ...groupList.flatMap((g, i) => insertGroup(tenantId, i + 1, g)),
  ]
  if (statements.length) await db.batch(statements as [any, ...any[]])
}

export async function userIds(tenantId: string, condition: SQL): Promise<string[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), isNull(users.deletedAt), condition))
    .orderBy(asc(users.id))
  return rows.map((r) => r.id).sort()
}

export async function groupIds(tenantId: string, condition: SQL): Promise<string[]> {
  const rows = await db
    .select({ id: groups.id })
    .from(groups)
    .where(and(eq(groups.tenantId, tenantId), condition))
  return rows.map((r) => r.id).sort()
}
