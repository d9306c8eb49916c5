/**
 * A tenant's own User attributes, declared by support: one extension schema per tenant, under
 * `urn:ietf:params:scim:schemas:extension:{tenant}:2.0:User`, added to the User resource type of that
 * tenant only. The declarations are data (they live in the tenant document); this builds the schema.
 */
import { attr, type AttributeDef, type ResourceTypeDef, type SchemaDef } from './types.ts'

/** The types a declared attribute may have (RFC 7643 §2.3, simple types). */
export const DECLARED_TYPES = ['string', 'boolean', 'integer', 'decimal', 'dateTime', 'reference'] as const
export type DeclaredType = (typeof DECLARED_TYPES)[number]

/** One attribute as support declares it. */
export interface DeclaredAttribute {
  name: string
  type: DeclaredType
  multiValued?: boolean
  caseExact?: boolean
  required?: boolean
  canonicalValues?: string[]
  description?: string
}

/** The most attributes a tenant may declare. */
export const MAX_DECLARED_ATTRIBUTES = 50

/** The URN of a tenant's extension schema. */
export function tenantExtensionUrn(tenantId: string): string {
  return `urn:ietf:params:scim:schemas:extension:${tenantId}:2.0:User`
}

/** Why a declaration cannot be added next to `existing`, or undefined (RFC 7643 §2.1 ATTRNAME). */
export function declarationProblem(declared: DeclaredAttribute, existing: DeclaredAttribute[]): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(declared.name))
    return `"${declared.name.slice(0, 70)}" is not an attribute name: a letter, then letters, digits, "-" or "_" (at most 64)`
  if (!DECLARED_TYPES.includes(declared.type)) return `the type must be one of ${DECLARED_TYPES.join(', ')}`
  if (existing.some((a) => a.name.toLowerCase() === declared.name.toLowerCase()))
    return `${declared.name} is declared already; remove it first to change it`
  if (existing.length >= MAX_DECLARED_ATTRIBUTES)
    return `a tenant declares at most ${MAX_DECLARED_ATTRIBUTES} attributes`
  if (declared.canonicalValues && declared.type !== 'string') return 'canonical values apply to string attributes only'
  if (declared.canonicalValues?.some((v) => !v.trim() || v.length > 200))
    return 'canonical values must be 1 to 200 characters each'
  return undefined
}

/** The attribute definition of a declaration. */
function definition(d: DeclaredAttribute): AttributeDef {
  return attr(d.name, d.type, d.description ?? `${d.name}, declared for this tenant`, {
    multiValued: d.multiValued ?? false,
    caseExact: d.caseExact ?? false,
    required: d.required ?? false,
    ...(d.canonicalValues?.length ? { canonicalValues: d.canonicalValues } : {}),
    ...(d.type === 'reference' ? { referenceTypes: ['external'] } : {}),
  })
}

/** The tenant's extension schema. */
export function tenantExtensionSchema(tenantId: string, declared: DeclaredAttribute[]): SchemaDef {
  return {
    id: tenantExtensionUrn(tenantId),
    name: `${tenantId} User`,
    description: `Attributes of tenant ${tenantId}`,
    attributes: declared.map(definition),
  }
}

const built = new WeakMap<DeclaredAttribute[], ResourceTypeDef>()
const declaredSchemas = new WeakSet<SchemaDef>()

/** The extension schema of the attributes a tenant declared, in its User type; undefined when none. */
export function declaredSchema(type: ResourceTypeDef): SchemaDef | undefined {
  return type.extensions.find((e) => declaredSchemas.has(e.schema))?.schema
}

/**
 * The User resource type of a tenant: the core schema, the enterprise extension and, when the tenant
 * declared attributes, its own extension (required when one of them is required).
 */
export function tenantUserType(
  base: ResourceTypeDef,
  tenantId: string,
  declared: DeclaredAttribute[] | undefined,
): ResourceTypeDef {
  if (!declared?.length) return base
  const cached = built.get(declared)
  if (cached) return cached
  const schema = tenantExtensionSchema(tenantId, declared)
  declaredSchemas.add(schema)
  const type: ResourceTypeDef = {
    ...base,
    extensions: [...base.extensions, { schema, required: declared.some((d) => d.required) }],
  }
  built.set(declared, type)
  return type
}
