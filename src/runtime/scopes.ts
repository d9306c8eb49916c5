/**
 * The one factory of scopes (src/scope/scope.ts), for every entry point: an HTTP request, a Directory
 * RPC call, a queue message, a cron run. It is the only code that turns env into a database handle, a
 * Base URL, an outbox and a journal.
 */
import { tenantUserType } from '../scim/schemas/extension.ts'
import { userResourceType } from '../scim/schemas/index.ts'
import { createDb } from '../d1/client.ts'
import { createJournal, type JournalOrigin } from '../db/journal.ts'
import type { ConsumerDeps } from '../invites/consumer.ts'
import { createMailClient } from '../invites/mail.ts'
import { queueOutbox } from '../invites/outbox.ts'
import { inviteTokenKey } from '../invites/token.ts'
import { log } from '../observability/log.ts'
import { NotFound, ScimError } from '../scim/errors.ts'
import type { Actor, Scope, SystemScope } from '../scope/scope.ts'
import { tenantBaseUrl, tenantIdOfKey, tenantKey, type TenantDocument } from '../tenants/document.ts'
import { loadTenant, tenantCacheSeconds } from '../tenants/load.ts'
import type { Env } from './env.ts'
import { appName, publicUrl, webhookSettings } from './settings.ts'
import type { WebhookDeps } from '../webhooks/consumer.ts'
import { webhookOutbox } from '../webhooks/outbox.ts'
import { signingKeys } from '../oauth/signing-keys.ts'

/** Who and what a scope is for. */
export interface ScopeRequest {
  actor: Actor
  requestId: string
  /** How the journal names the work: HTTP method and path, or `RPC` and the method's name. */
  origin: { method: string; path: string; okStatus?: number }
  /** The clock; the real one unless a test passes its own. */
  now?: () => Date
}

/** What the journal records as the credential of an actor: the IdP credential or the app key id. */
function actorCredential(actor: Actor): string | null {
  if (actor.kind === 'idp') return actor.credentialId
  if (actor.kind === 'app') return actor.keyId
  return null
}

/** How the journal names who acts: `idp:{credential}`, `app:{key}`, `support:{operator} via {key}`, `system:{task}`. */
export function actorLabel(actor: Actor): string {
  if (actor.kind === 'idp') return `idp:${actor.credentialId}`
  if (actor.kind === 'app')
    return actor.operator ? `support:${actor.operator} via ${actor.keyId}` : `app:${actor.keyId}`
  if (actor.kind === 'system') return `system:${actor.task}`
  return 'support'
}

/** The scope of one tenant's work. */
export function tenantScope(env: Env, tenant: TenantDocument, request: ScopeRequest): Scope {
  const origin = publicUrl(env)
  const key = tenantKey(tenant)
  const journal: JournalOrigin = {
    tenantKey: key,
    requestId: request.requestId,
    credentialId: actorCredential(request.actor),
    actor: actorLabel(request.actor),
    ...request.origin,
  }
  return {
    db: createDb(env.DB),
    tenant,
    tenantKey: key,
    baseUrl: tenantBaseUrl(origin, tenant.id),
    publicUrl: origin,
    actor: request.actor,
    userType: tenantUserType(userResourceType, tenant.id, tenant.userAttributes),
    requestId: request.requestId,
    outbox: { invites: queueOutbox(env.INVITES, key), events: webhookOutbox(env.WEBHOOKS, tenant, key) },
    journal: createJournal(journal),
    now: request.now ?? (() => new Date()),
  }
}

/** A tenant's database and row key, for journal writes made before a scope exists (failed authentication). */
export function journalHandle(env: Env, tenant: TenantDocument): { db: Scope['db']; tenantKey: string } {
  return { db: createDb(env.DB), tenantKey: tenantKey(tenant) }
}

/** The scope of work across tenants (the cron sweep, the invite link lookup). */
export function systemScope(env: Env, request: { requestId: string; now?: () => Date }): SystemScope {
  return {
    db: createDb(env.DB),
    publicUrl: publicUrl(env),
    requestId: request.requestId,
    now: request.now ?? (() => new Date()),
  }
}

/** The tenant's document (the isolate cache first), whatever its status; undefined when there is none. */
export function findTenant(env: Env, tenantId: string): Promise<TenantDocument | undefined> {
  return loadTenant(env.TENANTS, tenantId, tenantCacheSeconds(env.TENANT_CACHE_SECONDS))
}

/** The scope of an active tenant's work: 404 when there is no such tenant, 403 when it is disabled. */
export async function activeTenantScope(env: Env, tenantId: string, request: ScopeRequest): Promise<Scope> {
  const tenant = await findTenant(env, tenantId)
  if (!tenant) throw new NotFound(`No such tenant: ${tenantId.slice(0, 63)}`)
  if (tenant.status !== 'active') throw new ScimError(403, `Tenant ${tenant.id} is disabled`)
  return tenantScope(env, tenant, request)
}

/**
 * A tenant's scope by the key its rows carry, for system work (queue messages, invite links), whatever
 * its status. Undefined when the tenant is gone, also when its id now belongs to a tenant made later.
 */
export function systemTenantScopes(
  env: Env,
  request: { task: 'queue' | 'invite-page'; requestId: string; now?: () => Date },
) {
  return async (key: string): Promise<Scope | undefined> => {
    const tenant = await findTenant(env, tenantIdOfKey(key))
    if (!tenant || tenantKey(tenant) !== key) return undefined
    return tenantScope(env, tenant, {
      actor: { kind: 'system', task: request.task },
      requestId: request.requestId,
      origin: { method: request.task, path: tenant.id },
      now: request.now,
    })
  }
}

/** What the invite queue consumer needs, from env. */
export function consumerDeps(env: Env, requestId: string): ConsumerDeps {
  return {
    scope: systemTenantScopes(env, { task: 'queue', requestId }),
    mail: createMailClient({
      fetch: (input, init) => fetch(input, init),
      url: env.MAIL_API_URL,
      apiKey: env.MAIL_API_KEY ?? '',
      from: env.MAIL_FROM,
      provider: env.MAIL_PROVIDER,
    }),
    tokenKey: inviteTokenKey(env),
    appName: (tenant) => appName(env, tenant),
  }
}

/** What the webhook queue consumer needs, from env. */
export async function webhookDeps(env: Env, requestId: string): Promise<WebhookDeps> {
  const settings = webhookSettings(env)
  const keys = await signingKeys(env.OAUTH_SIGNING_KEYS)?.catch(() => undefined)
  return {
    scope: systemTenantScopes(env, { task: 'queue', requestId }),
    send: {
      fetch: (input, init) => fetch(input, init),
      timeoutMs: settings.timeoutMs,
      now: () => new Date(),
      issuer: publicUrl(env),
      signer: keys?.signer,
    },
    retrySeconds: settings.retrySeconds,
    disableAfterHours: settings.disableAfterHours,
    async wake(tenantKey, delaySeconds) {
      await env.WEBHOOKS?.send({ v: 1, tenantKey }, { contentType: 'json', delaySeconds })
    },
    async dead(delivery) {
      try {
        await env.WEBHOOKS_DLQ?.send(delivery, { contentType: 'json' })
      } catch (error) {
        log('error', 'webhook_dlq_send_failed', { ...delivery, message: (error as Error).message })
      }
    },
  }
}
