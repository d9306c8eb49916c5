import { listMembers, type GroupRecord, type MemberRef } from '../db/groups.ts'
import type { Db } from '../db/client.ts'
import { etag, represent } from '../scim/resource/represent.ts'
import type { Json } from '../scim/resource/values.ts'
import { groupResourceType } from '../scim/schemas/index.ts'

/** Members are read in keyset pages of this size, so no single query returns a whole big group. */
const MEMBER_PAGE = 1000

/** All members of a group, read page by page in member id order. */
export async function loadMembers(db: Db, tenantId: string, groupId: string): Promise<MemberRef[]> {
  const out: MemberRef[] = []
  let after = ''
  for (;;) {
    const page = await listMembers(db, tenantId, groupId, after, MEMBER_PAGE)
    out.push(...page)
    if (page.length < MEMBER_PAGE) return out
    after = page[page.length - 1]!.id
  }
}

/** A member as SCIM shows it (RFC 7643 §4.2). */
export function memberValue(baseUrl: string, m: MemberRef): Json {
  const out: Json = { value: m.id, $ref: `${baseUrl}/Users/${m.id}`, type: 'User' }
  if (m.display) out.display = m.display
  return out
}

/** The SCIM representation of a group; `members` only when given (RFC 7643 §4.2). */
export function groupRepresentation(record: GroupRecord, baseUrl: string, members?: MemberRef[]): Json {
  const stored: Json = { ...record.resource }
  if (members?.length) stored.members = members.map((m) => memberValue(baseUrl, m))
  return represent(groupResourceType, record.id, stored, {
    created: record.createdAt,
    lastModified: record.updatedAt,
    location: `${baseUrl}/Groups/${record.id}`,
    version: etag(record.version),
  })
}
