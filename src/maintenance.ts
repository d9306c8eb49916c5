/**
 * What the cron trigger runs: the invite sweep, journal and event retention, page marks, expired
 * assertion jtis, overdue receipts, and a wake-up for webhooks whose queue message went missing.
 */
import { flagOverdueReceipts, pruneEvents } from './db/events.ts'
import { pruneJournal } from './db/journal.ts'
import { pruneDeliveries, tenantsBehind } from './db/webhook-deliveries.ts'
import { pruneExpiredMarks } from './db/pages.ts'
import { pruneUsedAssertions } from './db/used-assertions.ts'
import type { InviteMessage } from './invites/message.ts'
import { sweepStrandedInvites } from './invites/outbox.ts'
import { log } from './observability/log.ts'
import { DEFAULT_EVENT_RETENTION_DAYS, DEFAULT_JOURNAL_RETENTION_DAYS } from './runtime/settings.ts'
import type { SystemScope } from './scope/scope.ts'
import type { WebhookMessage } from './webhooks/message.ts'

export { DEFAULT_JOURNAL_RETENTION_DAYS }

/** Re-enqueues stranded invites (when a queue is given), prunes journal entries past the retention and expired page marks. */
export async function runMaintenance(
  scope: SystemScope,
  options: {
    invites?: Queue<InviteMessage>
    webhooks?: Queue<WebhookMessage>
    retentionDays?: number
    eventRetentionDays?: number
  } = {},
): Promise<{
  requeued: number
  journal: number
  marks: number
  assertions: number
  events: number
  overdue: number
  woken: number
}> {
  const retentionDays = options.retentionDays ?? DEFAULT_JOURNAL_RETENTION_DAYS
  const eventDays = options.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS
  const requeued = options.invites ? await sweepStrandedInvites(scope, options.invites) : 0
  const journal = await pruneJournal(scope, new Date(scope.now().getTime() - retentionDays * 86_400_000))
  const marks = await pruneExpiredMarks(scope)
  const assertions = await pruneUsedAssertions(scope)
  const overdue = await flagOverdueReceipts(scope)
  const eventsBefore = new Date(scope.now().getTime() - eventDays * 86_400_000)
  const events = await pruneEvents(scope, eventsBefore)
  await pruneDeliveries(scope, eventsBefore)
  let woken = 0
  if (options.webhooks) {
    const behind = await tenantsBehind(scope)
    if (behind.length) await options.webhooks.sendBatch(behind.map((tenantKey) => ({ body: { v: 1, tenantKey } })))
    woken = behind.length
  }
  log('info', 'maintenance', {
    requeued,
    journalPruned: journal,
    marksPruned: marks,
    assertionsPruned: assertions,
    eventsPruned: events,
    receiptsOverdue: overdue,
    webhooksWoken: woken,
    retentionDays,
  })
  return { requeued, journal, marks, assertions, events, overdue, woken }
}
