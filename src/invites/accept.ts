/**
 * What an invite link is worth right now, and accepting it (invited -> joined). Every dead link has
 * its own reason, so the page can say what happened and answer with the right status.
 */
import { sql } from 'drizzle-orm'
import { eventStatement } from '../db/events.ts'
import { getInviteByTokenHash, markAccepted, type InviteRecord } from '../db/invites.ts'
import { getUser, type UserRecord } from '../db/users.ts'
import { INVITE_ACCEPTED } from '../lifecycle/state.ts'
import type { Scope, SystemScope } from '../scope/scope.ts'
import type { TenantDocument } from '../tenants/document.ts'
import { isTokenShaped, tokenHash } from './token.ts'

/** Why a link does not (or no longer) lead to the app. */
export type DeadReason = 'unknown' | 'expired' | 'used' | 'revoked' | 'deactivated' | 'deleted' | 'tenant-disabled'

export type InviteStatus =
  | { kind: 'open'; invite: InviteRecord; user: UserRecord; tenant: TenantDocument; scope: Scope }
  | { kind: 'dead'; reason: DeadReason; invite?: InviteRecord; user?: UserRecord; tenant?: TenantDocument }

/** Where a token is looked up: across tenants first (the hash is unique), then in its tenant's scope. */
export interface InviteLookup {
  system: SystemScope
  /** The scope of the tenant whose rows carry this key, whatever its status; undefined when it is gone. */
  scope(tenantKey: string): Promise<Scope | undefined>
}

/** Looks a token up and says whether it can be accepted. */
export async function inviteStatus(lookup: InviteLookup, token: string): Promise<InviteStatus> {
  if (!isTokenShaped(token)) return { kind: 'dead', reason: 'unknown' }
  const invite = await getInviteByTokenHash(lookup.system, await tokenHash(token))
  // A pending invite has a hash only once its mail is being sent; its link is not out yet.
  if (!invite || invite.state === 'pending' || invite.state === 'failed') return { kind: 'dead', reason: 'unknown' }
  const scope = await lookup.scope(invite.tenantId)
  if (!scope) return { kind: 'dead', reason: 'unknown' }
  const tenant = scope.tenant
  const user = await getUser(scope, invite.userId)
  const dead = (reason: DeadReason): InviteStatus => ({ kind: 'dead', reason, invite, user, tenant })
  if (!user) return dead('deleted')
  if (tenant.status !== 'active') return dead('tenant-disabled')
  if (user.state === 'deactivated') return dead('deactivated')
  if (invite.state === 'accepted') return dead('used')
  if (invite.state === 'void') return dead('revoked')
  if (user.state === 'joined') return dead('used')
  if (!invite.expiresAt || invite.expiresAt <= scope.now().toISOString()) return dead('expired')
  return { kind: 'open', invite, user, tenant, scope }
}

/** The answer to accepting a link. */
export type AcceptResult =
  | { ok: true; tenant: TenantDocument; user: UserRecord; alreadyAccepted: boolean }
  | { ok: false; status: InviteStatus & { kind: 'dead' } }

/** A used link whose person joined through it answers like the first acceptance. */
function acceptedBefore(status: InviteStatus): AcceptResult | undefined {
  if (
    status.kind === 'dead' &&
    status.reason === 'used' &&
    status.user?.state === 'joined' &&
    status.tenant &&
    status.invite?.state === 'accepted'
  ) {
    return { ok: true, tenant: status.tenant, user: status.user, alreadyAccepted: true }
  }
  return undefined
}

/**
 * Accepts the invite behind `token`. Accepting twice is harmless: a used link whose person is
 * joined answers like the first time. Returns the tenant to send the person on to, or why not.
 */
export async function acceptInvite(lookup: InviteLookup, token: string): Promise<AcceptResult> {
  const status = await inviteStatus(lookup, token)
  if (status.kind === 'dead') return acceptedBefore(status) ?? { ok: false, status }
  const { scope, invite } = status
  const joined = eventStatement(
    scope,
    { type: 'user.joined', resourceType: 'User', resourceId: invite.userId },
    sql`changes() = 1`,
  )
  if (await markAccepted(scope, { invite, user: INVITE_ACCEPTED, joined: [joined] })) {
    await scope.outbox.events.announce()
    return {
      ok: true,
      tenant: status.tenant,
      user: (await getUser(scope, invite.userId)) ?? status.user,
      alreadyAccepted: false,
    }
  }
  // Something changed between the read and the write (a second click, a deactivation): answer from the new state.
  const again = await inviteStatus(lookup, token)
  return (
    acceptedBefore(again) ?? { ok: false, status: again.kind === 'dead' ? again : { kind: 'dead', reason: 'revoked' } }
  )
}
