/** How a group is shown over SCIM (RFC 7643 §4.2): its stored attributes, its members and meta. */
import type { GroupRecord } from '../db/groups.ts'
import { listMembers, type MemberRef } from '../db/members.ts'
import { project, wantsAttribute, type Projection } from '../scim/resource/projection.ts'
import { etag, represent } from '../scim/resource/represent.ts'
import type { Json } from '../scim/resource/values.ts'
import { groupResourceType } from '../scim/schemas/index.ts'
import type { Scope } from '../scope/scope.ts'

/** Members are read in keyset pages of this size, so no single query returns a whole big group. */
const MEMBER_PAGE = 1000

/** A resource whose JSON is produced in chunks (a group with its members), never whole in memory. */
export interface StreamedJson {
  chunks(): AsyncGenerator<string>
}

/** A member as SCIM shows it (RFC 7643 §4.2). */
export function memberValue(baseUrl: string, m: MemberRef): Json {
  const out: Json = { value: m.id, $ref: `${baseUrl}/Users/${m.id}`, type: 'User' }
  if (m.display) out.display = m.display
  return out
}

/** The SCIM representation of a group without its members (RFC 7643 §4.2). */
export function groupRepresentation(record: GroupRecord, baseUrl: string): Json {
  return represent(
    groupResourceType,
    record.id,
    { ...record.resource },
    {
      created: record.createdAt,
      lastModified: record.updatedAt,
      location: `${baseUrl}/Groups/${record.id}`,
      version: etag(record.version),
    },
  )
}

/**
 * A group with its members as streamed JSON: its attributes, then the members page by page (keyset on
 * member id), then meta. Reading a 50,000-member group holds one page of members in memory at a time.
 */
export function streamedGroup(scope: Scope, record: GroupRecord, projection: Projection): StreamedJson {
  const { baseUrl } = scope
  return {
    async *chunks() {
      const { meta, ...head } = project(groupResourceType, groupRepresentation(record, baseUrl), projection)
      yield `${JSON.stringify(head).slice(0, -1)},"members":[`
      let after = ''
      let first = true
      for (;;) {
        const page = await listMembers(scope, record.id, { afterId: after, limit: MEMBER_PAGE })
        if (page.length) {
          const parts = page.map((m) =>
            JSON.stringify(
              (project(groupResourceType, { members: [memberValue(baseUrl, m)] }, projection).members as unknown[])[0],
            ),
          )
          yield (first ? '' : ',') + parts.join(',')
          first = false
          after = page[page.length - 1]!.id
        }
        if (page.length < MEMBER_PAGE) break
      }
      yield `]${meta === undefined ? '' : `,"meta":${JSON.stringify(meta)}`}}`
    },
  }
}

/**
 * A group as a response body: plain JSON, or streamed when the projection returns members and there
 * are any (they are read page by page, whatever the group's size).
 */
export function groupBody(scope: Scope, record: GroupRecord, projection: Projection): Json | StreamedJson {
  if (wantsAttribute(groupResourceType, projection, 'members') && record.memberCount > 0)
    return streamedGroup(scope, record, projection)
  return project(groupResourceType, groupRepresentation(record, scope.baseUrl), projection)
}
