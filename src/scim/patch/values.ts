/** Value helpers for PATCH (RFC 7644 §3.5.2): merging complex values, comparing values, immutability. */
import { InvalidValue, Mutability } from '../errors.ts'
import { describe, isObject, isUnassigned, normalizeSingle, normalizeValue, type Json } from '../resource/values.ts'
import { findAttribute, type AttributeDef } from '../schemas/index.ts'
import { jsonEqual } from '../resource/equal.ts'

/** One value of a single-valued attribute or sub-attribute in canonical form; undefined clears (RFC 7643 §2.5). */
export function normalizeOne(def: AttributeDef, value: unknown, where: string): unknown {
  return normalizeValue(def.multiValued ? { ...def, multiValued: false } : def, value, where)
}

/** The values of a multi-valued attribute in canonical form; [] when unassigned (RFC 7643 §2.4). */
export function normalizeList(def: AttributeDef, value: unknown, where: string): unknown[] {
  const out = normalizeValue(def, value, where)
  return Array.isArray(out) ? out : []
}

/**
 * Merges the sub-attributes given in `raw` into a complex value (RFC 7644 §3.5.2.1 and §3.5.2.3: "Sub-attributes
 * that are not specified in the value parameter are left unchanged"). A sub-attribute given as null or ""
 * is cleared; read-only and unknown sub-attributes are ignored, as on POST. null/"" for the whole value clears it.
 */
export function mergeComplex(def: AttributeDef, current: unknown, raw: unknown, where: string): Json | undefined {
  if (raw === null || raw === undefined || raw === '' || (Array.isArray(raw) && raw.length === 0)) return undefined
  // A bare string for a complex attribute with a `value` sub-attribute means that value (as values.ts does).
  if (typeof raw === 'string' && findAttribute(def.subAttributes, 'value')) raw = { value: raw }
  if (!isObject(raw)) throw new InvalidValue(`${where} must be an object, got ${describe(raw)}`)
  const out: Json = isObject(current) ? { ...current } : {}
  for (const [key, value] of Object.entries(raw)) {
    const sub = findAttribute(def.subAttributes, key)
    if (!sub || sub.mutability === 'readOnly' || sub.mutability === 'writeOnly') continue
    if (isUnassigned(value)) delete out[sub.name]
    else out[sub.name] = normalizeSingle(sub, value, `${where}.${sub.name}`)
  }
  return Object.keys(out).length ? out : undefined
}

/** RFC 7643 §2.2 "immutable": a sub-attribute that has a value keeps it. */
export function stillImmutable(def: AttributeDef, before: unknown, after: unknown, where: string): void {
  if (!isObject(before)) return
  for (const sub of def.subAttributes ?? []) {
    if (sub.mutability !== 'immutable' || before[sub.name] === undefined) continue
    const now = isObject(after) ? after[sub.name] : undefined
    if (!jsonEqual(before[sub.name], now))
      throw new Mutability(`${where}.${sub.name} is immutable and already has a value`)
  }
}

/**
 * True when `given` names `element`, honouring caseExact (RFC 7643 §2.2). With `subset`, `given` may name
 * only some sub-attributes (removing `{"value":"u1"}` removes the member whatever its display); without,
 * both must hold the same sub-attributes ("already present" for add, RFC 7644 §3.5.2.1).
 */
export function sameValue(def: AttributeDef, given: unknown, element: unknown, subset: boolean): boolean {
  if (def.type !== 'complex') return sameScalar(def, given, element)
  if (!isObject(given) || !isObject(element)) return false
  if (!subset && Object.keys(given).length !== Object.keys(element).length) return false
  return Object.entries(given).every(([key, value]) => {
    const sub = findAttribute(def.subAttributes, key)
    return sub !== undefined && sameScalar(sub, value, element[sub.name])
  })
}

function sameScalar(def: AttributeDef, a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string' && !def.caseExact) return a.toLowerCase() === b.toLowerCase()
  return jsonEqual(a, b)
}
