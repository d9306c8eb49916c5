/** How a user is shown over SCIM (RFC 7643 §4.1): its stored resource, its groups and meta. */
import { groupsOfUsers, type UserGroupRef } from '../db/members.ts'
import type { UserRecord } from '../db/users.ts'
import { project, wantsAttribute, type Projection } from '../scim/resource/projection.ts'
import { etag, represent } from '../scim/resource/represent.ts'
import type { Json } from '../scim/resource/values.ts'
import type { ResourceTypeDef } from '../scim/schemas/index.ts'
import type { Scope } from '../scope/scope.ts'

/** The SCIM representation of a user, with meta and its direct groups. */
export function userRepresentation(
  type: ResourceTypeDef,
  record: UserRecord,
  baseUrl: string,
  groups: UserGroupRef[] = [],
): Json {
  const stored: Json = { ...record.resource }
  if (groups.length) {
    stored.groups = groups.map((g) => ({
      value: g.id,
      $ref: `${baseUrl}/Groups/${g.id}`,
      display: g.displayName,
      type: 'direct',
    }))
  }
  return represent(type, record.id, stored, {
    created: record.createdAt,
    lastModified: record.updatedAt,
    location: `${baseUrl}/Users/${record.id}`,
    version: etag(record.version),
  })
}

/**
 * The projected representations of users (RFC 7644 §3.9). Groups are read from D1 only when the
 * projection returns them, for all the users in one query.
 */
export async function userBodies(scope: Scope, records: UserRecord[], projection: Projection): Promise<Json[]> {
  const groups = wantsAttribute(scope.userType, projection, 'groups')
    ? await groupsOfUsers(
        scope,
        records.map((r) => r.id),
      )
    : undefined
  return records.map((r) =>
    project(scope.userType, userRepresentation(scope.userType, r, scope.baseUrl, groups?.get(r.id)), projection),
  )
}
