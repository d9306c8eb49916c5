import { URN } from '../urns.ts'
import { attr, type ResourceTypeDef, type SchemaDef } from './types.ts'

const catalogAttributes = (what: string) => [
  attr('displayName', 'string', `The name of the ${what}, as the IdP shows it.`, { required: true }),
  attr('type', 'string', 'The name of the resource type this entry belongs to (Role, License, ...).', {
    required: true,
    caseExact: true,
    mutability: 'readOnly',
  }),
  attr('description', 'string', `What the ${what} grants (at most 1,000 characters).`),
  attr('totalAssignmentsPermitted', 'integer', 'How many active users may hold it; absent when unlimited.', {
    mutability: 'readOnly',
  }),
  attr('totalAssignmentsUsed', 'integer', 'How many active users hold it.', { mutability: 'readOnly' }),
]

/** Okta's Role schema: the roles an app grants (a user's `roles`). */
export const roleSchema: SchemaDef = {
  id: URN.oktaRole,
  name: 'Role',
  description: 'A role of the app',
  attributes: catalogAttributes('role'),
}

/** Okta's Entitlement schema: every other kind of grant (a user's `entitlements`, with its `type`). */
export const entitlementSchema: SchemaDef = {
  id: URN.oktaEntitlement,
  name: 'Entitlement',
  description: 'An entitlement of the app (a license, a permission, ...)',
  attributes: catalogAttributes('entitlement'),
}

/** The catalogue type that user `roles` name; every other type is named by `entitlements[].type`. */
export const ROLE_TYPE = 'Role'

/** Names a catalogue type may not take: the server's own resource types and endpoints. */
const RESERVED = new Set(['user', 'group', 'resourcetype', 'schema', 'serviceproviderconfig', 'bulk', 'me', 'search'])

/** A catalogue type name: a letter, then letters and digits, at most 40 (Role, License, Permission). */
export function catalogTypeProblem(type: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9]{0,39}$/.test(type))
    return `"${type.slice(0, 60)}" is not a resource type name: use a letter, then letters and digits (at most 40), such as Role or License`
  if (RESERVED.has(type.toLowerCase())) return `"${type}" is a resource type of its own here; choose another name`
  return undefined
}

/** The endpoint of a catalogue type: its plural (Role -> /Roles, Policy -> /Policies, Access -> /Accesses). */
export function catalogEndpoint(type: string): string {
  if (/[^aeiou]y$/i.test(type)) return `/${type.slice(0, -1)}ies`
  if (/(s|x|z|ch|sh)$/i.test(type)) return `/${type}es`
  return `/${type}s`
}

/** The resource type of a catalogue type, RFC 7643 §6. */
export function catalogResourceType(type: string): ResourceTypeDef {
  return {
    id: type,
    name: type,
    endpoint: catalogEndpoint(type),
    description: type === ROLE_TYPE ? 'Roles of the app' : `${type} entitlements of the app`,
    schema: type === ROLE_TYPE ? roleSchema : entitlementSchema,
    extensions: [],
  }
}
