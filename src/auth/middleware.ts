import { createMiddleware } from 'hono/factory'
import { createDb } from '../db/client.ts'
import { log } from '../observability/log.ts'
import type { AppEnv } from '../routes/context.ts'
import { Unauthorized } from '../scim/errors.ts'
import { authenticate } from './authenticate.ts'

/** Seconds tenant documents stay in the isolate: TENANT_CACHE_SECONDS, default 30, 0 turns it off. */
export function tenantCacheSeconds(value: string | undefined): number {
  const n = Number(value ?? 30)
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 60) : 30
}

/** Authenticates the tenant named in the URL and puts tenant, credential, db and baseUrl on the context. */
export const requireTenant = createMiddleware<AppEnv>(async (c, next) => {
  const tenantId = c.req.param('tenant') ?? ''
  const result = await authenticate(c.env.TENANTS, tenantId, c.req.header('authorization'), tenantCacheSeconds(c.env.TENANT_CACHE_SECONDS))
  if (!result.ok) {
    // The client sees one 401 whatever failed; only the log says which check it was.
    log('warn', 'auth_failed', { requestId: c.get('requestId'), tenantId: tenantId.slice(0, 63), reason: result.reason })
    throw new Unauthorized()
  }
  c.set('tenant', result.tenant)
  c.set('credential', result.credential)
  c.set('db', createDb(c.env.DB))
  c.set('baseUrl', `${c.env.PUBLIC_URL.replace(/\/+$/, '')}/scim/v2/${result.tenant.id}`)
  await next()
})
