/**
 * The producer side of the invite outbox (shared/DESIGN.md "Invites"): the invite row is written in
 * the user's batch first, then its id goes to INVITES. A failed send only delays the mail: the
 * scheduled sweep re-enqueues invites that no consumer ever took.
 */
import type { Db } from '../db/client.ts'
import type { InviteMessage } from '../env.ts'
import { log } from '../observability/log.ts'
import { strandedInvites } from './store.ts'

/** Where provisioning announces the invites it wrote. */
export interface InviteOutbox {
  /** Enqueues one message per invite id; never throws (the sweep covers a failed send). */
  announce(tenantId: string, inviteIds: string[]): Promise<void>
}

/** The outbox backed by the INVITES queue. */
export function queueOutbox(queue: Queue<InviteMessage>): InviteOutbox {
  return {
    async announce(tenantId, inviteIds) {
      if (!inviteIds.length) return
      try {
        await queue.sendBatch(inviteIds.map((inviteId) => ({ body: { v: 1, tenantId, inviteId } satisfies InviteMessage, contentType: 'json' as const })))
      } catch (error) {
        log('error', 'invite_enqueue_failed', { tenantId, inviteIds, message: (error as Error).message })
      }
    },
  }
}

/** Pending invites untouched for this long are taken to have lost their message. */
export const STRANDED_AFTER_MS = 2 * 60_000

/** The cron sweep: re-enqueues invites left pending because a queue send failed. Returns how many. */
export async function sweepStrandedInvites(db: Db, queue: Queue<InviteMessage>, now: Date, limit = 100): Promise<number> {
  const stranded = await strandedInvites(db, new Date(now.getTime() - STRANDED_AFTER_MS), limit)
  if (!stranded.length) return 0
  // sendBatch takes at most 100 messages; the limit keeps one run within that.
  await queue.sendBatch(stranded.map((s) => ({ body: { v: 1, tenantId: s.tenantId, inviteId: s.id } satisfies InviteMessage, contentType: 'json' as const })))
  log('info', 'invite_sweep', { requeued: stranded.length })
  return stranded.length
}
