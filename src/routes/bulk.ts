/** The /Bulk endpoint, RFC 7644 §3.7: reads the BulkRequest, runs it, answers a BulkResponse. */
import { Hono } from 'hono'
import { runBulk, type BulkResult } from '../provisioning/bulk.ts'
import { parseBulkRequest } from '../scim/bulk/request.ts'
import { MethodNotAllowed } from '../scim/errors.ts'
import { MAX_BULK_PAYLOAD_BYTES } from '../scim/limits.ts'
import { URN } from '../scim/urns.ts'
import type { ScopedEnv } from './context.ts'
import { errorBody, toScimError } from './errors.ts'
import { readScimJson, scimJson } from './http.ts'
import { errorBodyDetail } from './journal.ts'
import { recordNotes } from '../provisioning/journal.ts'

export const bulk = new Hono<ScopedEnv>()

const ACTIONS: Record<string, string> = { POST: 'create', PUT: 'replace', PATCH: 'update', DELETE: 'delete' }

/** One operation of the BulkResponse: `status` a string, `response` the Error of a failed one. */
function responseOperation(r: BulkResult, requestId: string) {
  const op: Record<string, unknown> = { method: r.method || undefined, bulkId: r.bulkId }
  if (r.location) op.location = r.location
  if (r.version) op.version = r.version
  if (r.error === undefined) return { ...op, status: String(r.status) }
  const error = toScimError(r.error, requestId)
  return { ...op, status: String(error.status), response: errorBody(error) }
}

bulk.post('/', async (c) => {
  const scope = c.var.scope
  const request = parseBulkRequest(await readScimJson(c, MAX_BULK_PAYLOAD_BYTES))
  const results = await runBulk(scope, request)
  const Operations = results.map((r) => responseOperation(r, scope.requestId))
  // Failed operations are journaled here, in one statement; the ones that applied wrote their
  // entries with their changes.
  const failed = results.flatMap((r, i) => {
    const op = Operations[i]!
    if (!('response' in op)) return []
    return [
      {
        action: ACTIONS[r.method] ?? 'bulk',
        resourceId: r.location ? r.location.slice(r.location.lastIndexOf('/') + 1) : undefined,
        outcome: `error ${op.status}`,
        summary: `operation ${r.index}${r.method ? ` (${r.method})` : ''}${r.bulkId ? `, bulkId ${r.bulkId.slice(0, 60)}` : ''}`,
        detail: errorBodyDetail(op.response) ?? undefined,
      },
    ]
  })
  await recordNotes(scope, failed)
  return scimJson({ schemas: [URN.bulkResponse], Operations })
})

bulk.all('/', (c) => {
  throw new MethodNotAllowed(c.req.method, ['POST'])
})
