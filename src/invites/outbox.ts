/**
 * The producer side of the invite outbox: the invite row is written in the user's batch first, then
 * its id goes to INVITES. A failed send only delays the mail: the scheduled sweep re-enqueues invites
 * that no consumer ever took.
 */
import { strandedInvites } from '../db/invites.ts'
import { log } from '../observability/log.ts'
import type { InviteOutbox, SystemScope } from '../scope/scope.ts'
import type { InviteMessage } from './message.ts'

function messages(tenantKey: string, inviteIds: string[]) {
  return inviteIds.map((inviteId) => ({
    body: { v: 2, tenantKey, inviteId } satisfies InviteMessage,
    contentType: 'json' as const,
  }))
}

/** The outbox of one tenant, backed by the INVITES queue. */
export function queueOutbox(queue: Queue<InviteMessage>, tenantKey: string): InviteOutbox {
  return {
    async announce(inviteIds) {
      // sendBatch takes at most 100 messages.
      for (let at = 0; at < inviteIds.length; at += 100) {
        const ids = inviteIds.slice(at, at + 100)
        try {
          await queue.sendBatch(messages(tenantKey, ids))
        } catch (error) {
          log('error', 'invite_enqueue_failed', { tenantKey, inviteIds: ids, message: (error as Error).message })
        }
      }
    },
  }
}

/** Pending invites untouched for this long are taken to have lost their message. */
export const STRANDED_AFTER_MS = 2 * 60_000

/** The cron sweep: re-enqueues invites left pending because a queue send failed. Returns how many. */
export async function sweepStrandedInvites(
  scope: SystemScope,
  queue: Queue<InviteMessage>,
  limit = 100,
): Promise<number> {
  const stranded = await strandedInvites(scope, new Date(scope.now().getTime() - STRANDED_AFTER_MS), limit)
  if (!stranded.length) return 0
  // sendBatch takes at most 100 messages; the limit keeps one run within that.
  await queue.sendBatch(stranded.flatMap((s) => messages(s.tenantKey, [s.id])))
  log('info', 'invite_sweep', { requeued: stranded.length })
  return stranded.length
}
