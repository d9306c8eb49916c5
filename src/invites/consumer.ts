/**
 * The INVITES queue consumer. Each message is handled on its own and
 * the invite row, not the queue, decides whether a mail goes out: a redelivered or duplicated
 * message finds the invite sent (or held by another consumer) and sends nothing.
 */
import { claimInvite, finishInvite, getInvite, markSent, releaseInvite } from '../db/invites.ts'
import { getUser, type UserRecord } from '../db/users.ts'
import { INVITE_SENT } from '../lifecycle/state.ts'
import { log } from '../observability/log.ts'
import { primaryEmail } from '../scim/resource/emails.ts'
import type { Json } from '../scim/resource/values.ts'
import type { Scope } from '../scope/scope.ts'
import { DEFAULT_INVITE_TTL_DAYS, type TenantDocument } from '../tenants/document.ts'
import { renderInviteEmail } from './email.ts'
import { type MailClient, recipientProblem } from './mail.ts'
import { readInviteMessage } from './message.ts'
import { inviteToken, tokenHash } from './token.ts'

/** How long one consumer holds an invite while it sends (longer than the mail timeout). */
const LEASE_SECONDS = 60

/** What the consumer needs; built from env by src/runtime/scopes.ts, with fakes in tests. */
export interface ConsumerDeps {
  /** The scope of a message's tenant, whatever its status; undefined when there is no such tenant. */
  scope(tenantKey: string): Promise<Scope | undefined>
  mail: MailClient
  tokenKey: string
  /** The product name the mail shows for this tenant. */
  appName(tenant: TenantDocument): string
  /** The queue's max_retries (wrangler.toml); the attempt after the last retry marks the invite failed. */
  maxRetries?: number
}

/** What happened to one message, for logs and tests. */
export type Outcome =
  | { action: 'sent' }
  | { action: 'skipped'; reason: string }
  | { action: 'failed'; reason: string }
  | { action: 'retry'; reason: string; delaySeconds: number }

/** The delay before retry `attempt` (1-based): 30 s doubling to at most an hour, or Retry-After if longer. */
export function retryDelay(attempt: number, retryAfterSeconds?: number): number {
  const backoff = Math.min(3600, 30 * 2 ** Math.max(0, attempt - 1))
  return Math.min(43_200, Math.max(backoff, retryAfterSeconds ?? 0))
}

/** Handles a batch message by message: ack on success and on what can never succeed, retry with a growing delay otherwise. */
export async function handleInviteBatch(batch: MessageBatch<unknown>, deps: ConsumerDeps): Promise<void> {
  // One at a time: two messages for one invite in the same batch must not race each other.
  for (const message of batch.messages) {
    let outcome: Outcome
    try {
      outcome = await handleInviteMessage(message.body, message.attempts, deps)
    } catch (error) {
      // D1 or KV unavailable, or a bug: the row was not changed to a final state, so try again later.
      outcome = {
        action: 'retry',
        reason: `error: ${(error as Error).message}`,
        delaySeconds: retryDelay(message.attempts),
      }
    }
    const fields = {
      messageId: message.id,
      attempts: message.attempts,
      ...readInviteMessage(message.body),
    }
    if (outcome.action === 'retry') {
      log('warn', 'invite_retry', { ...fields, reason: outcome.reason, delaySeconds: outcome.delaySeconds })
      message.retry({ delaySeconds: outcome.delaySeconds })
    } else {
      log(outcome.action === 'failed' ? 'warn' : 'info', `invite_${outcome.action}`, {
        ...fields,
        ...('reason' in outcome ? { reason: outcome.reason } : {}),
      })
      message.ack()
    }
  }
}

/** Where the invite goes: the primary email, else the first, else a userName that is an address. */
function recipient(resource: Json): string | undefined {
  const email = primaryEmail(resource)
  if (email) return email
  return typeof resource.userName === 'string' && /^[^@\s]+@[^@\s]+$/.test(resource.userName)
    ? resource.userName
    : undefined
}

/** How the email greets the person. */
export function personName(resource: Json): string {
  const name = (resource.name ?? {}) as Json
  for (const v of [
    resource.displayName,
    name.formatted,
    [name.givenName, name.familyName].filter(Boolean).join(' '),
    resource.userName,
  ]) {
    if (typeof v === 'string' && v.trim()) return v.trim()
  }
  return 'there'
}

/** Why a user no longer gets mail, or undefined when they still should. */
function userGone(user: UserRecord | undefined): string | undefined {
  if (!user) return 'user deleted'
  if (user.state === 'deactivated') return 'user deactivated'
  if (user.state === 'joined') return 'user already joined'
  return undefined
}

/** Handles one message body; `attempts` is the queue's delivery count (1 on the first). */
export async function handleInviteMessage(body: unknown, attempts: number, deps: ConsumerDeps): Promise<Outcome> {
  const message = readInviteMessage(body)
  if (!message) return { action: 'skipped', reason: 'not an invite message' }
  const { tenantKey, inviteId } = message
  const scope = await deps.scope(tenantKey)
  if (!scope) return { action: 'skipped', reason: 'tenant not found' }
  const now = scope.now()
  const token = await inviteToken(deps.tokenKey, tenantKey, inviteId)
  const invite = await claimInvite(scope, {
    id: inviteId,
    tokenHash: await tokenHash(token),
    leaseSeconds: LEASE_SECONDS,
  })
  if (!invite) {
    const current = await getInvite(scope, inviteId)
    if (!current) return { action: 'skipped', reason: 'unknown invite' }
    if (current.state !== 'pending') return { action: 'skipped', reason: `invite is ${current.state}` }
    // Another consumer holds it right now; look again once its lease is over.
    const wait = Math.max(1, Math.ceil((Date.parse(current.leaseUntil ?? '') - now.getTime()) / 1000) || LEASE_SECONDS)
    return { action: 'retry', reason: 'held by another consumer', delaySeconds: wait }
  }
  const fail = async (reason: string): Promise<Outcome> => {
    await finishInvite(scope, { id: inviteId, userId: invite.userId, state: 'failed', reason })
    return { action: 'failed', reason }
  }

  const user = await getUser(scope, invite.userId)
  const gone = userGone(user)
  if (gone) {
    await finishInvite(scope, { id: inviteId, userId: invite.userId, state: 'void', reason: gone })
    return { action: 'skipped', reason: gone }
  }
  const tenant = scope.tenant
  if (tenant.status !== 'active') return fail('tenant disabled')
  const to = recipient(user!.resource)
  if (!to) return fail('the user has no email address')
  const problem = recipientProblem(to)
  if (problem) return fail(`${problem}; fix the user's email in the IdP`)

  const ttlDays = tenant.settings?.inviteTtlDays ?? DEFAULT_INVITE_TTL_DAYS
  const email = renderInviteEmail({
    to,
    person: personName(user!.resource),
    appName: deps.appName(tenant),
    tenantName: tenant.name,
    link: `${scope.publicUrl}/invite#${token}`,
    expiresAt: new Date(now.getTime() + ttlDays * 86_400_000),
  })
  const result = await deps.mail.send(email, { idempotencyKey: inviteId })
  if (result.ok) {
    await markSent(scope, { invite, ttlDays, user: INVITE_SENT })
    return { action: 'sent' }
  }
  if (!result.retry) return fail(result.reason)
  if (attempts > (deps.maxRetries ?? 8)) {
    // This retry sends the message to the dead letter queue; the row says so too.
    await finishInvite(scope, {
      id: inviteId,
      userId: invite.userId,
      state: 'failed',
      reason: `gave up after ${attempts} attempts: ${result.reason}`,
    })
    return { action: 'retry', reason: `dead-lettered: ${result.reason}`, delaySeconds: 0 }
  }
  const delaySeconds = retryDelay(attempts, result.retryAfterSeconds)
  await releaseInvite(scope, {
    id: inviteId,
    userId: invite.userId,
    reason: result.reason,
    retryInSeconds: delaySeconds,
  })
  return { action: 'retry', reason: result.reason, delaySeconds }
}
