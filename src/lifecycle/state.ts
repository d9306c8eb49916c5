/**
 * A user's lifecycle (README "People: invites and sign-in"): provisioned -> invited -> joined;
 * `active: false` makes any of them deactivated and remembers the earlier state; DELETE makes the
 * user deleted. These rules are the only place the states' meaning is written down; SQL gets the
 * state sets from here.
 */
import type { UserMove } from '../db/invites.ts'
import type { UserState } from '../db/users.ts'

export type { UserState }

/** States of a person who has not joined yet: reactivating them sends a fresh invite. */
export const NEVER_JOINED: readonly UserState[] = ['provisioned', 'invited']

/** The mail API accepted an invite: a provisioned person becomes invited. */
export const INVITE_SENT: UserMove = { from: ['provisioned'], to: 'invited' }

/** The person accepted an invite: whoever has not joined yet becomes joined. */
export const INVITE_ACCEPTED: UserMove = { from: NEVER_JOINED, to: 'joined' }

/** The state a user is in after `active` is set, given the current state and the one to restore. */
export function applyActive(
  current: { state: UserState; stateBeforeDeactivation: UserState | null },
  active: boolean,
): { state: UserState; stateBeforeDeactivation: UserState | null } {
  const unchanged = { state: current.state, stateBeforeDeactivation: current.stateBeforeDeactivation }
  if (!active) {
    if (current.state === 'deactivated') return unchanged
    return { state: 'deactivated', stateBeforeDeactivation: current.state }
  }
  if (current.state !== 'deactivated') return unchanged
  return { state: current.stateBeforeDeactivation ?? 'provisioned', stateBeforeDeactivation: null }
}

/** The state of a newly created user. */
export function initialState(
  active: boolean,
  source: 'scim' | 'app',
): { state: UserState; stateBeforeDeactivation: UserState | null } {
  const base: UserState = source === 'app' ? 'joined' : 'provisioned'
  return active
    ? { state: base, stateBeforeDeactivation: null }
    : { state: 'deactivated', stateBeforeDeactivation: base }
}

/** What a write does to the user's invites. */
export type InviteEffect = 'issue' | 'void' | 'none'

/** True for a person who has not joined yet. */
export function neverJoined(state: UserState | null): boolean {
  return state !== null && NEVER_JOINED.includes(state)
}

/**
 * The lifecycle of a write that sets `active`: the next state and what happens to invites.
 * Deactivation voids pending invites; reactivation of a person who never joined issues a fresh
 * one (and the user is `provisioned` again until that mail is accepted); a joined person gets none.
 */
export function transition(
  current: { state: UserState; stateBeforeDeactivation: UserState | null },
  active: boolean,
): { state: UserState; stateBeforeDeactivation: UserState | null; invite: InviteEffect } {
  const next = applyActive(current, active)
  if (current.state !== 'deactivated' && next.state === 'deactivated') return { ...next, invite: 'void' }
  if (current.state === 'deactivated' && next.state !== 'deactivated' && neverJoined(next.state)) {
    return { state: 'provisioned', stateBeforeDeactivation: null, invite: 'issue' }
  }
  return { ...next, invite: 'none' }
}

/** The state of a new user and whether it gets an invite: IdP users who are active do; app users are joined already. */
export function creation(
  active: boolean,
  source: 'scim' | 'app',
): { state: UserState; stateBeforeDeactivation: UserState | null; invite: InviteEffect } {
  const initial = initialState(active, source)
  return { ...initial, invite: initial.state === 'provisioned' ? 'issue' : 'none' }
}

/** Whether a person in this state may sign in to the app: only joined people may. */
export function canSignInState(state: UserState): boolean {
  return state === 'joined'
}
