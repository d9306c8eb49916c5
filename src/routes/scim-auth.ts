/** Authenticates the IdP for the tenant named in the URL, checks the credential's scope, and builds the request's scope. */
import { createMiddleware } from 'hono/factory'
import { authenticate } from '../auth/authenticate.ts'
import { noteAuthFailure, noteCredentialUse } from '../auth/credential-use.ts'
import { LOCKOUT_SECONDS, lockOut, lockedOut } from '../auth/lockout.ts'
import { log } from '../observability/log.ts'
import { authContext } from '../runtime/auth.ts'
import { journalHandle, tenantScope } from '../runtime/scopes.ts'
import { ScimError, Unauthorized } from '../scim/errors.ts'
import type { CredentialScope } from '../tenants/document.ts'
import type { ScopedEnv } from './context.ts'
import { background } from './http.ts'
import { journalOrigin } from './journal.ts'
import { clientAddress, tooManyRequests, withinLimit } from './rate-limit.ts'

/** The scope a SCIM request needs: reading is GET, HEAD and POST …/.search (RFC 7644 §3.4.3); the rest writes. */
export function requiredScope(method: string, path: string): CredentialScope {
  if (method === 'GET' || method === 'HEAD') return 'scim:read'
  if (method === 'POST' && /\/\.search\/?$/.test(path)) return 'scim:read'
  return 'scim:write'
}

/** 403 for a credential without the scope a request needs (RFC 6750 §3.1 insufficient_scope). */
export function insufficientScope(needed: CredentialScope, held: CredentialScope[]): ScimError {
  return new ScimError(
    403,
    `This credential has ${held.join(' ') || 'no scope'}; this request needs ${needed} (insufficient_scope). Ask support for a credential with ${needed}.`,
    undefined,
    { 'WWW-Authenticate': `Bearer realm="scim-edge", error="insufficient_scope", scope="${needed}"` },
  )
}

/** 403 for valid credentials of a disabled tenant. */
export function tenantDisabled(tenantId: string): ScimError {
  return new ScimError(
    403,
    `Tenant ${tenantId} is disabled: these credentials are valid, but every request is refused until the tenant is enabled again. Contact the app's support; changing the credentials will not help.`,
  )
}

export const requireTenant = createMiddleware<ScopedEnv>(async (c, next) => {
  const tenantId = (c.req.param('tenant') ?? '').slice(0, 63)
  const byAddress = `address:${clientAddress(c)}`
  const byTenant = `tenant:${tenantId}`
  if (await lockedOut([byAddress, byTenant])) {
    log('warn', 'auth_locked_out', { requestId: c.get('requestId'), tenantId })
    throw tooManyRequests('after failed authentication', LOCKOUT_SECONDS)
  }
  const result = await authenticate(authContext(c.env), tenantId, c.req.header('authorization'))
  if (!result.ok) {
    log('warn', 'auth_failed', { requestId: c.get('requestId'), tenantId, reason: result.reason })
    if (result.tenant) {
      const failure = {
        at: new Date(),
        credentialId: result.credentialId ?? null,
        reason: result.reason,
        requestId: c.get('requestId'),
        method: c.req.method,
        path: new URL(c.req.url).pathname,
      }
      noteAuthFailure(journalHandle(c.env, result.tenant), failure, background(c))
    }
    // Right credentials for a disabled tenant: say so, so the IdP admin calls support instead of re-pasting them.
    if (result.disabled) throw tenantDisabled(result.tenant!.id)
    // The client sees one 401 whatever else failed; only the log and the journal say which check it was.
    const addressOk = await withinLimit(c.env, 'AUTH_FAILURES_BY_ADDRESS', byAddress)
    const tenantOk = await withinLimit(c.env, 'AUTH_FAILURES_BY_TENANT', byTenant)
    if (!addressOk) await lockOut(byAddress)
    if (!tenantOk) await lockOut(byTenant)
    throw new Unauthorized()
  }
  const needed = requiredScope(c.req.method, new URL(c.req.url).pathname)
  if (!result.scopes.includes(needed)) {
    log('warn', 'insufficient_scope', {
      requestId: c.get('requestId'),
      tenantId,
      needed,
      credentialId: result.credential.id,
    })
    throw insufficientScope(needed, result.scopes)
  }
  const actor = { kind: 'idp' as const, credentialId: result.credential.id }
  const scope = tenantScope(c.env, result.tenant, { actor, requestId: c.get('requestId'), origin: journalOrigin(c) })
  c.set('scope', scope)
  noteCredentialUse(scope, result.credential.id, background(c))
  await next()
})
