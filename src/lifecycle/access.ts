/**
 * Sign-in access for the app (shared/DESIGN.md "Lifecycle"): may this person sign in, and why not.
 * Only `joined` users may; the answer names the state so the app can tell deactivated, deleted,
 * unknown and not-yet-joined people apart.
 */
import { and, desc, eq, isNotNull, isNull } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { users } from '../db/schema.ts'
import { toUserRecord, type UserRecord } from '../db/users.ts'
import { canSignInState, type UserState } from './state.ts'

/** Who the app asks about: a userName or an email address (both case-insensitive). */
export type Who = { userName: string } | { email: string }

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
}

/** The app's view of a user record. */
export function appUser(record: UserRecord): AppUser {
  const r = record.resource
  const emails = Array.isArray(r.emails) ? (r.emails as { value?: unknown; primary?: unknown }[]) : []
  const email = (emails.find((e) => e.primary === true) ?? emails[0])?.value
  return {
    id: record.id,
    userName: String(r.userName ?? ''),
    displayName: typeof r.displayName === 'string' ? r.displayName : null,
    email: typeof email === 'string' ? email : null,
    active: r.active !== false,
    state: record.state,
    source: record.source,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  }
}

function column(who: Who) {
  // The columns hold the comparison form (lower case), see src/db/schema.ts.
  return 'userName' in who ? eq(users.userName, who.userName.toLowerCase()) : eq(users.email, who.email.toLowerCase())
}

/** The live users matching `who` (at most 2: enough to tell one from many). */
export async function findLiveUsers(db: Db, tenantId: string, who: Who): Promise<UserRecord[]> {
  const rows = await db.select().from(users).where(and(eq(users.tenantId, tenantId), column(who), isNull(users.deletedAt))).limit(2).all()
  return rows.map(toUserRecord)
}

/** Answers canSignIn: live users first; with none, the latest tombstone says `deleted`. */
export async function canSignIn(db: Db, tenantId: string, who: Who): Promise<Access> {
  const live = await findLiveUsers(db, tenantId, who)
  if (live.length > 1) return { allowed: false, state: 'ambiguous', userId: null }
  const user = live[0]
  if (user) return { allowed: canSignInState(user.state), state: user.state, userId: user.id }
  const tombstone = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), column(who), isNotNull(users.deletedAt)))
    .orderBy(desc(users.deletedAt))
    .limit(1)
    .get()
  return tombstone ? { allowed: false, state: 'deleted', userId: tombstone.id } : { allowed: false, state: 'unknown', userId: null }
}
