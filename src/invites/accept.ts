/**
 * What an invite link is worth right now, and accepting it (shared/DESIGN.md "Lifecycle": invited ->
 * joined). Every dead link has its own reason, so the page can say what happened and answer with
 * the right status.
 */
import type { Db } from '../db/client.ts'
import { getUser, type UserRecord } from '../db/users.ts'
import type { TenantDocument } from '../tenants/document.ts'
import { getInviteByTokenHash, markAccepted, type InviteRecord } from './store.ts'
import { isTokenShaped, tokenHash } from './token.ts'

/** Why a link does not (or no longer) lead to the app. */
export type DeadReason = 'unknown' | 'expired' | 'used' | 'revoked' | 'deactivated' | 'deleted' | 'tenant-disabled'

export type InviteStatus =
  | { kind: 'open'; invite: InviteRecord; user: UserRecord; tenant: TenantDocument }
  | { kind: 'dead'; reason: DeadReason; invite?: InviteRecord; user?: UserRecord; tenant?: TenantDocument }

/** Looks a token up and says whether it can be accepted. */
export async function inviteStatus(db: Db, loadTenant: (id: string) => Promise<TenantDocument | undefined>, token: string, now: Date): Promise<InviteStatus> {
  if (!isTokenShaped(token)) return { kind: 'dead', reason: 'unknown' }
  const invite = await getInviteByTokenHash(db, await tokenHash(token))
  // A pending invite has a hash only once its mail is being sent; its link is not out yet.
  if (!invite || invite.state === 'pending' || invite.state === 'failed') return { kind: 'dead', reason: 'unknown' }
  const tenant = await loadTenant(invite.tenantId)
  if (!tenant) return { kind: 'dead', reason: 'unknown' }
  const user = await getUser(db, invite.tenantId, invite.userId)
  const dead = (reason: DeadReason): InviteStatus => ({ kind: 'dead', reason, invite, user, tenant })
  if (!user) return dead('deleted')
  if (tenant.status !== 'active') return dead('tenant-disabled')
  if (user.state === 'deactivated') return dead('deactivated')
  if (invite.state === 'accepted') return dead('used')
  if (invite.state === 'void') return dead('revoked')
  if (user.state === 'joined') return dead('used')
  if (!invite.expiresAt || invite.expiresAt <= now.toISOString()) return dead('expired')
  return { kind: 'open', invite, user, tenant }
}

/**
 * Accepts the invite behind `token`. Accepting twice is harmless: a used link whose person is
 * joined answers like the first time. Returns the tenant to send the person on to, or why not.
 */
export async function acceptInvite(
  db: Db,
  loadTenant: (id: string) => Promise<TenantDocument | undefined>,
  token: string,
  now: Date,
): Promise<{ ok: true; tenant: TenantDocument; user: UserRecord; alreadyAccepted: boolean } | { ok: false; status: InviteStatus & { kind: 'dead' } }> {
  const status = await inviteStatus(db, loadTenant, token, now)
  if (status.kind === 'dead') {
    if (status.reason === 'used' && status.user?.state === 'joined' && status.tenant && status.invite?.state === 'accepted') {
      return { ok: true, tenant: status.tenant, user: status.user, alreadyAccepted: true }
    }
    return { ok: false, status }
  }
  if (await markAccepted(db, status.invite.tenantId, status.invite, now)) {
    return { ok: true, tenant: status.tenant, user: (await getUser(db, status.invite.tenantId, status.invite.userId)) ?? status.user, alreadyAccepted: false }
  }
  // Something changed between the read and the write (a second click, a deactivation): answer from the new state.
  const again = await inviteStatus(db, loadTenant, token, now)
  if (again.kind === 'dead' && again.reason === 'used' && again.user?.state === 'joined' && again.tenant) {
    return { ok: true, tenant: again.tenant, user: again.user, alreadyAccepted: true }
  }
  return { ok: false, status: again.kind === 'dead' ? again : { kind: 'dead', reason: 'revoked' } }
}
