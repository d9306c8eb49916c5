/** Turns Basic or Bearer credentials into a tenant (README "Storage formats": how credentials are kept). */
import { isTenantId, type Credential, type TenantDocument } from '../tenants/document.ts'
import { loadTenant } from '../tenants/load.ts'
import { constantTimeEqual, parseBearerToken, sha256Hex } from '../tenants/secrets.ts'

export type AuthResult = { ok: true; tenant: TenantDocument; credential: Credential } | { ok: false; reason: string }

/** A credential presented in an Authorization header. */
interface Presented {
  kind: 'basic' | 'bearer'
  credentialId: string
  secret: string
}

/** Parses `Basic base64(user:pass)` or `Bearer scim_{id}_{secret}` (RFC 7617, RFC 6750). */
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
    const parsed = parseBearerToken(value)
    if (!parsed) return 'Bearer token has not the scim_{id}_{secret} shape'
    return { kind: 'bearer', ...parsed }
  }
  return `unsupported Authorization scheme "${scheme.slice(0, 20)}"`
}

/**
 * Authenticates a request for one tenant. Every failure is the same to the caller; `reason` is for the log.
 * The hash is computed and compared even when the credential is unknown, so timing says nothing.
 */
export async function authenticate(
  kv: KVNamespace,
  tenantId: string,
  header: string | undefined,
  cacheSeconds = 0,
): Promise<AuthResult> {
  const presented = parseAuthorization(header)
  if (typeof presented === 'string') return { ok: false, reason: presented }
  const hash = await sha256Hex(presented.secret)
  if (!isTenantId(tenantId)) return { ok: false, reason: 'invalid tenant id in URL' }
  // KV is eventually consistent and edge-cached: a revoke or disable takes up to a minute (README).
  const tenant = await loadTenant(kv, tenantId, cacheSeconds)
  const credential = tenant?.credentials.find((c) => c.id === presented.credentialId && c.kind === presented.kind)
  const matches = constantTimeEqual(hash, credential?.secretSha256 ?? '0'.repeat(64))
  if (!tenant) return { ok: false, reason: 'unknown tenant' }
  if (!credential) return { ok: false, reason: 'unknown credential for this tenant' }
  if (!matches) return { ok: false, reason: 'wrong secret' }
  if (tenant.status !== 'active') return { ok: false, reason: `tenant is ${tenant.status}` }
  return { ok: true, tenant, credential }
}
