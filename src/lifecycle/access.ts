/**
 * Sign-in access for the app: may this person sign in, and why not. Only `joined` users may; the
 * answer names the state so the app can tell deactivated, deleted, unknown and not-yet-joined people apart.
 */
import { findLiveUsers, latestTombstone, type UserRecord, type Who } from '../db/users.ts'
import { primaryEmail } from '../scim/resource/emails.ts'
import type { Scope } from '../scope/scope.ts'
import { canSignInState, type UserState } from './state.ts'

export type { Who }

/** The answer to "may this person sign in?". */
export interface Access {
  allowed: boolean
  state: UserState | 'unknown' | 'ambiguous'
  userId: string | null
}

/** A user as the app sees it: no SCIM envelope, the lifecycle state included. */
export interface AppUser {
  id: string
  userName: string
  displayName: string | null
  email: string | null
  active: boolean
  state: UserState
  source: 'scim' | 'app'
  createdAt: string
  updatedAt: string
  /** What the IdP granted: role values, and entitlements with their catalogue type (License, ...). */
  grants: { roles: string[]; entitlements: { type: string | null; value: string }[] }
}

/** The elements of `roles` or `entitlements` that carry a value. */
function granted(resource: UserRecord['resource'], name: 'roles' | 'entitlements'): Record<string, unknown>[] {
  const list = resource[name]
  return Array.isArray(list)
    ? list.filter(
        (e): e is Record<string, unknown> =>
          typeof e === 'object' && e !== null && typeof (e as { value?: unknown }).value === 'string',
      )
    : []
}

/** The app's view of a user record. */
export function appUser(record: UserRecord): AppUser {
  const r = record.resource
  return {
    id: record.id,
    userName: String(r.userName ?? ''),
    displayName: typeof r.displayName === 'string' ? r.displayName : null,
    email: primaryEmail(r) ?? null,
    active: r.active !== false,
    state: record.state,
    source: record.source,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    grants: {
      roles: granted(r, 'roles').map((e) => e.value as string),
      entitlements: granted(r, 'entitlements').map((e) => ({
        type: typeof e.type === 'string' ? e.type : null,
        value: e.value as string,
      })),
    },
  }
}

/** Answers canSignIn: live users first; with none, the latest tombstone says `deleted`. */
export async function canSignIn(scope: Scope, who: Who): Promise<Access> {
  const live = await findLiveUsers(scope, who)
  if (live.length > 1) return { allowed: false, state: 'ambiguous', userId: null }
  const user = live[0]
  if (user) return { allowed: canSignInState(user.state), state: user.state, userId: user.id }
  const tombstone = await latestTombstone(scope, who)
  return tombstone
    ? { allowed: false, state: 'deleted', userId: tombstone }
    : { allowed: false, state: 'unknown', userId: null }
}
