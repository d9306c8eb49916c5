/** What authentication and the token endpoint read from env, built in one place. */
import type { AuthContext } from '../auth/authenticate.ts'
import type { GrantContext } from '../auth/token-grant.ts'
import { signingKeys } from '../oauth/signing-keys.ts'
import { tokenEndpoint } from '../tenants/credentials.ts'
import { tenantCacheSeconds } from '../tenants/load.ts'
import type { Env } from './env.ts'
import { tenantScope } from './scopes.ts'
import { publicUrl } from './settings.ts'

/** The context of authenticating one request now. */
export function authContext(env: Env): AuthContext {
  return {
    kv: env.TENANTS,
    cacheSeconds: tenantCacheSeconds(env.TENANT_CACHE_SECONDS),
    publicUrl: publicUrl(env),
    signingKeys: signingKeys(env.OAUTH_SIGNING_KEYS),
    now: new Date(),
  }
}

/** The context of one token request; `background` keeps work alive after the response (waitUntil). */
export function grantContext(
  env: Env,
  request: { requestId: string; background: (work: Promise<unknown>) => void },
): GrantContext {
  const auth = authContext(env)
  return {
    ...auth,
    background: request.background,
    scopeFor: (tenant, clientId) =>
      tenantScope(env, tenant, {
        actor: { kind: 'idp', credentialId: clientId },
        requestId: request.requestId,
        origin: { method: 'POST', path: new URL(tokenEndpoint(auth.publicUrl, tenant.id)).pathname },
        now: () => auth.now,
      }),
  }
}
