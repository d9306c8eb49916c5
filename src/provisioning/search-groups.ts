/** GET /Groups and POST /Groups/.search (RFC 7644 §3.4.2, §3.4.3). */
import { groupFilterSql, groupSortSql } from '../db/filter-sql.ts'
import { groupPages, type GroupRecord } from '../db/groups.ts'
import type { Projection } from '../scim/resource/projection.ts'
import { groupResourceType } from '../scim/schemas/index.ts'
import { groupBody } from './group-representation.ts'
import { projectionOf, type SearchSpec } from './search.ts'

/** Parses attributes / excludedAttributes for Groups. */
export function groupProjection(params: { attributes?: string; excludedAttributes?: string }): Projection {
  return projectionOf(groupResourceType, params)
}

/**
 * How Groups are listed: members are read only when the projection wants them, and then streamed
 * group by group, so a page of big groups never sits in memory whole.
 */
export const groupSearch: SearchSpec<GroupRecord> = {
  type: groupResourceType,
  filterSql: groupFilterSql,
  sortColumn: groupSortSql,
  pages: groupPages,
  async represent(scope, records, projection) {
    return records.map((record) => groupBody(scope, record, projection))
  },
}
