import type { SQL } from 'drizzle-orm'
import { createMiddleware } from 'hono/factory'
import { journalStatement, recordJournal, type Audit, type JournalEntry } from '../db/journal.ts'
import type { AppContext, AppEnv } from '../routes/context.ts'
import { log } from './log.ts'
import { summarizeChange } from './summary.ts'

const ACTIONS: Record<string, string> = { POST: 'create', PUT: 'replace', PATCH: 'update', DELETE: 'delete' }

/** What the journal knows of a change before it runs, and whether its entry was written with it. */
export interface JournalDraft {
  entry: Omit<JournalEntry, 'at' | 'outcome' | 'summary'>
  /** True once the change's own batch wrote the entry (see auditOf). */
  written: boolean
}

/**
 * Records every SCIM change (POST, PUT, PATCH, DELETE; not searches), success or not, with the
 * credential, request id and a redacted summary. A change that succeeds writes its entry in its own
 * D1 batch (auditOf); anything else (errors, no-op changes) is recorded here after the handler ran.
 */
export const journal = createMiddleware<AppEnv>(async (c, next) => {
  const action = ACTIONS[c.req.method]
  const url = new URL(c.req.url)
  if (!action || url.pathname.endsWith('/.search')) return next()
  const match = /\/scim\/v2\/[^/]+\/(Users|Groups)(?:\/([^/?]+))?/.exec(url.pathname)
  const draft: JournalDraft = {
    entry: {
      credentialId: c.var.credential?.id ?? null,
      requestId: c.get('requestId') ?? null,
      method: c.req.method,
      path: url.pathname.slice(0, 300),
      resourceType: match?.[1] === 'Users' ? 'User' : match?.[1] === 'Groups' ? 'Group' : null,
      resourceId: match?.[2] ? safeDecode(match[2]) : null,
      action,
    },
    written: false,
  }
  c.set('journal', draft)
  await next()
  if (draft.written) return
  const location = c.res.headers.get('location')
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
  const entry: JournalEntry = {
    ...draft.entry,
    resourceId: draft.entry.resourceId ?? (location ? location.slice(location.lastIndexOf('/') + 1) : null),
    at: new Date().toISOString(),
    outcome: status < 400 ? `ok ${status}` : `error ${status}`,
    summary,
  }
  // Errors and no-ops are recorded before the response goes out. Their entry failing is logged, never
  // turned into a failed SCIM request (a change's own entry is part of its batch: see auditOf).
  await recordJournal(c.var.db, c.var.tenant.id, entry).catch((error: Error) =>
    log('error', 'journal_write_failed', { requestId: entry.requestId, message: error.message }),
  )
})

/**
 * The journal entry of the change this request is about to write, as a statement of that write's
 * batch: `status` is what the request answers when the write applies, `body` what it was asked.
 */
export function auditOf(c: AppContext, status: number, body: unknown): Audit | undefined {
  const draft = c.var.journal
  if (!draft) return undefined
  return (resourceId: string, guard?: SQL) =>
    journalStatement(
      c.var.tenant.id,
      { ...draft.entry, resourceId, at: new Date().toISOString(), outcome: `ok ${status}`, summary: summarizeChange(c.req.method, body) },
      guard,
      (written) => {
        draft.written = written
      },
    )
}

/** A URL path segment decoded, or as it came when its percent-encoding is malformed (the route already answered). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment).slice(0, 200)
  } catch {
    return segment.slice(0, 200)
  }
}
