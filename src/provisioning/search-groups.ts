/** GET /Groups and POST /Groups/.search (RFC 7644 §3.4.2, §3.4.3). */
import { asc, desc } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { groupFilterSql, groupSortSql } from '../db/filter-sql.ts'
import { listGroups } from '../db/groups.ts'
import { checkFilter } from '../scim/filter/check.ts'
import { parseFilter } from '../scim/filter/parser.ts'
import type { ListParams } from '../scim/list/params.ts'
import { listResponse } from '../scim/list/response.ts'
import { parseAttributeList, project, splitAttributePath, wantsAttribute, type Projection } from '../scim/resource/projection.ts'
import { groupResourceType } from '../scim/schemas/index.ts'
import { groupRepresentation, loadMembers } from './group-representation.ts'

/** Parses attributes / excludedAttributes for Groups. */
export function groupProjection(params: { attributes?: string; excludedAttributes?: string }): Projection {
  return {
    attributes: parseAttributeList(groupResourceType, params.attributes, 'attributes'),
    excludedAttributes: parseAttributeList(groupResourceType, params.excludedAttributes, 'excludedAttributes'),
  }
}

/** One page of groups as a ListResponse; members are read only when the projection wants them. */
export async function searchGroups(db: Db, tenantId: string, baseUrl: string, params: ListParams) {
  const projection = groupProjection(params)
  let where
  if (params.filter !== undefined) {
    const filter = parseFilter(params.filter)
    checkFilter(groupResourceType, filter)
    where = groupFilterSql(filter)
  }
  const orderBy = []
  if (params.sortBy) {
    const column = groupSortSql(splitAttributePath(params.sortBy))
    orderBy.push(params.sortOrder === 'descending' ? desc(column) : asc(column))
  }
  const { total, records } = await listGroups(db, tenantId, { where, offset: params.startIndex - 1, count: params.count, orderBy })
  const withMembers = wantsAttribute(projection, 'members')
  const resources = []
  for (const record of records) {
    const members = withMembers && record.memberCount > 0 ? await loadMembers(db, tenantId, record.id) : undefined
    resources.push(project(groupResourceType, groupRepresentation(record, baseUrl, members), projection))
  }
  return listResponse(resources, total, params.startIndex)
}
