/**
 * /Bulk (RFC 7644 §3.7): runs a request's operations through the same writes as single requests
 * (lifecycle, invites, events, journal), each with its own journal origin. Operations run in request
 * order, except that one naming `bulkId:x` waits until the POST with bulkId x has run; users whose
 * managers name each other are created without them, which are set once all exist (§3.7.1). A run of plain user creates is written a chunk at a time (src/provisioning/user-batch.ts).
 */
import { Conflict, InvalidValue } from '../scim/errors.ts'
import { deferReferences, referencesOf, resolveReferences } from '../scim/bulk/references.ts'
import type { BulkEndpoint, BulkMethod, BulkOperation, BulkRequest } from '../scim/bulk/request.ts'
import { etag } from '../scim/resource/represent.ts'
import { isObject, type Json } from '../scim/resource/values.ts'
import { URN } from '../scim/urns.ts'
import type { Scope } from '../scope/scope.ts'
import { holdOutboxes } from './held-outbox.ts'
import { createScimGroup, deleteScimGroup, patchScimGroup, replaceScimGroup } from './groups.ts'
import { createScimUsers } from './user-batch.ts'
import { createScimUser, deleteScimUser, patchScimUser, replaceScimUser } from './users.ts'

/** What one operation came to, as the BulkResponse reports it. */
export interface BulkResult {
  index: number
  method: string
  bulkId?: string
  /** The resource's ETag after the operation. */
  version?: string
  location?: string
  status: number
  /** The failure, rendered by the route as the operation's `response`. */
  error?: unknown
}

/** Creates written in one batch at most (each is a few hundred bytes of one JSON parameter). */
const CREATE_CHUNK = 100

const OK_STATUS: Record<BulkMethod, number> = { POST: 201, PUT: 200, PATCH: 200, DELETE: 204 }

/** An operation waiting to run: as sent, or the deferred member add of a group created first. */
interface Pending {
  op: BulkOperation
  /** Set for a group's deferred members: the group's result, completed when they are added. */
  completes?: BulkResult
}

/** The scope of one operation: the request's, with the operation's own journal origin. */
function operationScope(scope: Scope, op: Pick<BulkOperation, 'method' | 'endpoint' | 'target'>, id?: string): Scope {
  const base = new URL(scope.baseUrl).pathname
  const target = id ?? op.target
  const path = `${base}/${op.endpoint}${target ? `/${target}` : ''}`.slice(0, 300)
  const okStatus = op.method === 'PATCH' && op.endpoint === 'Groups' ? 204 : OK_STATUS[op.method]
  return { ...scope, journal: scope.journal.forOperation({ method: op.method, path, okStatus }) }
}

/** Runs one operation whose references are resolved; returns its result. */
async function runOne(scope: Scope, op: BulkOperation): Promise<BulkResult> {
  const result: BulkResult = { index: op.index, method: op.method, bulkId: op.bulkId, status: OK_STATUS[op.method] }
  const at = (id: string) => `${scope.baseUrl}/${op.endpoint}/${id}`
  const s = operationScope(scope, op)
  const id = op.target!
  if (op.method === 'DELETE') {
    await (op.endpoint === 'Users' ? deleteScimUser(s, id, op.version) : deleteScimGroup(s, id, op.version))
    result.location = at(id)
    return result
  }
  const record = await write(s, op.endpoint, op.method, { id, data: op.data, version: op.version })
  result.location = at(record.id)
  result.version = etag(record.version)
  return result
}

function write(
  s: Scope,
  endpoint: BulkEndpoint,
  method: Exclude<BulkMethod, 'DELETE'>,
  o: { id: string; data: unknown; version?: string },
): Promise<{ id: string; version: number }> {
  if (endpoint === 'Users') {
    if (method === 'POST') return createScimUser(s, o.data)
    if (method === 'PUT') return replaceScimUser(s, o.id, o.data, o.version)
    return patchScimUser(s, o.id, o.data, o.version)
  }
  if (method === 'POST') return createScimGroup(s, o.data)
  if (method === 'PUT') return replaceScimGroup(s, o.id, o.data, o.version)
  return patchScimGroup(s, o.id, o.data, o.version)
}

/** A plain user create: nothing to resolve, so it can join a chunk. */
function isPlainUserCreate(p: Pending, refs: Map<BulkOperation, Set<string>>): boolean {
  return !p.completes && p.op.method === 'POST' && p.op.endpoint === 'Users' && refs.get(p.op)?.size === 0
}

/**
 * Runs a BulkRequest; returns the result of every operation it attempted, in request order. What the
 * operations announce (invites to send, events to deliver) goes out once, after the last of them.
 */
export async function runBulk(requestScope: Scope, request: BulkRequest): Promise<BulkResult[]> {
  const held = holdOutboxes(requestScope.outbox)
  try {
    return await runOperations({ ...requestScope, outbox: held.outbox }, request)
  } finally {
    await held.flush()
  }
}

async function runOperations(scope: Scope, request: BulkRequest): Promise<BulkResult[]> {
  const budget = request.failOnErrors ?? Number.POSITIVE_INFINITY
  const results: BulkResult[] = []
  let errors = 0
  const fail = (op: { index: number; method: string; bulkId?: string }, error: unknown, status = 400) => {
    results.push({ index: op.index, method: op.method, bulkId: op.bulkId, status, error })
    errors++
  }
  const posts = new Set<string>()
  for (const op of request.operations) if ('endpoint' in op && op.bulkId && op.method === 'POST') posts.add(op.bulkId)
  const ids = new Map<string, string>()
  const failed = new Set<string>()
  const refs = new Map<BulkOperation, Set<string>>()
  let waiting: Pending[] = []
  for (const op of request.operations) {
    if ('error' in op) {
      waiting.push({ op: op as unknown as BulkOperation }) // kept in order; refused below
      continue
    }
    refs.set(op, referencesOf(op))
    waiting.push({ op })
  }

  const refusedOf = new Map(request.operations.filter((o) => 'error' in o).map((o) => [o.index, o]))
  const runnable = (p: Pending) =>
    [...(refs.get(p.op) ?? [])].every((r) => ids.has(r) || failed.has(r) || !posts.has(r))

  const settle = async (p: Pending): Promise<void> => {
    const refused = refusedOf.get(p.op.index)
    if (refused && !p.completes) {
      if ('error' in refused) fail(refused, refused.error, (refused.error as { status?: number }).status)
      return
    }
    const op = p.op
    const named = refs.get(op)!
    const unknown = [...named].find((r) => !posts.has(r))
    const lost = [...named].find((r) => failed.has(r))
    const target = p.completes ?? op
    if (unknown !== undefined || lost !== undefined) {
      const error =
        unknown !== undefined
          ? new InvalidValue(
              `Operation ${op.index}: bulkId "${unknown.slice(0, 60)}" is not the bulkId of any POST in this request`,
            )
          : new Conflict(
              `Operation ${op.index}: bulkId "${lost!.slice(0, 60)}" names a POST of this request that failed`,
            )
      if (p.completes) Object.assign(p.completes, { status: error.status, error, version: undefined })
      else fail(target, error, error.status)
      if (op.bulkId && op.method === 'POST') failed.add(op.bulkId)
      if (p.completes) errors++
      return
    }
    const resolved: BulkOperation = {
      ...op,
      target: op.target && resolveReferences(op.target, ids),
      data: resolveReferences(op.data, ids),
    }
    try {
      const result = await runOne(scope, resolved)
      if (p.completes) p.completes.version = result.version
      else results.push(result)
      if (op.method === 'POST' && op.bulkId)
        ids.set(op.bulkId, result.location!.slice(result.location!.lastIndexOf('/') + 1))
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500
      if (p.completes) {
        Object.assign(p.completes, { status, error, version: undefined })
        errors++
      } else fail(op, error, status)
      if (op.method === 'POST' && op.bulkId) failed.add(op.bulkId)
    }
  }

  /** Writes the plain user creates at the head of `queue` a chunk at a time; returns how many it took. */
  const createChunk = async (queue: Pending[]): Promise<number> => {
    let n = 0
    while (
      n < queue.length &&
      n < CREATE_CHUNK &&
      isPlainUserCreate(queue[n]!, refs) &&
      !refusedOf.has(queue[n]!.op.index)
    )
      n++
    const ops = queue.slice(0, n).map((p) => p.op)
    const s = operationScope(scope, { method: 'POST', endpoint: 'Users' })
    const created = await createScimUsers(
      s,
      ops.map((o) => o.data),
      budget - errors,
    )
    for (const [i, c] of created.entries()) {
      const op = ops[i]!
      if ('skipped' in c) return n
      if ('error' in c) {
        fail(op, c.error, (c.error as { status?: number }).status ?? 500)
        failed.add(op.bulkId!)
      } else {
        ids.set(op.bulkId!, c.record.id)
        results.push({
          index: op.index,
          method: 'POST',
          bulkId: op.bulkId,
          status: 201,
          location: `${scope.baseUrl}/Users/${c.record.id}`,
          version: etag(c.record.version),
        })
      }
    }
    return n
  }

  while (waiting.length && errors < budget) {
    const at = waiting.findIndex(runnable)
    if (at >= 0) {
      const [head] = waiting.splice(at, 1)
      if (isPlainUserCreate(head!, refs) && !refusedOf.has(head!.op.index)) {
        const rest = waiting.slice(at)
        const taken = await createChunk([head!, ...rest])
        waiting.splice(at, Math.max(0, taken - 1))
      } else await settle(head!)
      continue
    }
    // Everything left waits on a POST that itself waits: a cycle. Create a resource without the
    // members or manager that close it, and set them once the resources they name exist.
    const pendingIds = new Set(waiting.flatMap((p) => (p.op.method === 'POST' && p.op.bulkId ? [p.op.bulkId] : [])))
    const breakable = waiting.findIndex(
      (p) =>
        !p.completes &&
        p.op.method === 'POST' &&
        isObject(p.op.data) &&
        deferReferences(p.op.endpoint, p.op.data, pendingIds) !== undefined,
    )
    if (breakable < 0) {
      for (const p of waiting.splice(0)) {
        if (errors >= budget) break
        const error = new Conflict(
          `Operation ${p.op.index}: its bulkId references form a cycle that cannot be resolved (RFC 7644 §3.7.1); send these resources in two requests`,
        )
        if (p.completes) {
          Object.assign(p.completes, { status: 409, error, version: undefined })
          errors++
        } else fail(p.op, error, 409)
      }
      break
    }
    const [cut] = waiting.splice(breakable, 1)
    const split = deferReferences(cut!.op.endpoint, cut!.op.data as Json, pendingIds)!
    const first: BulkOperation = { ...cut!.op, data: split.data }
    refs.set(first, referencesOf(first))
    const before = results.length
    await settle({ op: first })
    const made = results[before]
    if (made && !made.error) {
      const add: BulkOperation = {
        index: cut!.op.index,
        method: 'PATCH',
        endpoint: cut!.op.endpoint,
        target: `bulkId:${cut!.op.bulkId}`,
        data: { schemas: [URN.patchOp], Operations: split.operations },
      }
      refs.set(add, referencesOf(add))
      waiting.push({ op: add, completes: made })
    }
  }
  return results.sort((a, b) => a.index - b.index)
}
