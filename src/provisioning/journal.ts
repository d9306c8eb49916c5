/** The provisioning journal as the routes use it: recording requests that changed nothing, reading it for support. */
import { readJournal, recordJournal, type JournalEntry } from '../db/journal.ts'
import { log } from '../observability/log.ts'
import { InvalidValue } from '../scim/errors.ts'
import type { Scope } from '../scope/scope.ts'

/** The journal, newest first; `since` is an ISO date-time, `limit` 1 to 1000 (default 100). */
export async function readTenantJournal(
  scope: Scope,
  query: { userName?: string; since?: string; limit?: string },
): Promise<(JournalEntry & { id: string })[]> {
  const since = query.since ? new Date(query.since) : undefined
  if (since && Number.isNaN(since.getTime())) {
    throw new InvalidValue(
      `since must be an ISO date-time such as 2026-11-01T00:00:00Z, got "${String(query.since).slice(0, 40)}"`,
    )
  }
  const limit = query.limit === undefined ? 100 : Number(query.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new InvalidValue('limit must be an integer from 1 to 1000')
  return readJournal(scope, { userName: query.userName || undefined, since, limit })
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
