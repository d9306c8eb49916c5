/** Attribute and schema definitions as data, RFC 7643 §7. */

export type AttributeType =
  | 'string'
  | 'boolean'
  | 'decimal'
  | 'integer'
  | 'dateTime'
  | 'reference'
  | 'complex'
  | 'binary'
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly'
export type Returned = 'always' | 'never' | 'default' | 'request'
export type Uniqueness = 'none' | 'server' | 'global'

/** One attribute of a schema, RFC 7643 §7 "attributes". */
export interface AttributeDef {
  name: string
  type: AttributeType
  multiValued: boolean
  description: string
  required: boolean
  caseExact: boolean
  mutability: Mutability
  returned: Returned
  uniqueness: Uniqueness
  canonicalValues?: string[]
  referenceTypes?: string[]
  subAttributes?: AttributeDef[]
}

/** A schema resource, RFC 7643 §7. */
export interface SchemaDef {
  id: string
  name: string
  description: string
  attributes: AttributeDef[]
}

/** A resource type, RFC 7643 §6. */
export interface ResourceTypeDef {
  id: string
  name: string
  endpoint: string
  description: string
  schema: SchemaDef
  extensions: { schema: SchemaDef; required: boolean }[]
}

type AttrOptions = Partial<Omit<AttributeDef, 'name' | 'type'>>

/** Builds an attribute with the RFC 7643 §2.2 defaults (readWrite, returned default, caseExact false). */
export function attr(name: string, type: AttributeType, description: string, options: AttrOptions = {}): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...options,
  }
}

/** A complex attribute with sub-attributes, RFC 7643 §2.3.8. */
export function complex(
  name: string,
  description: string,
  subAttributes: AttributeDef[],
  options: AttrOptions = {},
): AttributeDef {
  return attr(name, 'complex', description, { ...options, subAttributes })
}

/** The usual sub-attributes of a multi-valued attribute, RFC 7643 §2.4. */
export function multiValuedParts(
  valueType: AttributeType,
  types: string[],
  valueOptions: AttrOptions = {},
): AttributeDef[] {
  return [
    attr('value', valueType, 'The value of the attribute.', valueOptions),
    attr('display', 'string', 'A human-readable name, primarily used for display purposes.'),
    attr('type', 'string', 'A label indicating the function of the attribute.', { canonicalValues: types }),
    attr('primary', 'boolean', 'Indicates the primary or preferred value; at most one is true.'),
  ]
}
