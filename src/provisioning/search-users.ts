/** GET /Users and POST /Users/.search (RFC 7644 §3.4.2, §3.4.3). */
import { userFilterSql, userSortSql } from '../db/filter-sql.ts'
import { userPages, type UserRecord } from '../db/users.ts'
import type { Projection } from '../scim/resource/projection.ts'
import type { ResourceTypeDef } from '../scim/schemas/index.ts'
import type { Scope } from '../scope/scope.ts'
import { projectionOf, type SearchSpec } from './search.ts'
import { userBodies } from './user-representation.ts'

/** Parses attributes / excludedAttributes for the tenant's Users. */
export function userProjection(scope: Scope, params: { attributes?: string; excludedAttributes?: string }): Projection {
  return projectionOf(scope.userType, params)
}

const specs = new WeakMap<ResourceTypeDef, SearchSpec<UserRecord>>()

/** How the tenant's Users are listed: filters and sorting on their columns, groups read for a whole page at once. */
export function userSearch(scope: Scope): SearchSpec<UserRecord> {
  const type = scope.userType
  let spec = specs.get(type)
  if (!spec) {
    spec = {
      type,
      // A User type with declared attributes is one tenant's, so its key can be kept with it.
      filterSql: (filter) => userFilterSql(filter, type, scope.tenantKey),
      sortColumn: (path) => userSortSql(path, type),
      pages: userPages,
      represent: userBodies,
    }
    specs.set(type, spec)
  }
  return spec
}
