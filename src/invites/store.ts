/**
 * Tenant-scoped queries on the invites outbox (shared/DESIGN.md "Invites"). Every function takes
 * the tenant id first after db. Statements that must join a user's batch are returned, not run.
 */
import { and, asc, eq, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm'
import { runBatch, type Statement } from '../db/batch.ts'
import type { Db } from '../db/client.ts'
import { invites, users } from '../db/schema.ts'

/** pending -> sent | failed | void; sent -> accepted | void. */
export type InviteState = 'pending' | 'sent' | 'failed' | 'void' | 'accepted'

export type InviteRecord = typeof invites.$inferSelect & { state: InviteState }

/** The invite with this id, or undefined. */
export async function getInvite(db: Db, tenantId: string, id: string): Promise<InviteRecord | undefined> {
  return (await db.select().from(invites).where(and(eq(invites.tenantId, tenantId), eq(invites.id, id))).get()) as InviteRecord | undefined
}

/** The invite whose token has this hash, in any tenant (the hash is unique), or undefined. */
export async function getInviteByTokenHash(db: Db, hash: string): Promise<InviteRecord | undefined> {
  return (await db.select().from(invites).where(eq(invites.tokenHash, hash)).get()) as InviteRecord | undefined
}

/** The user's invites, newest first. */
export async function invitesOfUser(db: Db, tenantId: string, userId: string): Promise<InviteRecord[]> {
  return (await db
    .select()
    .from(invites)
    .where(and(eq(invites.tenantId, tenantId), eq(invites.userId, userId)))
    .orderBy(sql`${invites.createdAt} DESC`)
    .all()) as InviteRecord[]
}

/**
 * A new pending invite for the user, unless one is pending already (so a race or a retried request
 * never queues two mails for one person). `guard` makes it conditional on the user write it joins.
 */
export function insertInvite(db: Db, tenantId: string, invite: { id: string; userId: string }, now: Date, guard?: SQL): Statement {
  const at = now.toISOString()
  const none = sql`NOT EXISTS (SELECT 1 FROM ${invites} WHERE ${invites.tenantId} = ${tenantId} AND ${invites.userId} = ${invite.userId} AND ${invites.state} = 'pending')`
  const col = (c: { name: string }) => sql.identifier(c.name)
  return db.run(
    sql`INSERT INTO ${invites} (${col(invites.tenantId)}, ${col(invites.id)}, ${col(invites.userId)}, ${col(invites.state)}, ${col(invites.attempts)}, ${col(invites.createdAt)})
        SELECT ${tenantId}, ${invite.id}, ${invite.userId}, 'pending', 0, ${at} WHERE ${none}${guard ? sql` AND ${guard}` : sql``}`,
  )
}

/** Voids the user's pending and sent invites: their links stop working and no mail goes out. */
export function voidInvites(db: Db, tenantId: string, userId: string, reason: string, guard?: SQL): Statement {
  return db
    .update(invites)
    .set({ state: 'void', lastError: reason, leaseUntil: null })
    .where(and(eq(invites.tenantId, tenantId), eq(invites.userId, userId), inArray(invites.state, ['pending', 'sent']), guard))
}

/**
 * Takes the invite for one send attempt: only a pending invite that no other consumer holds.
 * Records the token hash and counts the attempt. Returns the invite, or undefined when not taken.
 */
export async function claimInvite(db: Db, tenantId: string, id: string, hash: string, now: Date, leaseSeconds: number): Promise<InviteRecord | undefined> {
  const at = now.toISOString()
  const rows = await db
    .update(invites)
    .set({ attempts: sql`${invites.attempts} + 1`, leaseUntil: new Date(now.getTime() + leaseSeconds * 1000).toISOString(), tokenHash: hash })
    .where(and(eq(invites.tenantId, tenantId), eq(invites.id, id), eq(invites.state, 'pending'), or(isNull(invites.leaseUntil), lte(invites.leaseUntil, at))))
    .returning()
    .all()
  return rows[0] as InviteRecord | undefined
}

/**
 * The mail API accepted the invite: it is `sent` and expires `ttlDays` from now, and its user moves
 * from provisioned to invited, in one batch (the user only if the invite was still pending).
 */
export async function markSent(db: Db, tenantId: string, invite: { id: string; userId: string }, now: Date, ttlDays: number): Promise<boolean> {
  const at = now.toISOString()
  const expiresAt = new Date(now.getTime() + ttlDays * 86_400_000).toISOString()
  const results = await runBatch(db, [
    db
      .update(invites)
      .set({ state: 'sent', sentAt: at, expiresAt, leaseUntil: null, lastError: null })
      .where(and(eq(invites.tenantId, tenantId), eq(invites.id, invite.id), eq(invites.state, 'pending'))),
    db
      .update(users)
      .set({ state: 'invited', version: sql`${users.version} + 1`, updatedAt: at })
      .where(
        and(
          eq(users.tenantId, tenantId),
          eq(users.id, invite.userId),
          eq(users.state, 'provisioned'),
          isNull(users.deletedAt),
          sql`EXISTS (SELECT 1 FROM ${invites} WHERE ${invites.tenantId} = ${tenantId} AND ${invites.id} = ${invite.id} AND ${invites.state} = 'sent')`,
        ),
      ),
  ])
  return results[0]!.meta.changes === 1
}

/** Ends a pending invite for good (`failed` or `void`) with the reason. */
export async function finishInvite(db: Db, tenantId: string, id: string, state: 'failed' | 'void', reason: string): Promise<void> {
  await db
    .update(invites)
    .set({ state, lastError: reason.slice(0, 500), leaseUntil: null })
    .where(and(eq(invites.tenantId, tenantId), eq(invites.id, id), eq(invites.state, 'pending')))
    .run()
}

/** Gives a pending invite back after a failed attempt that will be retried. */
export async function releaseInvite(db: Db, tenantId: string, id: string, reason: string): Promise<void> {
  await db
    .update(invites)
    .set({ lastError: reason.slice(0, 500), leaseUntil: null })
    .where(and(eq(invites.tenantId, tenantId), eq(invites.id, id), eq(invites.state, 'pending')))
    .run()
}

/**
 * The person accepted: the invite becomes `accepted` and the user `joined`, in one batch, only if
 * the invite is sent and unexpired and the user is live and has not joined or been deactivated.
 * Returns true when this call made the change.
 */
export async function markAccepted(db: Db, tenantId: string, invite: { id: string; userId: string }, now: Date): Promise<boolean> {
  const at = now.toISOString()
  const userWaiting = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.tenantId} = ${tenantId} AND ${users.id} = ${invite.userId} AND ${users.deletedAt} IS NULL AND ${users.state} IN ('provisioned', 'invited'))`
  const results = await runBatch(db, [
    db
      .update(invites)
      .set({ state: 'accepted', acceptedAt: at })
      .where(and(eq(invites.tenantId, tenantId), eq(invites.id, invite.id), eq(invites.state, 'sent'), sql`${invites.expiresAt} > ${at}`, userWaiting)),
    db
      .update(users)
      .set({ state: 'joined', version: sql`${users.version} + 1`, updatedAt: at })
      .where(
        and(
          eq(users.tenantId, tenantId),
          eq(users.id, invite.userId),
          inArray(users.state, ['provisioned', 'invited']),
          isNull(users.deletedAt),
          sql`EXISTS (SELECT 1 FROM ${invites} WHERE ${invites.tenantId} = ${tenantId} AND ${invites.id} = ${invite.id} AND ${invites.state} = 'accepted')`,
        ),
      ),
  ])
  return results[0]!.meta.changes === 1
}

/**
 * Pending invites that no consumer ever took (attempts = 0) and that are older than `olderThan`:
 * their queue send failed. Across tenants, oldest first, at most `limit`.
 */
export async function strandedInvites(db: Db, olderThan: Date, limit: number): Promise<{ tenantId: string; id: string }[]> {
  return db
    .select({ tenantId: invites.tenantId, id: invites.id })
    .from(invites)
    .where(and(eq(invites.state, 'pending'), eq(invites.attempts, 0), lte(invites.createdAt, olderThan.toISOString())))
    .orderBy(asc(invites.createdAt))
    .limit(limit)
    .all()
}

/**
 * A condition that holds right after `updateUser` wrote version `version + 1` at `now`: statements
 * that join its batch run after the update, so they check its result instead of the old version.
 */
export function afterUserWrite(tenantId: string, userId: string, version: number, now: Date): SQL {
  return sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.tenantId} = ${tenantId} AND ${users.id} = ${userId} AND ${users.version} = ${version + 1} AND ${users.updatedAt} = ${now.toISOString()} AND ${users.deletedAt} IS NULL)`
}
