/** The invite machinery built from the Worker's bindings: one place that reads env for src/invites/. */
import { createDb, type Db } from '../db/client.ts'
import type { Env } from '../env.ts'
import { isTenantId, parseTenantDocument, tenantKey, type TenantDocument } from '../tenants/document.ts'
import type { ConsumerDeps } from './consumer.ts'
import { createMailClient } from './mail.ts'
import { queueOutbox, type InviteOutbox } from './outbox.ts'
import { inviteTokenKey } from './token.ts'

/** Reads a tenant document from KV; a missing or malformed one is undefined. */
export function tenantLoader(kv: KVNamespace): (id: string) => Promise<TenantDocument | undefined> {
  // An id that is no tenant slug names no tenant (and would be over KV's key limit).
  return async (id) => (isTenantId(id) ? parseTenantDocument(await kv.get(tenantKey(id))) : undefined)
}

/** `{PUBLIC_URL}` without a trailing slash. */
export function publicUrl(env: Pick<Env, 'PUBLIC_URL'>): string {
  return env.PUBLIC_URL.replace(/\/+$/, '')
}

/** The outbox that provisioning announces new invites to. */
export function inviteOutbox(env: Pick<Env, 'INVITES'>): InviteOutbox {
  return queueOutbox(env.INVITES)
}

/** The product name shown in mails and on the invite page. */
export function appName(env: Pick<Env, 'APP_NAME'>, tenant?: TenantDocument): string {
  if (env.APP_NAME) return env.APP_NAME
  try {
    return tenant ? new URL(tenant.appUrl).host : 'the app'
  } catch {
    return 'the app'
  }
}

/** What the queue consumer needs, from env. */
export function consumerDeps(env: Env, db: Db = createDb(env.DB)): ConsumerDeps {
  return {
    db,
    loadTenant: tenantLoader(env.TENANTS),
    mail: createMailClient({ fetch: (input, init) => fetch(input, init), url: env.MAIL_API_URL, apiKey: env.MAIL_API_KEY ?? '', from: env.MAIL_FROM, provider: env.MAIL_PROVIDER }),
    tokenKey: inviteTokenKey(env),
    publicUrl: publicUrl(env),
    appName: (tenant) => appName(env, tenant),
    now: () => new Date(),
  }
}
