/** `sortBy` (RFC 7644 §3.4.2.3): the attributes that have a column, and nothing else. */
import { sql, type SQL } from 'drizzle-orm'
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core'
import { declaredSchema } from '../scim/schemas/extension.ts'
import { InvalidValue } from '../scim/errors.ts'
import { formatPath, type AttrPath } from '../scim/filter/ast.ts'
import { canonicalPath, groupResourceType, resolveAttribute, userResourceType } from '../scim/schemas/index.ts'
import type { ResourceTypeDef } from '../scim/schemas/types.ts'
import { catalogEntries, groups, users } from './schema.ts'

const USER_SORT: Record<string, AnySQLiteColumn> = {
  userName: users.userName,
  displayName: users.displayName,
  'name.givenName': users.givenName,
  'name.familyName': users.familyName,
  externalId: users.externalId,
  // The primary email, else the first (src/db/schema.ts); RFC 7644 §3.4.2.3 sorts multi-valued attributes by primary.
  'emails.value': users.email,
  'meta.created': users.createdAt,
  'meta.lastModified': users.updatedAt,
  id: users.id,
}

const GROUP_SORT: Record<string, AnySQLiteColumn> = {
  displayName: groups.displayName,
  externalId: groups.externalId,
  'meta.created': groups.createdAt,
  'meta.lastModified': groups.updatedAt,
  id: groups.id,
}

const CATALOG_SORT: Record<string, AnySQLiteColumn> = {
  displayName: catalogEntries.displayName,
  'meta.created': catalogEntries.createdAt,
  'meta.lastModified': catalogEntries.updatedAt,
  id: catalogEntries.id,
}

/** Attribute paths that `sortBy` accepts on /Users, RFC 7644 §3.4.2.3 (for ServiceProviderConfig and messages). */
export const userSortableAttributes: readonly string[] = Object.keys(USER_SORT)
/** Attribute paths that `sortBy` accepts on /Groups, RFC 7644 §3.4.2.3. */
export const groupSortableAttributes: readonly string[] = Object.keys(GROUP_SORT)

/** The users column for `sortBy`, RFC 7644 §3.4.2.3; throws InvalidValue for other attributes. */
export function userSortSql(path: AttrPath, type: ResourceTypeDef = userResourceType): AnySQLiteColumn | SQL {
  const declared = declaredSchema(type)
  const resolved = declared && resolveAttribute(type, path.urn, path.attr, path.sub)
  if (resolved && resolved.schema === declared.id && !resolved.attribute.multiValued) {
    // A tenant's declared attribute: sorted by its value in the resource (sorted pages use OFFSET anyway).
    const value = sql.raw(`json_extract(resource, '$."${declared.id}"."${resolved.attribute.name}"')`)
    const text = ['string', 'reference'].includes(resolved.attribute.type) && !resolved.attribute.caseExact
    return text ? sql`lower(${value})` : value
  }
  return sortColumn(type, USER_SORT, path)
}

/** The groups column for `sortBy`, RFC 7644 §3.4.2.3; throws InvalidValue for other attributes. */
export function groupSortSql(path: AttrPath): AnySQLiteColumn {
  return sortColumn(groupResourceType, GROUP_SORT, path)
}

function sortColumn(type: ResourceTypeDef, map: Record<string, AnySQLiteColumn>, path: AttrPath): AnySQLiteColumn {
  const resolved = resolveAttribute(type, path.urn, path.attr, path.sub)
  let key = resolved ? canonicalPath(resolved) : undefined
  // `sortBy=emails` sorts by the value sub-attribute, as filters do.
  if (key !== undefined && map[key] === undefined && map[`${key}.value`] !== undefined) key = `${key}.value`
  const found = key === undefined ? undefined : map[key]
  if (!found) {
    throw new InvalidValue(
      `sortBy "${formatPath(path)}" is not supported; sortable attributes: ${Object.keys(map).join(', ')}`,
    )
  }
  return found
}

/** The catalog_entries column for `sortBy` on a catalogue type's endpoint; throws InvalidValue for other attributes. */
export function catalogSortSql(type: ResourceTypeDef, path: AttrPath): AnySQLiteColumn {
  return sortColumn(type, CATALOG_SORT, path)
}
