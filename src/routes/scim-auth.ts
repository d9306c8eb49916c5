/** Authenticates the IdP for the tenant named in the URL and builds the request's scope. */
import { createMiddleware } from 'hono/factory'
import { authenticate } from '../auth/authenticate.ts'
import { LOCKOUT_SECONDS, lockOut, lockedOut } from '../auth/lockout.ts'
import { log } from '../observability/log.ts'
import { tenantScope } from '../runtime/scopes.ts'
import { Unauthorized } from '../scim/errors.ts'
import { tenantCacheSeconds } from '../tenants/load.ts'
import type { ScopedEnv } from './context.ts'
import { journalOrigin } from './journal.ts'
import { clientAddress, tooManyRequests, withinLimit } from './rate-limit.ts'

export const requireTenant = createMiddleware<ScopedEnv>(async (c, next) => {
  const tenantId = (c.req.param('tenant') ?? '').slice(0, 63)
  const byAddress = `address:${clientAddress(c)}`
  const byTenant = `tenant:${tenantId}`
  if (await lockedOut([byAddress, byTenant])) {
    log('warn', 'auth_locked_out', { requestId: c.get('requestId'), tenantId })
    throw tooManyRequests('after failed authentication', LOCKOUT_SECONDS)
  }
  const result = await authenticate(
    c.env.TENANTS,
    tenantId,
    c.req.header('authorization'),
    tenantCacheSeconds(c.env.TENANT_CACHE_SECONDS),
  )
  if (!result.ok) {
    // The client sees one 401 whatever failed; only the log says which check it was.
    log('warn', 'auth_failed', { requestId: c.get('requestId'), tenantId, reason: result.reason })
    const addressOk = await withinLimit(c.env, 'AUTH_FAILURES_BY_ADDRESS', byAddress)
    const tenantOk = await withinLimit(c.env, 'AUTH_FAILURES_BY_TENANT', byTenant)
    if (!addressOk) await lockOut(byAddress)
    if (!tenantOk) await lockOut(byTenant)
    throw new Unauthorized()
  }
  const actor = { kind: 'idp' as const, credentialId: result.credential.id }
  c.set('scope', tenantScope(c.env, result.tenant, { actor, requestId: c.get('requestId'), origin: journalOrigin(c) }))
  await next()
})
