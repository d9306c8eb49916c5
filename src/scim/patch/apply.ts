/**
 * Applies canonical PATCH operations to a stored resource, RFC 7644 §3.5.2. Pure: works on a deep copy,
 * all-or-nothing (the first failing operation throws, detail `operation N: ...`).
 *
 * Choices where the RFC leaves room:
 * - add/replace on a single-valued complex attribute merges sub-attributes (§3.5.2.1, §3.5.2.3); a
 *   sub-attribute given as null or "" is cleared.
 * - remove with a value filter that matches nothing succeeds without change: §3.5.2.2 asks for noTarget
 *   only without a path, and removing an absent member must be a no-op (docs/idp-quirks.md#okta-push-groups).
 * - When an operation writes a value with `primary: true`, every other value of that attribute gets
 *   `primary: false` (RFC 7643 §2.4: at most one primary; the newest one wins).
 * - Removing or clearing a required attribute is 400 invalidValue, as a PUT without it is.
 */
import { checkRequired, checkRequiredExtensions, schemaUrns } from '../resource/normalize.ts'
import { jsonEqual } from '../resource/equal.ts'
import { isObject, type Json } from '../resource/values.ts'
import { InvalidPath, Mutability, NoTarget } from '../errors.ts'
import { matchesElement } from '../filter/evaluate.ts'
import {
  canonicalPath,
  findAttribute,
  resolveAttribute,
  type AttributeDef,
  type ResolvedAttribute,
  type ResourceTypeDef,
} from '../schemas/index.ts'
import { inOperation, type PatchOperation } from './operation.ts'
import { mergeComplex, normalizeList, normalizeOne, sameValue, stillImmutable } from './values.ts'

/** The outcome of a PATCH: the new stored resource and whether it differs from the old one (RFC 7644 §3.5.2). */
export interface PatchResult {
  resource: Json
  changed: boolean
}

/** Applies the operations in order, atomically, RFC 7644 §3.5.2 ("SHALL be treated as atomic"). */
export function applyPatch(type: ResourceTypeDef, resource: Json, ops: PatchOperation[]): PatchResult {
  const work = structuredClone(resource)
  for (const op of ops) {
    inOperation(op.index, () => {
      applyOne(type, work, op)
      checkRequired(type.schema, work)
      checkRequiredExtensions(type, work)
    })
  }
  work.schemas = schemaUrns(type, work)
  const { schemas: _before, ...oldAttributes } = resource
  const { schemas: _after, ...newAttributes } = work
  return { resource: work, changed: !jsonEqual(oldAttributes, newAttributes) }
}

/** Where one operation lands: the resolved attribute, its holder object and the sub-attribute, if any. */
interface Target {
  resolved: ResolvedAttribute
  def: AttributeDef
  sub: AttributeDef | undefined
  name: string
}

function applyOne(type: ResourceTypeDef, work: Json, op: PatchOperation): void {
  if (!op.path) {
    if (op.op === 'remove') throw new NoTarget('remove needs a "path" (RFC 7644 §3.5.2.2)')
    throw new InvalidPath(`${op.op} without a path must be expanded by parsePatchRequest`)
  }
  const { path, filter, subAfterFilter } = op.path
  const resolved = resolveAttribute(type, path.urn, path.attr, path.sub)
  if (!resolved) throw new InvalidPath(`"${path.attr}" is not an attribute of ${type.name}`)
  const def = resolved.attribute
  const sub =
    resolved.subAttribute ??
    (subAfterFilter !== undefined ? findAttribute(def.subAttributes, subAfterFilter) : undefined)
  if (subAfterFilter !== undefined && !sub)
    throw new InvalidPath(`"${subAfterFilter}" is not a sub-attribute of ${def.name}`)
  const name = canonicalPath(resolved) + (subAfterFilter !== undefined && sub ? `.${sub.name}` : '')
  if (def.mutability === 'writeOnly' || sub?.mutability === 'writeOnly') return // Never stored.
  if (def.mutability === 'readOnly' || sub?.mutability === 'readOnly')
    throw new Mutability(`${name} is readOnly and cannot be changed`)
  if (filter && !def.multiValued)
    throw new InvalidPath(`${def.name} is single-valued; a [filter] applies only to multi-valued attributes`)
  const t: Target = { resolved, def, sub, name }
  const holder = holderOf(work, resolved, op.op !== 'remove')
  if (!holder) return // remove on an absent extension: nothing to do.
  if (!def.multiValued) singleValued(holder, t, op)
  else if (!filter && !sub) wholeList(holder, t, op)
  else elements(holder, t, op)
  if (resolved.extension && Object.keys(holder).length === 0) delete work[resolved.schema]
}

function holderOf(work: Json, resolved: ResolvedAttribute, create: boolean): Json | undefined {
  if (!resolved.extension) return work
  const existing = work[resolved.schema]
  if (isObject(existing)) return existing
  if (!create) return undefined
  const fresh: Json = {}
  work[resolved.schema] = fresh
  return fresh
}

/** A single-valued attribute or one of its sub-attributes (RFC 7644 §3.5.2.1–3). */
function singleValued(holder: Json, t: Target, op: PatchOperation): void {
  const key = t.def.name
  const current = holder[key]
  if (t.sub) {
    const parent = isObject(current) ? { ...current } : {}
    if (op.op === 'remove') delete parent[t.sub.name]
    else setOrClear(parent, t.sub.name, normalizeOne(t.sub, op.value, t.name))
    stillImmutable(t.def, current, parent, t.name)
    setOrClear(holder, key, Object.keys(parent).length ? parent : undefined)
    return
  }
  if (op.op === 'remove') {
    if (current !== undefined && t.def.mutability === 'immutable')
      throw new Mutability(`${t.name} is immutable and cannot be removed`)
    delete holder[key]
    return
  }
  const next =
    t.def.type === 'complex' ? mergeComplex(t.def, current, op.value, t.name) : normalizeOne(t.def, op.value, t.name)
  if (t.def.mutability === 'immutable' && current !== undefined && !jsonEqual(current, next)) {
    throw new Mutability(`${t.name} is immutable and already has a value`)
  }
  if (t.def.type === 'complex') stillImmutable(t.def, current, next, t.name)
  setOrClear(holder, key, next)
}

/** A multi-valued attribute without filter or sub-attribute: append, replace or remove values (RFC 7644 §3.5.2). */
function wholeList(holder: Json, t: Target, op: PatchOperation): void {
  const key = t.def.name
  const current = Array.isArray(holder[key]) ? (holder[key] as unknown[]) : []
  if (op.op === 'remove') {
    if (op.value === undefined || op.value === null) {
      delete holder[key]
      return
    }
    // Remove only the listed values; a listed value matches the elements that agree on every
    // sub-attribute it gives (dialects.ts maps a client's remove-by-value shape onto this).
    const listed = normalizeList(t.def, op.value, t.name)
    setList(
      holder,
      key,
      current.filter((e) => !listed.some((v) => sameValue(t.def, v, e, true))),
    )
    return
  }
  const values = normalizeList(t.def, op.value, t.name)
  if (op.op === 'replace') {
    setList(holder, key, values)
    return
  }
  const next = [...current]
  const written: unknown[] = []
  for (const v of values) {
    if (next.some((e) => sameValue(t.def, v, e, false))) continue // Already present: no-op (RFC 7644 §3.5.2.1).
    next.push(v)
    written.push(v)
  }
  setList(holder, key, onePrimary(next, written))
}

/** `attr[filter]`, `attr[filter].sub` or `attr.sub` on a multi-valued attribute (RFC 7644 §3.5.2). */
function elements(holder: Json, t: Target, op: PatchOperation): void {
  const key = t.def.name
  const filter = op.path?.filter
  const current = Array.isArray(holder[key]) ? (holder[key] as unknown[]) : []
  const selected = current.map((e) => (filter ? matchesElement(t.def, e, filter) : true))
  if (op.op === 'remove') {
    const next = t.sub
      ? current.map((e, i) => (selected[i] ? withoutSub(t, e) : e))
      : current.filter((_, i) => !selected[i])
    setList(holder, key, next)
    return
  }
  if (!selected.includes(true)) {
    if (!op.createIfNoMatch) throw new NoTarget(`${t.name}${filter ? ' filter' : ''} matched no value`)
    const value = t.sub ? normalizeOne(t.sub, op.value, t.name) : op.value
    if (value === undefined) return
    const created = mergeComplex(
      t.def,
      undefined,
      t.sub
        ? { ...op.createIfNoMatch, [t.sub.name]: value }
        : { ...(isObject(value) ? value : { value }), ...op.createIfNoMatch },
      t.name,
    )
    if (created) setList(holder, key, onePrimary([...current, created], [created]))
    return
  }
  const written: unknown[] = []
  const next = current.map((e, i) => {
    if (!selected[i]) return e
    let updated: Json | undefined
    if (t.sub) {
      updated = { ...(isObject(e) ? e : {}) }
      setOrClear(updated, t.sub.name, normalizeOne(t.sub, op.value, t.name))
    } else {
      // replace swaps the matched record (§3.5.2.3); add merges into it like a complex add (§3.5.2.1).
      updated = mergeComplex(t.def, op.op === 'add' ? e : undefined, op.value, t.name)
    }
    stillImmutable(t.def, e, updated, t.name)
    if (updated && Object.keys(updated).length) written.push(updated)
    return updated
  })
  setList(holder, key, onePrimary(next, written))
}

function withoutSub(t: Target, element: unknown): unknown {
  if (!isObject(element) || !t.sub) return element
  if (t.sub.mutability === 'immutable' && element[t.sub.name] !== undefined)
    throw new Mutability(`${t.name} is immutable and cannot be removed`)
  const { [t.sub.name]: _gone, ...rest } = element
  return rest
}

/** RFC 7643 §2.4: if a value just written is primary, the others stop being primary. */
function onePrimary(list: unknown[], written: unknown[]): unknown[] {
  if (!written.some((w) => isObject(w) && w.primary === true)) return list
  return list.map((e) => (isObject(e) && e.primary === true && !written.includes(e) ? { ...e, primary: false } : e))
}

function setList(holder: Json, key: string, list: unknown[]): void {
  const kept = list.filter((e) => e !== undefined && !(isObject(e) && Object.keys(e).length === 0))
  setOrClear(holder, key, kept.length ? kept : undefined)
}

function setOrClear(holder: Json, key: string, value: unknown): void {
  if (value === undefined) delete holder[key]
  else holder[key] = value
}
