/**
 * Support's resend (`npm run tenant -- reinvite <tenant> <userName>`): voids the person's open
 * invites and queues a fresh one, in one batch with the user (who is `provisioned` again until the new
 * mail is accepted). Only people who are active and have not joined can be reinvited. It is a user
 * write like any other (src/provisioning/users.ts writeUser), so it never loses a race.
 */
import { findLiveUsers, type Who } from '../db/users.ts'
import { neverJoined } from '../lifecycle/state.ts'
import { writeUser } from '../provisioning/users.ts'
import type { Scope } from '../scope/scope.ts'

export type ReinviteResult =
  | { ok: true; userId: string; inviteId: string }
  | { ok: false; reason: 'unknown' | 'ambiguous' | 'deactivated' | 'joined'; userId?: string }

/** Why a person in this state cannot be reinvited, or undefined when they can. */
function refusal(state: Parameters<typeof neverJoined>[0]): 'deactivated' | 'joined' | undefined {
  if (state === 'deactivated') return 'deactivated'
  return neverJoined(state) ? undefined : 'joined'
}

/** Queues a fresh invite for the person named by `who`. */
export async function reinvite(scope: Scope, who: Who): Promise<ReinviteResult> {
  const found = await findLiveUsers(scope, who)
  if (found.length > 1) return { ok: false, reason: 'ambiguous' }
  const user = found[0]
  if (!user) return { ok: false, reason: 'unknown' }
  let refused = refusal(user.state)
  if (refused) return { ok: false, reason: refused, userId: user.id }
  const { inviteId } = await writeUser(scope, user.id, {
    plan(current) {
      // Read again on every attempt: a deactivation or an acceptance may have won the race.
      refused = refusal(current.state)
      if (refused) return undefined
      return {
        write: { resource: current.resource, state: 'provisioned', stateBeforeDeactivation: null },
        invite: 'issue',
        voidReason: 'superseded by a reinvite',
        journal: { action: 'reinvite' },
      }
    },
  })
  if (refused || !inviteId) return { ok: false, reason: refused ?? 'joined', userId: user.id }
  return { ok: true, userId: user.id, inviteId }
}
