/** What the cron trigger runs: the invite sweep, journal retention, page marks and expired assertion jtis. */
import { pruneJournal } from './db/journal.ts'
import { pruneExpiredMarks } from './db/pages.ts'
import { pruneUsedAssertions } from './db/used-assertions.ts'
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
): Promise<{ requeued: number; journal: number; marks: number; assertions: number }> {
  const retentionDays = options.retentionDays ?? DEFAULT_JOURNAL_RETENTION_DAYS
  const requeued = options.invites ? await sweepStrandedInvites(scope, options.invites) : 0
  const journal = await pruneJournal(scope, new Date(scope.now().getTime() - retentionDays * 86_400_000))
  const marks = await pruneExpiredMarks(scope)
  const assertions = await pruneUsedAssertions(scope)
  log('info', 'maintenance', {
    requeued,
    journalPruned: journal,
    marksPruned: marks,
    assertionsPruned: assertions,
    retentionDays,
  })
  return { requeued, journal, marks, assertions }
}
