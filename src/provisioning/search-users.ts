/** GET /Users and POST /Users/.search (RFC 7644 §3.4.2, §3.4.3). */
import { userFilterSql, userSortSql } from '../db/filter-sql.ts'
import { userPages, type UserRecord } from '../db/users.ts'
import type { Projection } from '../scim/resource/projection.ts'
import { userResourceType } from '../scim/schemas/index.ts'
import { projectionOf, type SearchSpec } from './search.ts'
import { userBodies } from './user-representation.ts'

/** Parses attributes / excludedAttributes for Users. */
export function userProjection(params: { attributes?: string; excludedAttributes?: string }): Projection {
  return projectionOf(userResourceType, params)
}

/** How Users are listed: filters and sorting on their columns, groups read for a whole page at once. */
export const userSearch: SearchSpec<UserRecord> = {
  type: userResourceType,
  filterSql: userFilterSql,
  sortColumn: userSortSql,
  pages: userPages,
  represent: userBodies,
}
