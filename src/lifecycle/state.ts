/**
 * A user's lifecycle (shared/DESIGN.md "Lifecycle"): provisioned -> invited -> joined; `active: false`
 * makes any of them deactivated and remembers the earlier state; DELETE makes the user deleted.
 */
export type UserState = 'provisioned' | 'invited' | 'joined' | 'deactivated' | 'deleted'

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
export function initialState(active: boolean, source: 'scim' | 'app'): { state: UserState; stateBeforeDeactivation: UserState | null } {
  const base: UserState = source === 'app' ? 'joined' : 'provisioned'
  return active ? { state: base, stateBeforeDeactivation: null } : { state: 'deactivated', stateBeforeDeactivation: base }
}
