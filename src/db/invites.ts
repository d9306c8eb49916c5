/**
 * The invites module: the only writer of `invites`, the outbox of invite mail (README "People:
 * invites and sign-in"). Statements that must join a user's batch are returned, not run; a change of
 * the user's state that goes with an invite is asked of the users module.
 */
import { and, asc, eq, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm'
import { batch, d1Call, statement, type Statement } from '../d1/batch.ts'
import type { Scope, SystemScope } from '../scope/scope.ts'
import { invites, type InviteState, type UserState } from './schema.ts'
import { userIsLive, userStateStatement } from './users.ts'

export type { InviteState }

type Tenant = Pick<Scope, 'db' | 'tenantKey'>
/** A tenant's scope as the invite writes need it: each journals what it did in its own batch. */
type Journaled = Tenant & Pick<Scope, 'journal'>

/** An invite's reason without the addresses in it (a mail API may quote the recipient). */
function withoutAddresses(text: string): string {
  return text.replace(/[^\s<>"',;:()]+@[^\s<>"',;:()]+/g, '…@…').slice(0, 300)
}

/** The journal entry of an invite's step, under `guard` (usually: the statement before it changed a row). */
function inviteNote(
  scope: Pick<Scope, 'journal'>,
  step: { action: string; userId: string; summary: string; outcome?: string; guard: SQL },
): Statement {
  return scope.journal.note({
    action: step.action,
    resourceType: 'User',
    resourceId: step.userId,
    outcome: step.outcome ?? 'ok',
    summary: step.summary,
    guard: step.guard,
  })
}

export type InviteRecord = typeof invites.$inferSelect & { state: InviteState }

/** A move of the invite's user that goes with an invite change: from one of `from` to `to`. */
export interface UserMove {
  from: readonly UserState[]
  to: UserState
}

/** The invite with this id, or undefined. */
export async function getInvite(scope: Tenant, id: string): Promise<InviteRecord | undefined> {
  return (await d1Call(() =>
    scope.db
      .select()
      .from(invites)
      .where(and(eq(invites.tenantId, scope.tenantKey), eq(invites.id, id)))
      .get(),
  )) as InviteRecord | undefined
}

/** The invite whose token has this hash, in any tenant (the hash is unique), or undefined. */
export async function getInviteByTokenHash(scope: SystemScope, hash: string): Promise<InviteRecord | undefined> {
  return (await d1Call(() => scope.db.select().from(invites).where(eq(invites.tokenHash, hash)).get())) as
    | InviteRecord
    | undefined
}

/** The user's invites, newest first. */
export async function invitesOfUser(scope: Tenant, userId: string): Promise<InviteRecord[]> {
  return (await d1Call(() =>
    scope.db
      .select()
      .from(invites)
      .where(and(eq(invites.tenantId, scope.tenantKey), eq(invites.userId, userId)))
      .orderBy(sql`${invites.createdAt} DESC`)
      .all(),
  )) as InviteRecord[]
}

/**
 * A new pending invite for the user, unless one is pending already (so a race or a retried request
 * never queues two mails for one person). `guard` makes it conditional on the user write it joins.
 */
export function insertInvite(
  scope: Pick<Scope, 'tenantKey' | 'now' | 'journal'>,
  invite: { id: string; userId: string },
  guard: SQL = sql`1`,
): Statement[] {
  const at = scope.now().toISOString()
  const tenantId = scope.tenantKey
  return [
    statement(
      sql`INSERT INTO invites (tenant_id, id, user_id, state, attempts, created_at)
        SELECT ${tenantId}, ${invite.id}, ${invite.userId}, 'pending', 0, ${at}
        WHERE NOT EXISTS (SELECT 1 FROM invites WHERE tenant_id = ${tenantId} AND user_id = ${invite.userId} AND state = 'pending') AND ${guard}`,
    ),
    inviteNote(scope, {
      action: 'invite-queued',
      userId: invite.userId,
      summary: `invite ${invite.id} queued for sending`,
      guard: sql`changes() = 1`,
    }),
  ]
}

/**
 * New pending invites for users created in the same batch (a bulk request's creates), in one
 * statement, and their journal notes in another. The users are new, so none has an invite yet.
 */
export function insertNewUserInvites(
  scope: Pick<Scope, 'tenantKey' | 'now' | 'journal'>,
  list: { id: string; userId: string }[],
): Statement[] {
  if (!list.length) return []
  const json = JSON.stringify(list.map((i) => [i.id, i.userId]))
  return [
    statement(sql`INSERT INTO invites (tenant_id, id, user_id, state, attempts, created_at)
      SELECT ${scope.tenantKey}, j.value ->> 0, j.value ->> 1, 'pending', 0, ${scope.now().toISOString()} FROM json_each(${json}) j`),
    scope.journal.notes(
      list.map((i) => ({
        action: 'invite-queued',
        resourceType: 'User' as const,
        resourceId: i.userId,
        summary: `invite ${i.id} queued for sending`,
      })),
    ),
  ]
}

/** Voids the user's pending and sent invites: their links stop working and no mail goes out. */
export function voidInvites(
  scope: Pick<Scope, 'db' | 'tenantKey' | 'journal'>,
  change: { userId: string; reason: string; guard?: SQL },
): Statement[] {
  return [
    scope.db
      .update(invites)
      .set({ state: 'void', lastError: change.reason, leaseUntil: null })
      .where(
        and(
          eq(invites.tenantId, scope.tenantKey),
          eq(invites.userId, change.userId),
          inArray(invites.state, ['pending', 'sent']),
          change.guard,
        ),
      ),
    inviteNote(scope, {
      action: 'invite-withdrawn',
      userId: change.userId,
      summary: `open invite withdrawn: ${change.reason}`,
      guard: sql`changes() > 0`,
    }),
  ]
}

/**
 * Takes the invite for one send attempt: only a pending invite that no other consumer holds.
 * Records the token hash and counts the attempt. Returns the invite, or undefined when not taken.
 */
export async function claimInvite(
  scope: Tenant & Pick<Scope, 'now'>,
  claim: { id: string; tokenHash: string; leaseSeconds: number },
): Promise<InviteRecord | undefined> {
  const now = scope.now()
  const at = now.toISOString()
  const rows = await d1Call(() =>
    scope.db
      .update(invites)
      .set({
        attempts: sql`${invites.attempts} + 1`,
        leaseUntil: new Date(now.getTime() + claim.leaseSeconds * 1000).toISOString(),
        tokenHash: claim.tokenHash,
      })
      .where(
        and(
          eq(invites.tenantId, scope.tenantKey),
          eq(invites.id, claim.id),
          eq(invites.state, 'pending'),
          or(isNull(invites.leaseUntil), lte(invites.leaseUntil, at)),
        ),
      )
      .returning()
      .all(),
  )
  return rows[0] as InviteRecord | undefined
}

/** A condition that holds while the invite is in `state`. */
function inviteIs(scope: Pick<Scope, 'tenantKey'>, id: string, state: InviteState): SQL {
  return sql`EXISTS (SELECT 1 FROM invites WHERE tenant_id = ${scope.tenantKey} AND id = ${id} AND state = ${state})`
}

/**
 * The mail API accepted the invite: it is `sent` and expires `ttlDays` from now, and its user makes
 * `user`'s move (provisioned to invited), in one batch (the user only if the invite was still pending).
 */
export async function markSent(
  scope: Journaled & Pick<Scope, 'now'>,
  sent: { invite: { id: string; userId: string }; ttlDays: number; user: UserMove },
): Promise<boolean> {
  const now = scope.now()
  const expiresAt = new Date(now.getTime() + sent.ttlDays * 86_400_000).toISOString()
  const b = batch(scope.db)
  const marked = b.changes(
    scope.db
      .update(invites)
      .set({ state: 'sent', sentAt: now.toISOString(), expiresAt, leaseUntil: null, lastError: null })
      .where(and(eq(invites.tenantId, scope.tenantKey), eq(invites.id, sent.invite.id), eq(invites.state, 'pending'))),
  )
  b.add(
    inviteNote(scope, {
      action: 'invite-sent',
      userId: sent.invite.userId,
      summary: `invite ${sent.invite.id} accepted by the mail API; the link works until ${expiresAt}`,
      guard: sql`changes() = 1`,
    }),
  )
  b.add(
    userStateStatement(scope, {
      userId: sent.invite.userId,
      ...sent.user,
      when: inviteIs(scope, sent.invite.id, 'sent'),
    }),
  )
  return (await b.run()).get(marked) === 1
}

/** Ends a pending invite for good (`failed` or `void`) with the reason. */
export async function finishInvite(
  scope: Journaled,
  end: { id: string; userId: string; state: 'failed' | 'void'; reason: string },
): Promise<void> {
  const b = batch(scope.db)
  b.add(
    scope.db
      .update(invites)
      .set({ state: end.state, lastError: end.reason.slice(0, 500), leaseUntil: null })
      .where(and(eq(invites.tenantId, scope.tenantKey), eq(invites.id, end.id), eq(invites.state, 'pending'))),
  )
  b.add(
    inviteNote(scope, {
      action: end.state === 'failed' ? 'invite-failed' : 'invite-withdrawn',
      userId: end.userId,
      outcome: end.state === 'failed' ? 'error' : 'ok',
      summary: `invite ${end.id} ${end.state === 'failed' ? 'not sent' : 'withdrawn'}: ${withoutAddresses(end.reason)}`,
      guard: sql`changes() = 1`,
    }),
  )
  await b.run()
}

/** Gives a pending invite back after a failed attempt that will be retried. */
export async function releaseInvite(
  scope: Journaled,
  release: { id: string; userId: string; reason: string; retryInSeconds: number },
): Promise<void> {
  const b = batch(scope.db)
  b.add(
    scope.db
      .update(invites)
      .set({ lastError: release.reason.slice(0, 500), leaseUntil: null })
      .where(and(eq(invites.tenantId, scope.tenantKey), eq(invites.id, release.id), eq(invites.state, 'pending'))),
  )
  b.add(
    inviteNote(scope, {
      action: 'invite-retry',
      userId: release.userId,
      outcome: 'error',
      summary: `invite ${release.id} not sent yet (${withoutAddresses(release.reason)}); trying again in ${release.retryInSeconds} s`,
      guard: sql`changes() = 1`,
    }),
  )
  await b.run()
}

/**
 * The person accepted: the invite becomes `accepted` and the user makes `user`'s move (to joined), in
 * one batch, only if the invite is sent and unexpired and the user is live in one of `user.from`.
 * Returns true when this call made the change.
 */
export async function markAccepted(
  scope: Journaled & Pick<Scope, 'now'>,
  accepted: {
    invite: { id: string; userId: string }
    user: UserMove
    /** Statements that run right after the invite is marked (`changes() = 1` tells whether it was). */
    joined?: Statement[]
  },
): Promise<boolean> {
  const at = scope.now().toISOString()
  const { invite, user } = accepted
  const b = batch(scope.db)
  const marked = b.changes(
    scope.db
      .update(invites)
      .set({ state: 'accepted', acceptedAt: at })
      .where(
        and(
          eq(invites.tenantId, scope.tenantKey),
          eq(invites.id, invite.id),
          eq(invites.state, 'sent'),
          sql`${invites.expiresAt} > ${at}`,
          userIsLive(scope, invite.userId, user.from),
        ),
      ),
  )
  b.addAll(accepted.joined ?? [])
  b.add(
    inviteNote(scope, {
      action: 'invite-accepted',
      userId: invite.userId,
      summary: `invite ${invite.id} accepted; the person has joined`,
      guard: sql`EXISTS (SELECT 1 FROM invites WHERE tenant_id = ${scope.tenantKey} AND id = ${invite.id} AND state = 'accepted' AND accepted_at = ${at})`,
    }),
  )
  b.add(userStateStatement(scope, { userId: invite.userId, ...user, when: inviteIs(scope, invite.id, 'accepted') }))
  return (await b.run()).get(marked) === 1
}

/**
 * Pending invites that no consumer ever took (attempts = 0) and that are older than `olderThan`:
 * their queue send failed. Across tenants, oldest first, at most `limit`.
 */
export async function strandedInvites(
  scope: SystemScope,
  olderThan: Date,
  limit: number,
): Promise<{ tenantKey: string; id: string }[]> {
  return d1Call(() =>
    scope.db
      .select({ tenantKey: invites.tenantId, id: invites.id })
      .from(invites)
      .where(
        and(eq(invites.state, 'pending'), eq(invites.attempts, 0), lte(invites.createdAt, olderThan.toISOString())),
      )
      .orderBy(asc(invites.createdAt))
      .limit(limit)
      .all(),
  )
}
