/** GET /Users and POST /Users/.search (RFC 7644 §3.4.2, §3.4.3). */
import { desc, asc } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { userFilterSql, userSortSql } from '../db/filter-sql.ts'
import { groupsOfUsers } from '../db/groups.ts'
import { listUsers } from '../db/users.ts'
import { checkFilter } from '../scim/filter/check.ts'
import { parseFilter } from '../scim/filter/parser.ts'
import type { ListParams } from '../scim/list/params.ts'
import { listResponse } from '../scim/list/response.ts'
import { parseAttributeList, project, splitAttributePath, wantsAttribute, type Projection } from '../scim/resource/projection.ts'
import { userResourceType } from '../scim/schemas/index.ts'
import { userRepresentation } from './user-representation.ts'

/** Parses attributes / excludedAttributes for Users. */
export function userProjection(params: { attributes?: string; excludedAttributes?: string }): Projection {
  return {
    attributes: parseAttributeList(userResourceType, params.attributes, 'attributes'),
    excludedAttributes: parseAttributeList(userResourceType, params.excludedAttributes, 'excludedAttributes'),
  }
}

/** One page of users as a ListResponse. */
export async function searchUsers(db: Db, tenantId: string, baseUrl: string, params: ListParams) {
  const projection = userProjection(params)
  let where
  if (params.filter !== undefined) {
    const filter = parseFilter(params.filter)
    checkFilter(userResourceType, filter)
    where = userFilterSql(filter)
  }
  const orderBy = []
  if (params.sortBy) {
    const column = userSortSql(splitAttributePath(params.sortBy))
    orderBy.push(params.sortOrder === 'descending' ? desc(column) : asc(column))
  }
  const { total, records } = await listUsers(db, tenantId, { where, offset: params.startIndex - 1, count: params.count, orderBy })
  const groups = wantsAttribute(projection, 'groups') ? await groupsOfUsers(db, tenantId, records.map((r) => r.id)) : undefined
  const resources = records.map((r) => project(userResourceType, userRepresentation(r, baseUrl, groups?.get(r.id)), projection))
  return listResponse(resources, total, params.startIndex)
}
