import { createMiddleware } from 'hono/factory'
import { recordJournal } from '../db/journal.ts'
import type { AppEnv } from '../routes/context.ts'
import { log } from './log.ts'
import { summarizeChange } from './summary.ts'

const ACTIONS: Record<string, string> = { POST: 'create', PUT: 'replace', PATCH: 'update', DELETE: 'delete' }

/**
 * Records every SCIM change (POST, PUT, PATCH, DELETE; not searches) in the journal after it ran,
 * success or not, with the credential, request id and a redacted summary.
 */
export const journal = createMiddleware<AppEnv>(async (c, next) => {
  const action = ACTIONS[c.req.method]
  const url = new URL(c.req.url)
  if (!action || url.pathname.endsWith('/.search')) return next()
  await next()
  const match = /\/scim\/v2\/[^/]+\/(Users|Groups)(?:\/([^/?]+))?/.exec(url.pathname)
  const location = c.res.headers.get('location')
  const resourceId = match?.[2] ? safeDecode(match[2]) : location ? location.slice(location.lastIndexOf('/') + 1) : null
  let summary: string | null = null
  // A body refused as too large (413) is never read, not even for the summary.
  if (c.res.status !== 413) {
    try {
      summary = summarizeChange(c.req.method, JSON.parse(new TextDecoder().decode(await c.req.arrayBuffer())))
    } catch {
      summary = null // An unreadable body was already answered with 400; the outcome says so.
    }
  }
  const status = c.res.status
  const entry = {
    at: new Date().toISOString(),
    credentialId: c.var.credential?.id ?? null,
    requestId: c.get('requestId') ?? null,
    method: c.req.method,
    path: url.pathname.slice(0, 300),
    resourceType: match?.[1] === 'Users' ? 'User' : match?.[1] === 'Groups' ? 'Group' : null,
    resourceId,
    action,
    outcome: status < 400 ? `ok ${status}` : `error ${status}`,
    summary,
  }
  // Written before the response goes out: one small insert, and support can rely on every change
  // being there. A failed journal write is logged, never turned into a failed SCIM request.
  await recordJournal(c.var.db, c.var.tenant.id, entry).catch((error: Error) =>
    log('error', 'journal_write_failed', { requestId: entry.requestId, message: error.message }),
  )
})

/** A URL path segment decoded, or as it came when its percent-encoding is malformed (the route already answered). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment).slice(0, 200)
  } catch {
    return segment.slice(0, 200)
  }
}
