/**
 * bulkId references, RFC 7644 §3.7.2: an operation names a resource another POST of the same request
 * creates as `bulkId:{bulkId}`, in its path or anywhere in its data (a group's members, a manager).
 * These find them, replace them with the ids once known, and set aside the members or manager that
 * point at a resource not created yet, so resources that name each other can still be made (§3.7.1).
 */
import { isObject, type Json } from '../resource/values.ts'
import { URN } from '../urns.ts'
import type { BulkOperation } from './request.ts'

const PREFIX = 'bulkId:'

function bulkIdIn(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith(PREFIX) && value.length > PREFIX.length
    ? value.slice(PREFIX.length)
    : undefined
}

function collect(value: unknown, into: Set<string>): void {
  const ref = bulkIdIn(value)
  if (ref) into.add(ref)
  else if (Array.isArray(value)) for (const v of value) collect(v, into)
  else if (isObject(value)) for (const v of Object.values(value)) collect(v, into)
}

/** The bulkIds an operation refers to, in its path or data. */
export function referencesOf(op: Pick<BulkOperation, 'target' | 'data'>): Set<string> {
  const refs = new Set<string>()
  collect(op.target, refs)
  collect(op.data, refs)
  return refs
}

/** A copy of `value` with every `bulkId:x` whose x is in `ids` replaced by that resource's id. */
export function resolveReferences<T>(value: T, ids: ReadonlyMap<string, string>): T {
  const ref = bulkIdIn(value)
  if (ref) return (ids.get(ref) ?? value) as T
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, ids)) as T
  if (isObject(value)) {
    const out: Json = {}
    for (const [k, v] of Object.entries(value)) out[k] = resolveReferences(v, ids)
    return out as T
  }
  return value
}

/** A reference that may be set after the resource exists: a group's members, a user's manager. */
export interface Deferred {
  /** The resource's data without the references that wait. */
  data: Json
  /** The PatchOp operations that set them once the resources they name exist. */
  operations: Json[]
}

function keyOf(object: Json, name: string): string | undefined {
  return Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase())
}

/** Members of a group's data that name a pending bulkId, taken out. */
function deferMembers(data: Json, pending: ReadonlySet<string>): Deferred {
  const key = keyOf(data, 'members')
  const members = key === undefined ? [] : data[key]
  const deferred: Json[] = []
  const kept: unknown[] = []
  for (const m of Array.isArray(members) ? members : []) {
    const ref = isObject(m) ? bulkIdIn(m.value) : undefined
    if (ref && pending.has(ref)) deferred.push(m as Json)
    else kept.push(m)
  }
  const rest: Json = { ...data }
  if (key !== undefined) rest[key] = kept
  return { data: rest, operations: deferred.length ? [{ op: 'add', path: 'members', value: deferred }] : [] }
}

/** A user's enterprise manager that names a pending bulkId, taken out. */
function deferManager(data: Json, pending: ReadonlySet<string>): Deferred {
  const key = keyOf(data, URN.enterpriseUser)
  const enterprise = key === undefined ? undefined : data[key]
  if (!isObject(enterprise)) return { data, operations: [] }
  const managerKey = keyOf(enterprise, 'manager')
  const manager = managerKey === undefined ? undefined : enterprise[managerKey]
  const ref = isObject(manager) ? bulkIdIn(manager.value) : bulkIdIn(manager)
  if (!ref || !pending.has(ref)) return { data, operations: [] }
  const { [managerKey!]: _manager, ...rest } = enterprise
  return {
    data: { ...data, [key!]: rest },
    operations: [{ op: 'replace', path: `${URN.enterpriseUser}:manager`, value: { value: `${PREFIX}${ref}` } }],
  }
}

/**
 * Splits a POST's data in two: the data without the references to a bulkId in `pending` that can be
 * set later (a group's members, a user's manager), and the PatchOp operations that set them.
 * Undefined when another reference to a pending bulkId remains: that one cannot wait.
 */
export function deferReferences(
  endpoint: 'Users' | 'Groups',
  data: Json,
  pending: ReadonlySet<string>,
): Deferred | undefined {
  const split = endpoint === 'Groups' ? deferMembers(data, pending) : deferManager(data, pending)
  if (!split.operations.length) return undefined
  for (const ref of referencesOf({ data: split.data })) if (pending.has(ref)) return undefined
  return split
}
