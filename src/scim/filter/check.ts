/**
 * Schema checks for filters (RFC 7644 §3.4.2.2) and their normal form, which both evaluators
 * (in memory and SQL) consume, so the two agree by construction:
 * - paths carry the schema's canonical names; `urn` is set only for extension attributes;
 * - a comparison on a complex attribute with a `value` sub-attribute compares that sub-attribute
 *   (`emails eq "x"` is `emails.value eq "x"`, an Okta probe form: docs/idp-quirks.md#okta-user-probe-and-create);
 * - any comparison on a sub-attribute of a multi-valued attribute becomes a valuePath
 *   (`emails.type eq "work"` is `emails[type eq "work"]`: some element matches);
 * - `eq null` is `not (attr pr)` and `ne null` is `attr pr`; other operators reject null;
 * - dateTime values are normalised to `Date#toISOString()`.
 */
import { InvalidFilter } from '../errors.ts'
import { canonicalPath, findAttribute, resolveAttribute, type ResolvedAttribute } from '../schemas/index.ts'
import type { AttributeDef, ResourceTypeDef } from '../schemas/types.ts'
import { formatPath, type AttrPath, type CompareOp, type CompValue, type Filter } from './ast.ts'

const ORDER_OPS: readonly CompareOp[] = ['gt', 'ge', 'lt', 'le']
const SUBSTRING_OPS: readonly CompareOp[] = ['co', 'sw', 'ew']
// xsd:dateTime (RFC 7643 §2.3.5). Date.parse alone would accept "1" or "May 2020".
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$/

/** Validates every path, operator and value of a filter against a resource type (RFC 7644 §3.4.2.2); throws InvalidFilter. */
export function checkFilter(type: ResourceTypeDef, filter: Filter): void {
  normalizeFilter(type, filter)
}

/** Checks a filter and returns its normal form (see the file comment), RFC 7644 §3.4.2.2. */
export function normalizeFilter(type: ResourceTypeDef, filter: Filter): Filter {
  switch (filter.op) {
    case 'and':
    case 'or':
      return { op: filter.op, left: normalizeFilter(type, filter.left), right: normalizeFilter(type, filter.right) }
    case 'not':
      return { op: 'not', filter: normalizeFilter(type, filter.filter) }
    case 'valuePath': {
      const resolved = resolveOrThrow(type, filter.path)
      const attribute = resolved.attribute
      if (attribute.type !== 'complex' || resolved.subAttribute) {
        throw new InvalidFilter(
          `"${canonicalPath(resolved)}" is not a complex attribute, so it takes no [filter]; e.g. emails[type eq "work"]`,
        )
      }
      return { op: 'valuePath', path: canonical(resolved), filter: normalizeElementFilter(attribute, filter.filter) }
    }
    default: {
      const resolved = resolveOrThrow(type, filter.path)
      let sub = resolved.subAttribute
      if (!sub && resolved.attribute.type === 'complex' && filter.op !== 'pr') {
        sub = findAttribute(resolved.attribute.subAttributes, 'value')
        if (!sub) {
          const example = resolved.attribute.subAttributes?.[0]?.name ?? 'sub'
          throw new InvalidFilter(
            `"${canonicalPath(resolved)}" is complex; compare one of its sub-attributes, e.g. ${resolved.attribute.name}.${example}`,
          )
        }
      }
      if (!sub) return leaf(resolved.attribute, canonicalPath(resolved), canonical(resolved), filter)
      const label = `${canonicalPath({ ...resolved, subAttribute: undefined })}.${sub.name}`
      if (resolved.attribute.multiValued) {
        return {
          op: 'valuePath',
          path: canonical({ ...resolved, subAttribute: undefined }),
          filter: leaf(sub, label, { attr: sub.name }, filter),
        }
      }
      return leaf(sub, label, canonical({ ...resolved, subAttribute: sub }), filter)
    }
  }
}

/** Checks a value filter whose paths name sub-attributes of `attribute` (RFC 7644 §3.4.2.2 "valFilter") and returns its normal form. */
export function normalizeElementFilter(attribute: AttributeDef, filter: Filter): Filter {
  switch (filter.op) {
    case 'and':
    case 'or':
      return {
        op: filter.op,
        left: normalizeElementFilter(attribute, filter.left),
        right: normalizeElementFilter(attribute, filter.right),
      }
    case 'not':
      return { op: 'not', filter: normalizeElementFilter(attribute, filter.filter) }
    case 'valuePath':
      throw new InvalidFilter(`a filter inside ${attribute.name}[...] cannot contain another [filter]`)
    default: {
      const written = `${attribute.name}.${formatPath(filter.path)}`
      const sub =
        filter.path.urn === undefined && filter.path.sub === undefined
          ? findAttribute(attribute.subAttributes, filter.path.attr)
          : undefined
      if (!sub) {
        const names = (attribute.subAttributes ?? []).map((a) => a.name).join(', ')
        throw new InvalidFilter(
          `unknown attribute "${written}" in filter; inside ${attribute.name}[...] use its sub-attributes: ${names}`,
        )
      }
      return leaf(sub, `${attribute.name}.${sub.name}`, { attr: sub.name }, filter)
    }
  }
}

/** Resolves a path of a normal-form filter to its definitions (RFC 7644 §3.10); the path must have passed normalizeFilter. */
export function resolveNormalPath(type: ResourceTypeDef, path: AttrPath): ResolvedAttribute {
  const resolved = resolveAttribute(type, path.urn, path.attr, path.sub)
  if (!resolved) throw new InvalidFilter(`unknown attribute "${formatPath(path)}" in filter`)
  return resolved
}

/** Parses an xsd:dateTime (RFC 7643 §2.3.5) to epoch milliseconds, or undefined when it is not one. */
export function parseDateTime(value: string): number | undefined {
  if (!DATE_TIME.test(value)) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

function resolveOrThrow(type: ResourceTypeDef, path: AttrPath): ResolvedAttribute {
  const resolved = resolveAttribute(type, path.urn, path.attr, path.sub)
  if (!resolved) throw new InvalidFilter(`unknown attribute "${formatPath(path)}" in filter`)
  if (resolved.attribute.returned === 'never' || resolved.subAttribute?.returned === 'never') {
    throw new InvalidFilter(
      `attribute "${canonicalPath(resolved)}" is never returned, so it cannot be used in a filter`,
    )
  }
  return resolved
}

function canonical(resolved: ResolvedAttribute): AttrPath {
  const path: AttrPath = { attr: resolved.attribute.name }
  if (resolved.extension) path.urn = resolved.schema
  if (resolved.subAttribute) path.sub = resolved.subAttribute.name
  return path
}

/** Checks operator and value against the attribute type (RFC 7644 §3.4.2.2 operator table) and rebuilds the leaf on `path`. */
function leaf(def: AttributeDef, label: string, path: AttrPath, filter: Filter): Filter {
  if (def.returned === 'never')
    throw new InvalidFilter(`attribute "${label}" is never returned, so it cannot be used in a filter`)
  if (filter.op === 'pr') return { op: 'pr', path }
  if (!('value' in filter)) throw new InvalidFilter(`unexpected filter node "${filter.op}" on "${label}"`)
  const op = filter.op
  const value = filter.value
  if (value === null) {
    // RFC 7644 gives null no comparison meaning; "equal to null" reads as "unassigned" (RFC 7643 §2.5).
    if (op === 'eq') return { op: 'not', filter: { op: 'pr', path } }
    if (op === 'ne') return { op: 'pr', path }
    throw new InvalidFilter(`"${label} ${op} null" is not meaningful; use "${label} pr" or "not (${label} pr)"`)
  }
  const shown = `"${label}" (${def.type})`
  if (SUBSTRING_OPS.includes(op) && def.type !== 'string' && def.type !== 'reference') {
    throw new InvalidFilter(`operator "${op}" needs a string attribute; ${shown} does not support it`)
  }
  if (ORDER_OPS.includes(op) && (def.type === 'boolean' || def.type === 'binary' || def.type === 'complex')) {
    throw new InvalidFilter(`operator "${op}" cannot order ${shown}; use eq or ne`)
  }
  return { op, path, value: checkValue(def, label, op, value) }
}

function checkValue(def: AttributeDef, label: string, op: CompareOp, value: CompValue): CompValue {
  const wrongType = (expected: string) =>
    new InvalidFilter(
      `"${label}" is ${def.type === 'integer' ? 'an' : 'a'} ${def.type}; compare it with ${expected}, not ${JSON.stringify(value)}`,
    )
  switch (def.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType('true or false')
      return value
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType('an integer')
      return value
    case 'decimal':
      if (typeof value !== 'number') throw wrongType('a number')
      return value
    case 'dateTime': {
      if (typeof value !== 'string') throw wrongType('a date-time string such as "2024-05-01T12:00:00Z"')
      const ms = parseDateTime(value)
      if (ms === undefined)
        throw new InvalidFilter(
          `"${value}" is not a valid dateTime for "${label} ${op}"; use e.g. "2024-05-01T12:00:00Z"`,
        )
      return new Date(ms).toISOString()
    }
    default:
      if (typeof value !== 'string') throw wrongType('a JSON string')
      return value
  }
}
