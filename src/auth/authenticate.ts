/**
 * Turns the Authorization header of a SCIM request into a tenant, a credential and its scopes
 * (README "Storage formats": how credentials are kept): Basic, a static bearer token, or an OAuth
 * access token (a JWT our token endpoint signed), which is verified with the public keys alone.
 */
import { looksLikeJwt, verifyAccessToken } from '../oauth/access-token.ts'
import type { SigningKeys } from '../oauth/signing-keys.ts'
import { credentialExpired, credentialScopes, oauthIssuer, parseScopes, secretHash } from '../tenants/credentials.ts'
import {
  isTenantId,
  tenantBaseUrl,
  type Credential,
  type CredentialScope,
  type TenantDocument,
} from '../tenants/document.ts'
import { loadTenant, reloadTenant } from '../tenants/load.ts'
import { constantTimeEqual, parseBearerToken, sha256Hex } from '../tenants/secrets.ts'

export type AuthResult =
  | { ok: true; tenant: TenantDocument; credential: Credential; scopes: CredentialScope[] }
  | {
      ok: false
      reason: string
      /** The tenant, when the URL names one that exists: its journal counts the failure. */
      tenant?: TenantDocument
      /** The credential id the request named (never its secret). */
      credentialId?: string
      /** The credentials were right, but the tenant is disabled: the answer says so (403). */
      disabled?: boolean
    }

/** What authentication reads: KV through the isolate cache, the signing keys, the clock. */
export interface AuthContext {
  kv: KVNamespace
  cacheSeconds: number
  publicUrl: string
  /** The Worker's signing keys; undefined when OAUTH_SIGNING_KEYS is unset (no access token then passes). */
  signingKeys: Promise<SigningKeys> | undefined
  now: Date
}

/** A credential presented in an Authorization header. */
type Presented =
  | { kind: 'basic' | 'bearer'; credentialId: string; secret: string }
  | { kind: 'access-token'; token: string }

/** Parses `Basic base64(user:pass)`, `Bearer scim_{id}_{secret}` or `Bearer <JWT>` (RFC 7617, RFC 6750). */
export function parseAuthorization(header: string | undefined): Presented | string {
  if (!header) return 'no Authorization header'
  const space = header.indexOf(' ')
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase()
  const value = space < 0 ? '' : header.slice(space + 1).trim()
  if (scheme === 'basic') {
    let decoded: string
    try {
      decoded = new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)))
    } catch {
      return 'Basic credentials are not base64'
    }
    const colon = decoded.indexOf(':')
    if (colon < 0) return 'Basic credentials have no colon'
    return { kind: 'basic', credentialId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) }
  }
  if (scheme === 'bearer') {
    if (looksLikeJwt(value))
      return value.length > 8192 ? 'access token too long' : { kind: 'access-token', token: value }
    const parsed = parseBearerToken(value)
    if (!parsed) return 'Bearer token is neither scim_{id}_{secret} nor an access token'
    return { kind: 'bearer', ...parsed }
  }
  return `unsupported Authorization scheme "${scheme.slice(0, 20)}"`
}

/** The tenant's credential `find` picks; a credential the cached document lacks makes it reload once. */
async function findCredential(
  ctx: AuthContext,
  tenant: TenantDocument,
  find: (c: Credential) => boolean,
): Promise<{ tenant: TenantDocument; credential?: Credential }> {
  const credential = tenant.credentials.find(find)
  if (credential) return { tenant, credential }
  const fresh = await reloadTenant(ctx.kv, tenant.id, ctx.cacheSeconds)
  return fresh ? { tenant: fresh, credential: fresh.credentials.find(find) } : { tenant }
}

/** Checks that hold for every kind: the credential has not expired and the tenant is active. */
function usable(tenant: TenantDocument, credential: Credential, now: Date, scopes: CredentialScope[]): AuthResult {
  const named = { tenant, credentialId: credential.id }
  if (credentialExpired(credential, now))
    return { ok: false, reason: `credential expired at ${credential.expiresAt}`, ...named }
  if (tenant.status !== 'active') return { ok: false, reason: `tenant is ${tenant.status}`, disabled: true, ...named }
  return { ok: true, tenant, credential, scopes }
}

/**
 * Authenticates a request for one tenant. Every failure is the same to the caller; `reason` is for the log.
 * The hash is computed and compared even when the credential is unknown, so timing says nothing.
 */
export async function authenticate(
  ctx: AuthContext,
  tenantId: string,
  header: string | undefined,
): Promise<AuthResult> {
  const presented = parseAuthorization(header)
  if (typeof presented === 'string') return { ok: false, reason: presented }
  if (presented.kind === 'access-token') return authenticateAccessToken(ctx, tenantId, presented.token)
  const hash = await sha256Hex(presented.secret)
  if (!isTenantId(tenantId)) return { ok: false, reason: 'invalid tenant id in URL' }
  // KV is eventually consistent and edge-cached: a revoke or disable takes up to a minute (README).
  const loaded = await loadTenant(ctx.kv, tenantId, ctx.cacheSeconds)
  if (!loaded) return { ok: false, reason: 'unknown tenant' }
  const { tenant, credential } = await findCredential(
    ctx,
    loaded,
    (c) => c.id === presented.credentialId && c.kind === presented.kind,
  )
  const matches = constantTimeEqual(hash, secretHash(credential) ?? '0'.repeat(64))
  const named = { tenant, credentialId: presented.credentialId.slice(0, 64) }
  if (!credential) return { ok: false, reason: 'unknown credential for this tenant', ...named }
  if (!matches) return { ok: false, reason: 'wrong secret', ...named }
  return usable(tenant, credential, ctx.now, credentialScopes(credential))
}

/**
 * An access token: our signature, this tenant's issuer and Base URL as audience, not expired; then its
 * client must still be in the tenant document, unexpired, and the tenant active. Its scopes are those
 * of the token that the client still has.
 */
async function authenticateAccessToken(ctx: AuthContext, tenantId: string, token: string): Promise<AuthResult> {
  if (!isTenantId(tenantId)) return { ok: false, reason: 'invalid tenant id in URL' }
  if (!ctx.signingKeys) return { ok: false, reason: 'access token sent but OAUTH_SIGNING_KEYS is not set' }
  const claims = await verifyAccessToken(await ctx.signingKeys, token, {
    issuer: oauthIssuer(ctx.publicUrl, tenantId),
    audience: tenantBaseUrl(ctx.publicUrl, tenantId),
    tenantId,
    now: ctx.now,
  })
  if ('refused' in claims) {
    // The tenant's journal counts refused tokens too (an expired token is an IdP that does not refresh).
    const tenant = await loadTenant(ctx.kv, tenantId, ctx.cacheSeconds)
    return { ok: false, reason: claims.refused, ...(tenant ? { tenant } : {}) }
  }
  const loaded = await loadTenant(ctx.kv, tenantId, ctx.cacheSeconds)
  if (!loaded) return { ok: false, reason: 'unknown tenant' }
  const { tenant, credential } = await findCredential(
    ctx,
    loaded,
    (c) => c.id === claims.clientId && c.kind === 'oauth-client',
  )
  if (!credential)
    return {
      ok: false,
      reason: "the access token's client is revoked or unknown",
      tenant,
      credentialId: claims.clientId.slice(0, 64),
    }
  const held = credentialScopes(credential)
  const granted = parseScopes(claims.scope, held)
  const scopes = Array.isArray(granted) ? granted.filter((s) => held.includes(s)) : []
  return usable(tenant, credential, ctx.now, scopes)
}
