/** Housekeeping the cron trigger runs besides the invite sweep: journal retention and page marks. */
import type { Db } from './db/client.ts'
import { pruneJournal } from './db/journal.ts'
import { pruneExpiredMarks } from './db/pages.ts'
import { log } from './observability/log.ts'

/** Days journal entries are kept when JOURNAL_RETENTION_DAYS is not set. */
export const DEFAULT_JOURNAL_RETENTION_DAYS = 90

/** Prunes journal entries past the retention and expired page marks. */
export async function runMaintenance(db: Db, now: Date, retentionDays = DEFAULT_JOURNAL_RETENTION_DAYS): Promise<{ journal: number; marks: number }> {
  const before = new Date(now.getTime() - retentionDays * 86_400_000)
  const journal = await pruneJournal(db, before)
  const marks = await pruneExpiredMarks(db, now)
  log('info', 'maintenance', { journalPruned: journal, marksPruned: marks, retentionDays })
  return { journal, marks }
}
