import { commonAttributes } from './common.ts'
import { enterpriseUserSchema } from './enterprise-user.ts'
import { groupSchema } from './group.ts'
import type { AttributeDef, ResourceTypeDef, SchemaDef } from './types.ts'
import { userSchema } from './user.ts'

export { commonAttributes, enterpriseUserSchema, groupSchema, userSchema }
export type { AttributeDef, ResourceTypeDef, SchemaDef }

/** The User resource type, RFC 7643 §6. */
export const userResourceType: ResourceTypeDef = {
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: userSchema,
  extensions: [{ schema: enterpriseUserSchema, required: false }],
}

/** The Group resource type, RFC 7643 §6. */
export const groupResourceType: ResourceTypeDef = {
  id: 'Group',
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  schema: groupSchema,
  extensions: [],
}

export const resourceTypes: ResourceTypeDef[] = [userResourceType, groupResourceType]
export const schemas: SchemaDef[] = [userSchema, enterpriseUserSchema, groupSchema]

/** An attribute resolved against a resource type: where it lives and its definition. */
export interface ResolvedAttribute {
  /** The schema URN that holds the attribute; for the core schema and common attributes, the core URN. */
  schema: string
  /** True when the attribute lives in an extension, i.e. under its URN key in the resource JSON. */
  extension: boolean
  attribute: AttributeDef
  /** Set when the path names a sub-attribute of a complex attribute. */
  subAttribute?: AttributeDef
}

/** Finds an attribute by name, case-insensitively (RFC 7643 §2.1). */
export function findAttribute(list: readonly AttributeDef[] | undefined, name: string): AttributeDef | undefined {
  const lower = name.toLowerCase()
  return list?.find((a) => a.name.toLowerCase() === lower)
}

/** The schema a URN names on this resource type (core or extension), case-insensitively. */
export function findSchema(type: ResourceTypeDef, urn: string): { schema: SchemaDef; extension: boolean } | undefined {
  const lower = urn.toLowerCase()
  if (type.schema.id.toLowerCase() === lower) return { schema: type.schema, extension: false }
  const ext = type.extensions.find((e) => e.schema.id.toLowerCase() === lower)
  return ext ? { schema: ext.schema, extension: true } : undefined
}

/**
 * Resolves `attr`, `attr.sub`, or `urn:...:attr[.sub]` against a resource type (RFC 7644 §3.10).
 * Returns undefined when nothing matches.
 */
export function resolveAttribute(
  type: ResourceTypeDef,
  urn: string | undefined,
  name: string,
  sub?: string,
): ResolvedAttribute | undefined {
  let found: { schema: SchemaDef; extension: boolean } | undefined
  let attribute: AttributeDef | undefined
  if (urn) {
    found = findSchema(type, urn)
    if (!found) return undefined
    attribute = findAttribute(found.schema.attributes, name)
    if (!attribute && !found.extension) attribute = findAttribute(commonAttributes, name)
  } else {
    found = { schema: type.schema, extension: false }
    attribute = findAttribute(type.schema.attributes, name) ?? findAttribute(commonAttributes, name)
  }
  if (!attribute) return undefined
  const resolved: ResolvedAttribute = { schema: found.schema.id, extension: found.extension, attribute }
  if (sub !== undefined) {
    const subAttribute = findAttribute(attribute.subAttributes, sub)
    if (!subAttribute) return undefined
    resolved.subAttribute = subAttribute
  }
  return resolved
}

/** The canonical (schema-cased) name of an attribute path, for messages and keys. */
export function canonicalPath(resolved: ResolvedAttribute): string {
  const base = resolved.extension ? `${resolved.schema}:${resolved.attribute.name}` : resolved.attribute.name
  return resolved.subAttribute ? `${base}.${resolved.subAttribute.name}` : base
}
export {
  catalogEndpoint,
  catalogResourceType,
  catalogTypeProblem,
  entitlementSchema,
  roleSchema,
  ROLE_TYPE,
} from './catalog.ts'
