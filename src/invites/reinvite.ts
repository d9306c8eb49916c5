/**
 * Support's resend (`npm run tenant -- reinvite <tenant> <userName>`): voids the person's open
 * invites and queues a fresh one, in one batch with the user (who is `provisioned` again until
 * the new mail is accepted). Only people who have not joined and are active can be reinvited.
 */
import type { Db } from '../db/client.ts'
import { newId } from '../db/ids.ts'
import { updateUser } from '../db/users.ts'
import { findLiveUsers, type Who } from '../lifecycle/access.ts'
import { neverJoined } from '../lifecycle/state.ts'
import { PreconditionFailed } from '../scim/errors.ts'
import type { InviteOutbox } from './outbox.ts'
import { afterUserWrite, insertInvite, voidInvites } from './store.ts'

export type ReinviteResult =
  | { ok: true; userId: string; inviteId: string }
  | { ok: false; reason: 'unknown' | 'ambiguous' | 'deactivated' | 'joined'; userId?: string }

/** Queues a fresh invite for the person named by `who`. */
export async function reinvite(db: Db, tenantId: string, who: Who, now: Date, outbox: InviteOutbox): Promise<ReinviteResult> {
  for (let attempt = 0; ; attempt++) {
    const found = await findLiveUsers(db, tenantId, who)
    if (found.length > 1) return { ok: false, reason: 'ambiguous' }
    const user = found[0]
    if (!user) return { ok: false, reason: 'unknown' }
    if (user.state === 'deactivated') return { ok: false, reason: 'deactivated', userId: user.id }
    if (!neverJoined(user.state)) return { ok: false, reason: 'joined', userId: user.id }
    const inviteId = newId()
    const guard = afterUserWrite(tenantId, user.id, user.version, now)
    try {
      await updateUser(db, tenantId, user.id, user.version, { resource: user.resource, state: 'provisioned', stateBeforeDeactivation: null }, now, [
        voidInvites(db, tenantId, user.id, 'superseded by a reinvite', guard),
        insertInvite(db, tenantId, { id: inviteId, userId: user.id }, now, guard),
      ])
    } catch (error) {
      // Another write to the user won the race: read it again.
      if (error instanceof PreconditionFailed && attempt < 4) continue
      throw error
    }
    await outbox.announce(tenantId, [inviteId])
    return { ok: true, userId: user.id, inviteId }
  }
}
