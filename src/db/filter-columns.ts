/**
 * The filter's attribute map: which column, child table or JSON path answers each
 * attribute, and in which stored form. Column names appear only here and in schema.ts.
 */
import { sql, type SQL } from 'drizzle-orm'
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core'
import { groupResourceType, userResourceType } from '../scim/schemas/index.ts'
import { declaredSchema } from '../scim/schemas/extension.ts'
import type { ResourceTypeDef } from '../scim/schemas/types.ts'
import { URN } from '../scim/urns.ts'
import { catalogEntries, groupMembers, groups, userEmails, users } from './schema.ts'

/** How a value is stored where the filter reads it. */
export type Source =
  /**
   * `lower`: canonicalName() of a caseExact:false string (src/scim/resource/canonical.ts: width mapping,
   * NFC, toLowerCase, NFC); `exact`: as sent; `iso`: toISOString(); `bool`: 0/1.
   */
  | { kind: 'column'; column: AnySQLiteColumn; form: 'lower' | 'exact' | 'iso' | 'bool' }
  | { kind: 'json'; doc: SQL; path: string }
  /**
   * A tenant's declared attribute, one row per value in user_attribute_values (the form of
   * attributeForm in src/db/user-columns.ts), looked up by its index under the tenant's key.
   */
  | { kind: 'indexed'; attr: string; tenantKey: string }
  /** Same value on every row (meta.resourceType). */
  | { kind: 'constant'; value: string }
  /** Not stored in a filterable form (meta.location, meta.version); always present. */
  | { kind: 'unsupported' }

/** A multi-valued attribute kept in its own table, one row per element. */
export interface ChildTable {
  from: SQL
  link: SQL
  subs: Record<string, Source>
  /** Whether `resource` also holds the attribute, so sub-attributes without a column can use JSON. */
  inJson: boolean
  /** Rows exist only for elements where this sub-attribute is present; filters that could match without it read the JSON. */
  onlyWith?: string
}

export interface TableMap {
  type: ResourceTypeDef
  resource: AnySQLiteColumn
  columns: Record<string, Source>
  children: Record<string, ChildTable>
}

const column = (c: AnySQLiteColumn, form: 'lower' | 'exact' | 'iso' | 'bool'): Source => ({
  kind: 'column',
  column: c,
  form,
})
const unsupported: Source = { kind: 'unsupported' }

/** Where each User attribute is read: columns, child tables, else the resource JSON. */
export const USERS: TableMap = {
  type: userResourceType,
  resource: users.resource,
  columns: {
    id: column(users.id, 'exact'),
    externalId: column(users.externalId, 'exact'),
    userName: column(users.userName, 'lower'),
    displayName: column(users.displayName, 'lower'),
    'name.givenName': column(users.givenName, 'lower'),
    'name.familyName': column(users.familyName, 'lower'),
    active: column(users.active, 'bool'),
    [`${URN.enterpriseUser}:employeeNumber`]: column(users.employeeNumber, 'lower'),
    [`${URN.enterpriseUser}:department`]: column(users.department, 'lower'),
    [`${URN.enterpriseUser}:manager.value`]: column(users.managerId, 'exact'),
    'meta.created': column(users.createdAt, 'iso'),
    'meta.lastModified': column(users.updatedAt, 'iso'),
    'meta.resourceType': { kind: 'constant', value: 'User' },
    'meta.location': unsupported,
    'meta.version': unsupported,
  },
  children: {
    emails: {
      from: sql`${userEmails}`,
      link: sql`${userEmails.tenantId} = ${users.tenantId} AND ${userEmails.userId} = ${users.id}`,
      // is_primary is not used: the writer keeps one row per (value, type), so it cannot tell which
      // duplicate was primary, and 0 cannot tell false from missing. `primary` reads the JSON.
      subs: { value: column(userEmails.value, 'lower'), type: column(userEmails.type, 'lower') },
      inJson: true,
      // Emails without a value get no row (src/db/user-columns.ts).
      onlyWith: 'value',
    },
    groups: {
      from: sql`${groupMembers} JOIN ${groups} ON ${groups.tenantId} = ${groupMembers.tenantId} AND ${groups.id} = ${groupMembers.groupId}`,
      link: sql`${groupMembers.tenantId} = ${users.tenantId} AND ${groupMembers.memberId} = ${users.id}`,
      subs: { value: column(groupMembers.groupId, 'exact'), display: column(groups.displayName, 'lower') },
      inJson: false,
    },
  },
}

const usersMaps = new WeakMap<ResourceTypeDef, TableMap>()

/**
 * USERS for a tenant's User type: its declared attributes are read from user_attribute_values under
 * `tenantKey` (a User type with declared attributes belongs to one tenant document, hence one key).
 */
export function usersMap(type: ResourceTypeDef, tenantKey: string | undefined): TableMap {
  const schema = declaredSchema(type)
  if (!schema || tenantKey === undefined) return type === USERS.type ? USERS : { ...USERS, type }
  let map = usersMaps.get(type)
  if (!map) {
    const declared = Object.fromEntries(
      schema.attributes.map((a): [string, Source] => [
        `${schema.id}:${a.name}`,
        { kind: 'indexed', attr: a.name, tenantKey },
      ]),
    )
    map = { ...USERS, type, columns: { ...USERS.columns, ...declared } }
    usersMaps.set(type, map)
  }
  return map
}

/** Where each Group attribute is read. */
export const GROUPS: TableMap = {
  type: groupResourceType,
  resource: groups.resource,
  columns: {
    id: column(groups.id, 'exact'),
    externalId: column(groups.externalId, 'exact'),
    displayName: column(groups.displayName, 'lower'),
    'meta.created': column(groups.createdAt, 'iso'),
    'meta.lastModified': column(groups.updatedAt, 'iso'),
    'meta.resourceType': { kind: 'constant', value: 'Group' },
    'meta.location': unsupported,
    'meta.version': unsupported,
  },
  children: {
    members: {
      from: sql`${groupMembers}`,
      link: sql`${groupMembers.tenantId} = ${groups.tenantId} AND ${groupMembers.groupId} = ${groups.id}`,
      subs: { value: column(groupMembers.memberId, 'exact') },
      inJson: false,
    },
  },
}

/** Where each attribute of a catalogue type (Role, License, ...) is read: one map per type, as its resource type differs. */
export function catalogMap(type: ResourceTypeDef): TableMap {
  return {
    type,
    resource: catalogEntries.resource,
    columns: {
      id: column(catalogEntries.id, 'exact'),
      displayName: column(catalogEntries.displayName, 'lower'),
      type: { kind: 'constant', value: type.id },
      'meta.created': column(catalogEntries.createdAt, 'iso'),
      'meta.lastModified': column(catalogEntries.updatedAt, 'iso'),
      'meta.resourceType': { kind: 'constant', value: type.id },
      'meta.location': unsupported,
      'meta.version': unsupported,
    },
    children: {},
  }
}
