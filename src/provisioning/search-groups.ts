/** GET /Groups and POST /Groups/.search (RFC 7644 §3.4.2, §3.4.3). */
import { groupFilterSql, groupSortSql } from '../db/filter-sql.ts'
import { groupPages, type GroupRecord } from '../db/groups.ts'
import { project, wantsAttribute, type Projection } from '../scim/resource/projection.ts'
import { groupResourceType } from '../scim/schemas/index.ts'
import { groupRepresentation, loadMembers } from './group-representation.ts'
import { projectionOf, type SearchSpec } from './search.ts'

/** Parses attributes / excludedAttributes for Groups. */
export function groupProjection(params: { attributes?: string; excludedAttributes?: string }): Projection {
  return projectionOf(groupResourceType, params)
}

/** How Groups are listed: members are read only when the projection wants them. */
export const groupSearch: SearchSpec<GroupRecord> = {
  type: groupResourceType,
  filterSql: groupFilterSql,
  sortColumn: groupSortSql,
  pages: groupPages,
  async represent(db, tenantId, baseUrl, records, projection) {
    const withMembers = wantsAttribute(groupResourceType, projection, 'members')
    const out = []
    for (const record of records) {
      const members = withMembers && record.memberCount > 0 ? await loadMembers(db, tenantId, record.id) : undefined
      out.push(project(groupResourceType, groupRepresentation(record, baseUrl, members), projection))
    }
    return out
  },
}
