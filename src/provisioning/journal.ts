/** The provisioning journal as the routes use it: recording requests that changed nothing, reading it for support. */
import { parseJournalCursor, readJournal, recordJournal, type JournalEntry, type JournalPage } from '../db/journal.ts'
import { runWrite } from '../d1/batch.ts'
import { log } from '../observability/log.ts'
import { InvalidValue } from '../scim/errors.ts'
import type { JournalNote, Scope } from '../scope/scope.ts'

/** The journal's query parameters, as the app API takes them. */
export interface JournalParams {
  userName?: string
  action?: string
  outcome?: string
  since?: string
  until?: string
  before?: string
  limit?: string
}

function isoDate(name: string, text: string | undefined): Date | undefined {
  if (!text) return undefined
  const date = new Date(text)
  if (Number.isNaN(date.getTime()))
    throw new InvalidValue(`${name} must be an ISO date-time such as 2026-11-01T00:00:00Z, got "${text.slice(0, 40)}"`)
  return date
}

/**
 * A page of the journal, newest first: `since`/`until` are ISO date-times, `action` an action or its
 * family (`invite`), `outcome` `ok`, `error` or an exact outcome, `before` the `next` of the page
 * before, `limit` 1 to 1000 (default 100).
 */
export async function readTenantJournal(scope: Scope, query: JournalParams): Promise<JournalPage> {
  const since = isoDate('since', query.since)
  const until = isoDate('until', query.until)
  const limit = query.limit === undefined ? 100 : Number(query.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new InvalidValue('limit must be an integer from 1 to 1000')
  if (query.before && !parseJournalCursor(query.before))
    throw new InvalidValue(`before must be the "next" cursor of a previous page, got "${query.before.slice(0, 60)}"`)
  if (query.action !== undefined && !/^[a-z][a-z-]{0,39}$/.test(query.action))
    throw new InvalidValue(
      `action must be an action such as create, delete, invite or invite-sent, got "${query.action.slice(0, 40)}"`,
    )
  if (query.outcome !== undefined && !/^(ok|error)( \d{3})?$|^[a-z]{1,20}$/.test(query.outcome))
    throw new InvalidValue(
      `outcome must be ok, error, or an outcome such as "error 409", got "${query.outcome.slice(0, 40)}"`,
    )
  return readJournal(scope, {
    userName: query.userName || undefined,
    action: query.action || undefined,
    outcome: query.outcome || undefined,
    since,
    until,
    before: query.before || undefined,
    limit,
  })
}

/**
 * Records a request that did not commit an entry with a change (an error, a no-op). A failing entry is
 * logged, never turned into a failed request.
 */
export async function recordOutcome(scope: Scope, entry: JournalEntry): Promise<void> {
  await recordJournal(scope, entry).catch((error: Error) =>
    log('error', 'journal_write_failed', { requestId: entry.requestId, message: error.message }),
  )
}

/** Records notes that did not commit with a change (the failed operations of a /Bulk request), in one statement. */
export async function recordNotes(scope: Scope, notes: Omit<JournalNote, 'guard'>[]): Promise<void> {
  if (!notes.length) return
  await runWrite(scope.db, scope.journal.notes(notes)).catch((error: Error) =>
    log('error', 'journal_write_failed', { requestId: scope.requestId, message: error.message }),
  )
}

/**
 * Records what support did outside the Worker (`set`, `rotate`, `disable`, ...: the CLI writes KV):
 * `action` is the command (`set`, `oauth-client-create`), `summary` what changed, never a secret.
 */
export async function recordSupportAction(scope: Scope, body: { action: unknown; summary: unknown }): Promise<void> {
  const { action, summary } = body
  if (typeof action !== 'string' || !/^[a-z][a-z-]{0,39}$/.test(action))
    throw new InvalidValue('action must be a command name such as set, rotate or oauth-client-create')
  if (summary !== undefined && (typeof summary !== 'string' || summary.length > 500))
    throw new InvalidValue('summary must be a string of at most 500 characters')
  await runWrite(scope.db, scope.journal.note({ action: `support-${action}`, summary }))
}
