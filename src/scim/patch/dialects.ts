/**
 * The one place that knows how identity providers bend RFC 7644 §3.5.2. Every accepted request shape
 * becomes canonical `PatchOperation`s here, so apply.ts and members.ts only see the RFC.
 * Each quirk names the fixture in test/fixtures/ that shows it; docs/idp-quirks.md describes them all.
 */
import { InvalidPath, InvalidSyntax, InvalidValue } from '../errors.ts'
import type { AttrPath, Filter, PatchPath } from '../filter/ast.ts'
import { parsePatchPath } from '../filter/parser.ts'
import { splitAttributePath } from '../resource/projection.ts'
import { describe, isObject } from '../resource/values.ts'
import {
  findAttribute,
  findSchema,
  resolveAttribute,
  type ResolvedAttribute,
  type ResourceTypeDef,
} from '../schemas/index.ts'
import { inOperation, type PatchOperation, type PatchVerb } from './operation.ts'

/** One element of `Operations` as the client sent it, keys already found case-insensitively. */
export interface RawOperation {
  op: unknown
  path: unknown
  value: unknown
  hasValue: boolean
}

/** Echoed keys in a path-less value that are never a change: Okta's group rename sends our `id` back (okta/push-group.json). */
const ECHOED_KEYS = new Set(['id', 'meta', 'schemas'])

/** The op name, case-insensitively: Entra's default dialect sends `Add`/`Replace`/`Remove` (entra/user-default-dialect.json). RFC 7644 §3.5.2. */
export function canonicalVerb(op: unknown): PatchVerb {
  const lower = typeof op === 'string' ? op.toLowerCase() : undefined
  if (lower === 'add' || lower === 'remove' || lower === 'replace') return lower
  throw new InvalidSyntax(`"op" must be "add", "remove" or "replace", got ${describe(op)}`)
}

/** Turns one client operation into zero or more canonical operations (RFC 7644 §3.5.2); errors name the operation. */
export function canonicalOperations(type: ResourceTypeDef, raw: RawOperation, index: number): PatchOperation[] {
  return inOperation(index, () => {
    const op = canonicalVerb(raw.op)
    if (raw.path !== undefined && raw.path !== null && typeof raw.path !== 'string') {
      throw new InvalidPath(`"path" must be a string, got ${describe(raw.path)}`)
    }
    const path = typeof raw.path === 'string' ? raw.path.trim() : ''
    if ((op === 'add' || op === 'replace') && !raw.hasValue) throw new InvalidSyntax(`${op} needs a "value"`)
    if (path === '') return pathless(type, op, raw, index)
    // A path naming a whole schema (`urn:...:enterprise:2.0:User`) is the path-less form scoped to it.
    const schema = findSchema(type, path)
    if (schema) {
      if (op === 'remove') {
        return schema.schema.attributes
          .filter((a) => a.mutability !== 'readOnly' && a.mutability !== 'writeOnly')
          .map((a) => ({
            index,
            op,
            path: { path: schema.extension ? { urn: schema.schema.id, attr: a.name } : { attr: a.name } },
          }))
      }
      return pathless(type, op, { ...raw, value: { [schema.schema.id]: raw.value } }, index)
    }
    const parsed = parsePatchPath(path)
    if (isForeign(type, parsed.path)) return []
    const resolved = resolveAttribute(type, parsed.path.urn, parsed.path.attr, parsed.path.sub)
    if (!resolved) throw new InvalidPath(`"${path}" is not an attribute of ${type.name}`)
    return pathed(op, parsed, resolved, raw, index)
  })
}

/**
 * A path-less add/replace: every key of the value object becomes its own pathed operation, which is what
 * RFC 7644 §3.5.2.1/§3.5.2.3 mean by "the value SHALL contain a list of one or more attributes".
 * Keys may be dotted (`name.givenName`) or URN-qualified (`urn:...:enterprise:2.0:User:employeeNumber`):
 * Entra's aadOptscim062020 dialect sends both (entra/user-flag-dialect.json). Unknown keys and other
 * schemas' URNs are ignored, as on POST and PUT.
 */
function pathless(type: ResourceTypeDef, op: PatchVerb, raw: RawOperation, index: number): PatchOperation[] {
  if (op === 'remove') return [{ index, op }] // applyPatch answers noTarget (RFC 7644 §3.5.2.2).
  if (!isObject(raw.value))
    throw new InvalidValue(
      `${op} without a "path" needs an object of attributes as "value", got ${describe(raw.value)}`,
    )
  const out: PatchOperation[] = []
  for (const [key, value] of Object.entries(raw.value)) {
    if (ECHOED_KEYS.has(key.toLowerCase())) continue
    const schema = key.includes(':') ? findSchema(type, key) : undefined
    if (schema) {
      if (value === null || value === undefined) continue
      if (!isObject(value)) throw new InvalidValue(`${key} must be an object of ${schema.schema.name} attributes`)
      for (const [inner, innerValue] of Object.entries(value)) {
        out.push(...keyed(type, op, schema.extension ? `${schema.schema.id}:${inner}` : inner, innerValue, index))
      }
      continue
    }
    out.push(...keyed(type, op, key, value, index))
  }
  return out
}

function keyed(type: ResourceTypeDef, op: PatchVerb, key: string, value: unknown, index: number): PatchOperation[] {
  const parsed: PatchPath = key.includes('[') ? parsePatchPath(key) : { path: splitAttributePath(key) }
  if (isForeign(type, parsed.path)) return []
  const resolved = resolveAttribute(type, parsed.path.urn, parsed.path.attr, parsed.path.sub)
  if (!resolved || (ECHOED_KEYS.has(resolved.attribute.name.toLowerCase()) && !resolved.extension)) return []
  return pathed(op, parsed, resolved, { op, path: key, value, hasValue: true }, index)
}

/** True when a URN-qualified path belongs to a schema this resource type does not have (e.g. Entra's ADSCIM group URN). */
function isForeign(type: ResourceTypeDef, path: AttrPath): boolean {
  return path.urn !== undefined && !findSchema(type, path.urn)
}

function pathed(
  op: PatchVerb,
  path: PatchPath,
  resolved: ResolvedAttribute,
  raw: RawOperation,
  index: number,
): PatchOperation[] {
  const def = resolved.attribute
  // Write-only attributes are accepted and never stored: Okta's password sync sends `password`
  // path-less or as a path, body unpublished (okta/password-sync.json).
  if (def.mutability === 'writeOnly') return []
  const sub =
    resolved.subAttribute ??
    (path.subAfterFilter !== undefined ? findAttribute(def.subAttributes, path.subAfterFilter) : undefined)
  if (path.subAfterFilter !== undefined && !sub)
    throw new InvalidPath(`"${path.subAfterFilter}" is not a sub-attribute of ${def.name}`)
  const target = sub ?? def
  const singleValued = sub !== undefined || !def.multiValued || path.filter !== undefined
  const out: PatchOperation = { index, op, path }
  if (raw.hasValue) {
    let value = raw.value
    // Entra adds a manager as `[{"$ref":…,"value":"<id>"}]` (entra/manager.json): a one-element array
    // for a single value means that element; an empty one clears.
    if (singleValued && Array.isArray(value)) {
      if (value.length > 1)
        throw new InvalidValue(`${target.name} takes a single value, got an array of ${value.length}`)
      value = value.length ? value[0] : null
    }
    // Entra's default dialect sends "True"/"False" for booleans (entra/user-default-dialect.json);
    // only boolean attributes get this, any other string stays an invalidValue.
    if (target.type === 'boolean' && typeof value === 'string') value = stringBoolean(value, target.name)
    // Entra removes members by listing them: {"op":"Remove","path":"members","value":[{"value":"u1"}]}
    // (entra/groups-default-dialect.json). Canonical form: remove with a value array, which removes only those.
    if (op === 'remove' && def.multiValued && !path.filter && !sub && value !== null && !Array.isArray(value))
      value = [value]
    out.value = value
  }
  // Entra's `emails[type eq "work"].value` add/replace creates the work email when none exists
  // (entra/user-flag-dialect.json; SCIM-SDK issue 416), where RFC 7644 §3.5.2.3 says noTarget. We do this
  // only for a filter that is exactly `type eq "<x>"`, whose match is fully described by `{type: x}`.
  if (op !== 'remove' && def.multiValued && path.filter) {
    const typeDef = findAttribute(def.subAttributes, 'type')
    const wanted = typeDef ? typeEquals(path.filter) : undefined
    if (typeDef && wanted !== undefined) out.createIfNoMatch = { [typeDef.name]: wanted }
  }
  return [out]
}

function typeEquals(filter: Filter): string | undefined {
  if (filter.op !== 'eq' || typeof filter.value !== 'string') return undefined
  const p = filter.path
  return p.urn === undefined && p.sub === undefined && p.attr.toLowerCase() === 'type' ? filter.value : undefined
}

function stringBoolean(value: string, name: string): boolean | string {
  const lower = value.toLowerCase()
  if (lower === 'true') return true
  if (lower === 'false') return false
  if (value === '') return value // "" clears, like null (entra/user-null-update.json).
  throw new InvalidValue(`${name} must be true or false, got ${describe(value)}`)
}
