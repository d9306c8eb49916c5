import type { Db } from '../db/client.ts'
import { listMembers, type GroupRecord, type MemberRef } from '../db/groups.ts'
import { project, type Projection } from '../scim/resource/projection.ts'
import { etag, represent } from '../scim/resource/represent.ts'
import type { Json } from '../scim/resource/values.ts'
import { groupResourceType } from '../scim/schemas/index.ts'

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
  return represent(groupResourceType, record.id, { ...record.resource }, {
    created: record.createdAt,
    lastModified: record.updatedAt,
    location: `${baseUrl}/Groups/${record.id}`,
    version: etag(record.version),
  })
}

/**
 * A group with its members as streamed JSON: its attributes, then the members page by page (keyset on
 * member id), then meta. Reading a 50,000-member group holds one page of members in memory at a time.
 */
export function streamedGroup(db: Db, tenantId: string, baseUrl: string, record: GroupRecord, projection: Projection): StreamedJson {
  return {
    async *chunks() {
      const { meta, ...head } = project(groupResourceType, groupRepresentation(record, baseUrl), projection)
      yield `${JSON.stringify(head).slice(0, -1)},"members":[`
      let after = ''
      let first = true
      for (;;) {
        const page = await listMembers(db, tenantId, record.id, after, MEMBER_PAGE)
        if (page.length) {
          const parts = page.map((m) => JSON.stringify((project(groupResourceType, { members: [memberValue(baseUrl, m)] }, projection).members as unknown[])[0]))
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
