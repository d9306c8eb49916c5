/**
 * In-memory filter evaluation, RFC 7644 §3.4.2.2. This is the reference semantics; the SQL
 * compiler (src/db/filter-sql.ts) must return the same rows. Choices where the RFC is silent:
 * - A comparison matches when SOME present value of the attribute satisfies it (the RFC's rule
 *   for multi-valued attributes, applied to every attribute). So `ne` never matches a missing
 *   attribute; `not (title eq "x")` does.
 * - Absent means undefined, null, "", or an array/object with no present value (the `pr` rule);
 *   absent values match no comparison, so `title eq ""` matches nothing.
 * - caseExact:false compares canonicalName() forms (src/scim/resource/canonical.ts: width mapping,
 *   NFC, toLowerCase, NFC), the form the comparison columns hold; ordering is by Unicode code point,
 *   which is SQLite's BINARY order on UTF-8.
 * - dateTime values compare as instants; a value of the wrong JSON type never matches.
 */
import type { AttributeDef, ResourceTypeDef } from '../schemas/types.ts'
import type { CompareOp, CompValue, Filter } from './ast.ts'
import { normalizeElementFilter, normalizeFilter, parseDateTime, resolveNormalPath } from './check.ts'
import { canonicalName } from '../resource/canonical.ts'
import { valueOf } from '../resource/keys.ts'
import { isObject, type Json } from '../resource/values.ts'

/** True when the resource (stored shape plus `id` and `meta`) matches the filter, RFC 7644 §3.4.2.2; throws InvalidFilter for a bad filter. */
export function matchesFilter(type: ResourceTypeDef, resource: Record<string, unknown>, filter: Filter): boolean {
  return evaluate(type, resource, normalizeFilter(type, filter))
}

/** True when one element of a multi-valued (or one complex) attribute matches a value filter, RFC 7644 §3.5.2 "valuePath". */
export function matchesElement(attribute: AttributeDef, element: unknown, filter: Filter): boolean {
  return isObject(element) && evaluateElement(attribute, element, normalizeElementFilter(attribute, filter))
}

/** RFC 7644 §3.4.2.2 "pr": the value is not null, not "", and, if an array or object, holds a present value. */
export function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false
  if (Array.isArray(value)) return value.some(isPresent)
  if (isObject(value)) return Object.values(value).some(isPresent)
  return true
}

/** Compares one stored value with a filter value under the attribute's type and caseExact, RFC 7644 §3.4.2.2. */
export function compareValue(def: AttributeDef, op: CompareOp, actual: unknown, expected: CompValue): boolean {
  if (!isPresent(actual) || expected === null) return false
  switch (def.type) {
    case 'boolean':
      if (typeof actual !== 'boolean') return false
      return op === 'eq' ? actual === expected : op === 'ne' ? actual !== expected : false
    case 'integer':
    case 'decimal':
      if (typeof actual !== 'number' || typeof expected !== 'number') return false
      return ordered(op, actual === expected ? 0 : actual < expected ? -1 : 1)
    case 'dateTime': {
      if (typeof actual !== 'string' || typeof expected !== 'string') return false
      const a = parseDateTime(actual)
      const b = parseDateTime(expected)
      if (a === undefined || b === undefined) return false
      return ordered(op, a === b ? 0 : a < b ? -1 : 1)
    }
    case 'complex':
      return false
    default: {
      if (typeof actual !== 'string' || typeof expected !== 'string') return false
      const a = def.caseExact ? actual : canonicalName(actual)
      const b = def.caseExact ? expected : canonicalName(expected)
      if (op === 'co') return a.includes(b)
      if (op === 'sw') return a.startsWith(b)
      if (op === 'ew') return a.endsWith(b)
      return ordered(op, compareCodePoints(a, b))
    }
  }
}

function ordered(op: CompareOp, sign: number): boolean {
  switch (op) {
    case 'eq':
      return sign === 0
    case 'ne':
      return sign !== 0
    case 'gt':
      return sign > 0
    case 'ge':
      return sign >= 0
    case 'lt':
      return sign < 0
    case 'le':
      return sign <= 0
    default:
      return false
  }
}

/** Code point order, not UTF-16 unit order: it is the order SQLite gives UTF-8 text. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) as number
    const cb = b.codePointAt(i) as number
    if (ca !== cb) return ca < cb ? -1 : 1
    if (ca > 0xffff) i++
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

function evaluate(type: ResourceTypeDef, resource: Json, filter: Filter): boolean {
  switch (filter.op) {
    case 'and':
      return evaluate(type, resource, filter.left) && evaluate(type, resource, filter.right)
    case 'or':
      return evaluate(type, resource, filter.left) || evaluate(type, resource, filter.right)
    case 'not':
      return !evaluate(type, resource, filter.filter)
    case 'valuePath': {
      const resolved = resolveNormalPath(type, filter.path)
      const holder = resolved.extension ? get(resource, resolved.schema) : resource
      const value = get(holder, resolved.attribute.name)
      const elements = Array.isArray(value) ? value : [value]
      return elements.some((e) => isObject(e) && evaluateElement(resolved.attribute, e, filter.filter))
    }
    default: {
      const resolved = resolveNormalPath(type, filter.path)
      const holder = resolved.extension ? get(resource, resolved.schema) : resource
      let values = [get(holder, resolved.attribute.name)]
      if (resolved.subAttribute) {
        const sub = resolved.subAttribute.name
        values = values.flatMap((v) => (Array.isArray(v) ? v : [v])).map((v) => get(v, sub))
      }
      return matchesValues(resolved.subAttribute ?? resolved.attribute, values, filter)
    }
  }
}

function evaluateElement(attribute: AttributeDef, element: Json, filter: Filter): boolean {
  switch (filter.op) {
    case 'and':
      return evaluateElement(attribute, element, filter.left) && evaluateElement(attribute, element, filter.right)
    case 'or':
      return evaluateElement(attribute, element, filter.left) || evaluateElement(attribute, element, filter.right)
    case 'not':
      return !evaluateElement(attribute, element, filter.filter)
    case 'valuePath':
      return false
    default: {
      const sub = attribute.subAttributes?.find((a) => a.name === filter.path.attr)
      return sub !== undefined && matchesValues(sub, [get(element, sub.name)], filter)
    }
  }
}

/** A leaf matches when some value (arrays flattened) is present (`pr`) or satisfies the comparison. */
function matchesValues(def: AttributeDef, values: unknown[], filter: Filter): boolean {
  const flat = values.flatMap((v) => (Array.isArray(v) ? v : [v]))
  if (filter.op === 'pr') return flat.some(isPresent)
  if (!('value' in filter)) return false
  return flat.some((v) => compareValue(def, filter.op as CompareOp, v, filter.value))
}

/** Reads a key by its canonical name, falling back to a case-insensitive match (RFC 7643 §2.1). */
function get(holder: unknown, name: string): unknown {
  if (!isObject(holder)) return undefined
  return name in holder ? holder[name] : valueOf(holder, name)
}
