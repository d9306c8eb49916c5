/**
 * Support's view of one person (`npm run tenant -- user show`): who they are, their state and who put
 * them there, every invite and how it went, their groups, and whether they may sign in and why.
 * Also `user find`: the people a SCIM filter selects, in a line each.
 */
import { readJournal, type ReadEntry } from '../db/journal.ts'
import { invitesOfUser, type InviteRecord } from '../db/invites.ts'
import { groupsOfUsers, type UserGroupRef } from '../db/members.ts'
import { findLiveUsers, getUserAnyState, latestTombstone, userPages, type UserRecord } from '../db/users.ts'
import { appUser, type AppUser } from '../lifecycle/access.ts'
import { canSignInState } from '../lifecycle/state.ts'
import { InvalidValue } from '../scim/errors.ts'
import type { Scope } from '../scope/scope.ts'
import { userFilterSql } from '../db/filter-sql.ts'
import { readPage } from '../db/pages.ts'
import { parseFilter } from '../scim/filter/parser.ts'
import { queryKey } from '../scim/list/cursor.ts'
import { userResourceType } from '../scim/schemas/index.ts'
import { checkFilterBudget } from './search-budget.ts'

/** One invite as support reads it: what became of it, and when. */
export interface InviteHistory {
  id: string
  /** queued (not sent yet), sent, accepted, failed, expired (sent, not accepted in time) or withdrawn. */
  status: 'queued' | 'sent' | 'accepted' | 'failed' | 'expired' | 'withdrawn'
  createdAt: string
  sentAt: string | null
  expiresAt: string | null
  acceptedAt: string | null
  attempts: number
  /** Why it failed or was withdrawn, or the last send error of a queued one. */
  reason: string | null
}

/** A journal entry about the person, shortened for the report. */
export interface ReportEntry {
  at: string
  action: string
  outcome: string
  actor: string | null
  summary: string | null
}

export interface UserReport {
  user: AppUser & { deletedAt: string | null }
  /** The journal's first entry that created the person, and its latest change. */
  created: ReportEntry | null
  lastChange: ReportEntry | null
  invites: InviteHistory[]
  groups: UserGroupRef[]
  signIn: { allowed: boolean; why: string }
  /** The person's most recent journal entries, newest first. */
  recent: ReportEntry[]
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The invite's status at `now`. */
function inviteStatus(invite: InviteRecord, now: Date): InviteHistory['status'] {
  if (invite.state === 'pending') return 'queued'
  if (invite.state === 'void') return 'withdrawn'
  if (invite.state === 'sent' && invite.expiresAt && invite.expiresAt <= now.toISOString()) return 'expired'
  return invite.state
}

function history(invite: InviteRecord, now: Date): InviteHistory {
  return {
    id: invite.id,
    status: inviteStatus(invite, now),
    createdAt: invite.createdAt,
    sentAt: invite.sentAt,
    expiresAt: invite.expiresAt,
    acceptedAt: invite.acceptedAt,
    attempts: invite.attempts,
    reason: invite.state === 'accepted' ? null : invite.lastError,
  }
}

/** Whether the person may sign in, and why, in words support can read out. */
function signIn(user: UserRecord, deletedAt: string | null, invites: InviteHistory[]): UserReport['signIn'] {
  if (deletedAt) return { allowed: false, why: `deleted at ${deletedAt}: the IdP removed the person` }
  const latest = invites[0]
  switch (user.state) {
    case 'joined':
      return {
        allowed: canSignInState('joined'),
        why: 'joined: active and the invite was accepted (or made by the app)',
      }
    case 'deactivated':
      return { allowed: false, why: 'deactivated: the IdP set active=false (deactivated, suspended or unassigned)' }
    case 'invited':
      return {
        allowed: false,
        why:
          latest?.status === 'expired'
            ? `invited, but the invite expired at ${latest.expiresAt}: run reinvite`
            : `invited: the invite was sent${latest?.sentAt ? ` at ${latest.sentAt}` : ''} and has not been accepted yet`,
      }
    default:
      return {
        allowed: false,
        why:
          latest?.status === 'failed'
            ? `provisioned: the invite could not be sent (${latest.reason ?? 'no reason recorded'})`
            : latest?.status === 'queued'
              ? 'provisioned: the invite is queued for sending'
              : 'provisioned: no invite has been sent',
      }
  }
}

function short(e: ReadEntry): ReportEntry {
  return { at: e.at, action: e.action, outcome: e.outcome, actor: e.actor ?? e.credentialId, summary: e.summary }
}

/** The person `who` names: an id, a userName or an email; live people before deleted ones. */
async function findPerson(scope: Scope, who: string): Promise<{ id: string } | 'ambiguous' | undefined> {
  if (UUID.test(who)) return { id: who.toLowerCase() }
  for (const key of [{ userName: who }, { email: who }]) {
    const live = await findLiveUsers(scope, key)
    if (live.length > 1) return 'ambiguous'
    if (live[0]) return { id: live[0].id }
  }
  const tombstone = (await latestTombstone(scope, { userName: who })) ?? (await latestTombstone(scope, { email: who }))
  return tombstone ? { id: tombstone } : undefined
}

/** The report on the person `who` names, or why there is none. */
export async function userReport(
  scope: Scope,
  who: string,
): Promise<{ ok: true; report: UserReport } | { ok: false; reason: 'unknown' | 'ambiguous' }> {
  const text = who.trim()
  if (!text || text.length > 512)
    throw new InvalidValue('Name the person by id, userName or email (at most 512 characters)')
  const found = await findPerson(scope, text)
  if (found === 'ambiguous') return { ok: false, reason: 'ambiguous' }
  const record = found && (await getUserAnyState(scope, found.id))
  if (!record) return { ok: false, reason: 'unknown' }
  const now = scope.now()
  const [invites, groups, journal] = await Promise.all([
    invitesOfUser(scope, record.id),
    record.deletedAt ? Promise.resolve(new Map<string, UserGroupRef[]>()) : groupsOfUsers(scope, [record.id]),
    readJournal(scope, { resourceId: record.id, limit: 200 }),
  ])
  const inviteHistory = invites.map((i) => history(i, now))
  const entries = journal.entries
  const changes = entries.filter(
    (e) => ['create', 'replace', 'update', 'delete'].includes(e.action) && e.outcome.startsWith('ok'),
  )
  const created = changes.findLast((e) => e.action === 'create')
  return {
    ok: true,
    report: {
      user: {
        ...appUser(record),
        deletedAt: record.deletedAt,
        ...(record.deletedAt ? { state: 'deleted' as const } : {}),
      },
      created: created ? short(created) : null,
      lastChange: changes[0] ? short(changes[0]) : null,
      invites: inviteHistory,
      groups: groups.get(record.id) ?? [],
      signIn: signIn(record, record.deletedAt, inviteHistory),
      recent: entries.slice(0, 20).map(short),
    },
  }
}

/** One line per person a SCIM filter selects (`user find`), at most `count`. */
export async function findUsers(
  scope: Scope,
  query: { filter?: string; count?: string },
): Promise<{ totalResults: number; users: AppUser[] }> {
  if (!query.filter?.trim()) throw new InvalidValue('Give a SCIM filter, e.g. userName sw "ada" or active eq false')
  const count = query.count === undefined ? 50 : Number(query.count)
  if (!Number.isInteger(count) || count < 1 || count > 200)
    throw new InvalidValue('count must be an integer from 1 to 200')
  const where = userFilterSql(parseFilter(query.filter), scope.userType, scope.tenantKey)
  checkFilterBudget(where)
  const page = await readPage(
    scope,
    { queryKey: queryKey(scope.userType.id, query.filter), filtered: true, sorted: false, startIndex: 1, count },
    userPages(scope, where),
  )
  return { totalResults: page.total, users: page.rows.map(appUser) }
}
