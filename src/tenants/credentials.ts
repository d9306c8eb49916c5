/**
 * What credentials of every kind share: their scopes, their expiry, the token endpoint's address.
 * Plain TypeScript, used by the Worker and the support CLI alike.
 */
import type { Credential, CredentialScope, TenantSettings } from './document.ts'

/** Every scope, in the order a scope string lists them. */
export const CREDENTIAL_SCOPES: readonly CredentialScope[] = ['scim:read', 'scim:write']

/**
 * Names IdPs use for "everything SCIM": Entra's federation sends `scope=scim` or `scope=scim.readwrite`.
 * Each stands for all the scopes the client has, never more.
 */
export const SCOPE_ALIASES: Readonly<Record<string, readonly CredentialScope[]>> = {
  scim: CREDENTIAL_SCOPES,
  'scim.readwrite': CREDENTIAL_SCOPES,
  'scim.read': ['scim:read'],
}

/** The scopes of a credential; one made before scopes existed has them all. */
export function credentialScopes(credential: Pick<Credential, 'scope'>): CredentialScope[] {
  return credential.scope?.length ? [...credential.scope] : [...CREDENTIAL_SCOPES]
}

/** A scope set as the space-separated string of RFC 6749 §3.3, in canonical order. */
export function formatScopes(scopes: readonly CredentialScope[]): string {
  return CREDENTIAL_SCOPES.filter((s) => scopes.includes(s)).join(' ')
}

/**
 * Parses a space-separated scope string: our names and the aliases, each alias standing for the scopes
 * in `within`. Returns the error text for an unknown name.
 */
export function parseScopes(
  text: string,
  within: readonly CredentialScope[] = CREDENTIAL_SCOPES,
): CredentialScope[] | { unknown: string } {
  const out = new Set<CredentialScope>()
  for (const word of text.split(/[\s,]+/).filter(Boolean)) {
    if ((CREDENTIAL_SCOPES as readonly string[]).includes(word)) {
      out.add(word as CredentialScope)
    } else if (Object.hasOwn(SCOPE_ALIASES, word)) {
      for (const s of SCOPE_ALIASES[word]!) if (within.includes(s)) out.add(s)
    } else {
      return { unknown: word }
    }
  }
  return CREDENTIAL_SCOPES.filter((s) => out.has(s))
}

/** True once the credential's expiry has passed. */
export function credentialExpired(credential: Pick<Credential, 'expiresAt'>, now: Date): boolean {
  return credential.expiresAt !== undefined && !(Date.parse(credential.expiresAt) > now.getTime())
}

/** Access token lifetime bounds in minutes (Entra's gallery rule: 60 minutes to 6 hours). */
export const ACCESS_TOKEN_MINUTES = { min: 60, max: 360, default: 60 } as const

/** The tenant's access token lifetime in minutes, within the bounds whatever the document says. */
export function accessTokenMinutes(settings: TenantSettings): number {
  const n = settings.accessTokenMinutes
  if (typeof n !== 'number' || !Number.isFinite(n)) return ACCESS_TOKEN_MINUTES.default
  return Math.min(ACCESS_TOKEN_MINUTES.max, Math.max(ACCESS_TOKEN_MINUTES.min, Math.round(n)))
}

/** The tenant's OAuth issuer: `{publicUrl}/oauth/{tenantId}` (RFC 8414 metadata sits below /.well-known). */
export function oauthIssuer(publicUrl: string, tenantId: string): string {
  return `${publicUrl}/oauth/${tenantId}`
}

/** The tenant's token endpoint: `{issuer}/token`. */
export function tokenEndpoint(publicUrl: string, tenantId: string): string {
  return `${oauthIssuer(publicUrl, tenantId)}/token`
}

/** Where the tenant's RFC 8414 metadata is: the issuer's path after `/.well-known/oauth-authorization-server` (§3.1). */
export function oauthMetadataUrl(publicUrl: string, tenantId: string): string {
  return `${publicUrl}/.well-known/oauth-authorization-server/oauth/${tenantId}`
}

/** The longest expiry a credential may get: 3 years. */
export const MAX_EXPIRY_DAYS = 3 * 366

/** The expiry an OAuth client gets when none is asked: 2 years. */
export const DEFAULT_CLIENT_EXPIRY = '2y'

/** The SHA-256 a credential's secret is checked against: Basic, bearer, and secret OAuth clients. */
export function secretHash(credential: Credential | undefined): string | undefined {
  if (!credential) return undefined
  if (credential.kind !== 'oauth-client') return credential.secretSha256
  return credential.auth.method === 'client_secret' ? credential.auth.secretSha256 : undefined
}

/** Where keys may be fetched from (a JWKS URL, a federated issuer): https, or http on the loopback address (local runs and tests). */
export function isKeyUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return (
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    )
  } catch {
    return false
  }
}
