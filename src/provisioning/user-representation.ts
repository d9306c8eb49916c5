import type { UserRecord } from '../db/users.ts'
import { userResourceType } from '../scim/schemas/index.ts'
import { etag, represent } from '../scim/resource/represent.ts'
import type { Json } from '../scim/resource/values.ts'

/** A member's group, for the read-only User `groups` attribute (RFC 7643 §4.1.2). */
export interface UserGroupRef {
  id: string
  displayName: string
}

/** The SCIM representation of a user, with meta and its direct groups. */
export function userRepresentation(record: UserRecord, baseUrl: string, groups: UserGroupRef[] = []): Json {
  const stored: Json = { ...record.resource }
  if (groups.length) {
    stored.groups = groups.map((g) => ({ value: g.id, $ref: `${baseUrl}/Groups/${g.id}`, display: g.displayName, type: 'direct' }))
  }
  return represent(userResourceType, record.id, stored, {
    created: record.createdAt,
    lastModified: record.updatedAt,
    location: `${baseUrl}/Users/${record.id}`,
    version: etag(record.version),
  })
}
