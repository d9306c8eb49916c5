/** What the cron trigger runs: the invite sweep, journal retention and page marks. */
import { pruneJournal } from './db/journal.ts'
import { pruneExpiredMarks } from './db/pages.ts'
import type { InviteMessage } from './invites/message.ts'
import { sweepStrandedInvites } from './invites/outbox.ts'
import { log } from './observability/log.ts'
import { DEFAULT_JOURNAL_RETENTION_DAYS } from './runtime/settings.ts'
import type { SystemScope } from './scope/scope.ts'

export { DEFAULT_JOURNAL_RETENTION_DAYS }

/** Re-enqueues stranded invites (when a queue is given), prunes journal entries past the retention and expired page marks. */
export async function runMaintenance(
  scope: SystemScope,
  options: { invites?: Queue<InviteMessage>; retentionDays?: number } = {},
): Promise<{ requeued: number; journal: number; marks: number }> {
  const retentionDays = options.retentionDays ?? DEFAULT_JOURNAL_RETENTION_DAYS
  const requeued = options.invites ? await sweepStrandedInvites(scope, options.invites) : 0
  const journal = await pruneJournal(scope, new Date(scope.now().getTime() - retentionDays * 86_400_000))
  const marks = await pruneExpiredMarks(scope)
  log('info', 'maintenance', { requeued, journalPruned: journal, marksPruned: marks, retentionDays })
  return { requeued, journal, marks }
}
