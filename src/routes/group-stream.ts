/**
 * A group with many members, streamed: the JSON is written page by page of members (keyset on member
 * id), so reading a 50,000-member group holds one page in memory, never the whole list.
 */
import type { Db } from '../db/client.ts'
import { listMembers, type GroupRecord } from '../db/groups.ts'
import { groupRepresentation, memberValue } from '../provisioning/group-representation.ts'
import { project, type Projection } from '../scim/resource/projection.ts'
import { groupResourceType } from '../scim/schemas/index.ts'

const PAGE = 1000

/** The group's JSON as a stream of UTF-8 chunks: attributes, then members page by page, then meta. */
export function streamGroup(db: Db, tenantId: string, baseUrl: string, record: GroupRecord, projection: Projection): ReadableStream<Uint8Array> {
  const { meta, ...head } = project(groupResourceType, groupRepresentation(record, baseUrl), projection)
  const encoder = new TextEncoder()
  let after = ''
  let first = true
  let done = false
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`${JSON.stringify(head).slice(0, -1)},"members":[`))
    },
    async pull(controller) {
      if (done) return
      const page = await listMembers(db, tenantId, record.id, after, PAGE)
      const parts = page.map((m) => JSON.stringify((project(groupResourceType, { members: [memberValue(baseUrl, m)] }, projection).members as unknown[])[0]))
      if (parts.length) {
        controller.enqueue(encoder.encode((first ? '' : ',') + parts.join(',')))
        first = false
        after = page[page.length - 1]!.id
      }
      if (page.length < PAGE) {
        done = true
        controller.enqueue(encoder.encode(`]${meta === undefined ? '' : `,"meta":${JSON.stringify(meta)}`}}`))
        controller.close()
      }
    },
  })
}
