import { InvalidValue } from '../errors.ts'
import { MAX_BINARY_LENGTH, MAX_MEMBERS_PER_REQUEST, MAX_MULTI_VALUES, MAX_STRING_LENGTH } from '../limits.ts'
import { findAttribute, type AttributeDef } from '../schemas/index.ts'

/** A JSON object as SCIM resources use it. */
export type Json = Record<string, unknown>

/** True for a plain JSON object. */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** True when a value is unassigned (RFC 7643 §2.5): null, "", an empty array or an empty object. */
export function isUnassigned(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true
  if (Array.isArray(value)) return value.length === 0
  if (isObject(value)) return Object.keys(value).length === 0
  return false
}

/**
 * Checks one value against its attribute definition and returns it in canonical form
 * (RFC 7643 §2.3): sub-attribute names in the schema's case, booleans as booleans, dateTimes as given.
 * Returns undefined for an unassigned value. Read-only sub-attributes are kept only when `keepReadOnly`.
 */
export function normalizeValue(def: AttributeDef, value: unknown, where: string, keepReadOnly = false): unknown {
  if (isUnassigned(value)) return undefined
  if (def.multiValued) {
    const list = Array.isArray(value) ? value : [value]
    const max = def.name === 'members' ? MAX_MEMBERS_PER_REQUEST : MAX_MULTI_VALUES
    if (list.length > max)
      throw new InvalidValue(`${where} has ${list.length} values; at most ${max} are accepted in one request`)
    const out = list
      .map((v, i) => normalizeSingle(def, v, `${where}[${i}]`, keepReadOnly))
      .filter((v) => v !== undefined)
    if (def.type === 'complex') checkOnePrimary(out as Json[], where)
    return out.length ? out : undefined
  }
  if (Array.isArray(value)) throw new InvalidValue(`${where} takes a single value, not an array`)
  return normalizeSingle(def, value, where, keepReadOnly)
}

/** Normalises one (non-array) value of an attribute. */
export function normalizeSingle(def: AttributeDef, value: unknown, where: string, keepReadOnly = false): unknown {
  if (isUnassigned(value)) return undefined
  switch (def.type) {
    case 'string':
    case 'reference':
    case 'binary':
      if (typeof value !== 'string') throw new InvalidValue(`${where} must be a string, got ${describe(value)}`)
      if (value.length > (def.type === 'binary' ? MAX_BINARY_LENGTH : MAX_STRING_LENGTH)) {
        throw new InvalidValue(
          `${where} is ${value.length} characters long; the limit is ${def.type === 'binary' ? MAX_BINARY_LENGTH : MAX_STRING_LENGTH}`,
        )
      }
      return value
    case 'boolean':
      return toBoolean(value, where)
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw new InvalidValue(`${where} must be an integer, got ${describe(value)}`)
      return value
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new InvalidValue(`${where} must be a number, got ${describe(value)}`)
      return value
    case 'dateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
        throw new InvalidValue(
          `${where} must be an xsd:dateTime such as "2026-01-01T00:00:00Z", got ${describe(value)}`,
        )
      }
      return value
    case 'complex':
      return normalizeComplex(def, value, where, keepReadOnly)
  }
}

function normalizeComplex(def: AttributeDef, value: unknown, where: string, keepReadOnly: boolean): Json | undefined {
  // A bare string for a complex attribute with a `value` sub-attribute means that value
  // (`"manager": "<id>"`; docs/idp-quirks.md#entra-manager).
  if (typeof value === 'string' && findAttribute(def.subAttributes, 'value')) value = { value }
  if (!isObject(value)) throw new InvalidValue(`${where} must be an object, got ${describe(value)}`)
  const out: Json = {}
  for (const [key, sub] of Object.entries(value)) {
    const subDef = findAttribute(def.subAttributes, key)
    if (!subDef) continue // Unknown sub-attributes are ignored, not stored.
    if (subDef.mutability === 'readOnly' && !keepReadOnly) continue
    const normalized = normalizeSingle(subDef, sub, `${where}.${subDef.name}`, keepReadOnly)
    if (normalized !== undefined) out[subDef.name] = normalized
  }
  return Object.keys(out).length ? out : undefined
}

/** At most one `primary: true` per multi-valued attribute (RFC 7643 §2.4). */
export function checkOnePrimary(values: Json[], where: string): void {
  if (values.filter((v) => v.primary === true).length > 1) {
    throw new InvalidValue(`${where} has more than one value with "primary": true; at most one may be primary`)
  }
}

/** A boolean, also from the strings "true"/"false" in any case (docs/idp-quirks.md#entra-string-booleans). */
export function toBoolean(value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const lower = value.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
  }
  throw new InvalidValue(`${where} must be true or false, got ${describe(value)}`)
}

/** A short, safe description of a value for error details. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  return typeof value === 'object' ? 'an object' : String(value)
}
