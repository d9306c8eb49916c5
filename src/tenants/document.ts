/**
 * The tenant document kept in KV under `tenant:{id}` (README "Storage formats").
 * Shared by the Worker and the support CLI; it imports nothing but plain TypeScript.
 */

export const TENANT_KEY_PREFIX = 'tenant:'
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/

export type CredentialKind = 'basic' | 'bearer' | 'oauth-client'

/** What a credential may do: read (GET, POST .search) and write (every other SCIM method). */
export type CredentialScope = 'scim:read' | 'scim:write'

/** What every credential has. */
interface CredentialFields {
  id: string
  createdAt: string
  /** After this instant the credential is refused (and an OAuth client gets no token). Absent: never. */
  expiresAt?: string
  /** Absent: both scopes (credentials made before scopes existed keep full access). */
  scope?: CredentialScope[]
}

/** A Basic username/password or a static bearer token. Only the SHA-256 of the secret is kept. */
export interface SecretCredential extends CredentialFields {
  kind: 'basic' | 'bearer'
  /** For basic credentials: the username (equal to the credential id, so a lookup never scans). */
  username?: string
  secretSha256: string
}

/** A public key in JWK form (RFC 7517), as registered for private_key_jwt. */
export type PublicJwk = Record<string, unknown> & { kty: string }

/**
 * How an OAuth 2.0 client proves itself at the token endpoint: a secret (client_secret_basic or
 * client_secret_post), a JWT signed by its registered key or by a key of its JWKS URL
 * (private_key_jwt, RFC 7523 §2.2), or a JWT of a trusted issuer (workload identity federation).
 */
export type ClientAuthentication =
  | { method: 'client_secret'; secretSha256: string }
  | { method: 'private_key_jwt'; jwk: PublicJwk }
  | { method: 'private_key_jwt'; jwksUrl: string }
  | {
      method: 'federated'
      /** The `iss` the assertion must carry, e.g. `https://login.microsoftonline.com/{tid}/v2.0`. */
      issuer: string
      /** The `sub` the assertion must carry. */
      subject: string
      /** The `aud` it must carry; absent: the tenant's token endpoint or issuer. */
      audience?: string
      /** Where the issuer's keys are; absent: its OpenID discovery document names them. */
      jwksUrl?: string
    }

/** An OAuth 2.0 client of the tenant's token endpoint; its id is the `client_id`. */
export interface OAuthClientCredential extends CredentialFields {
  kind: 'oauth-client'
  auth: ClientAuthentication
}

/** One credential of a tenant. */
export type Credential = SecretCredential | OAuthClientCredential

/** Days an invite link stays valid when the tenant does not say (TenantSettings.inviteTtlDays). */
export const DEFAULT_INVITE_TTL_DAYS = 7

export interface TenantSettings {
  /** Days an invite link stays valid. */
  inviteTtlDays?: number
  /**
   * Which rate limit applies: the binding `RATE_LIMITER` for "standard" (the default), `RATE_LIMITER_{TIER}`
   * for another tier declared in wrangler.toml, or "off".
   */
  rateLimitTier?: string
  /** Minutes an OAuth access token lives: 60 to 360, default 60 (src/tenants/credentials.ts). */
  accessTokenMinutes?: number
  /** Minutes the app has to confirm a deactivation or deletion before it is flagged (default 5). */
  receiptMinutes?: number
  /** An https image shown on the invite page above the tenant's name. */
  logoUrl?: string
  /** The invite page's button colour, `#rrggbb`. */
  brandColor?: string
}

/** Minutes the app has to confirm a deactivation or deletion when the tenant does not say. */
export const DEFAULT_RECEIPT_MINUTES = 5

/** A webhook's signing secret: `whsec_` and base64. The first of a webhook's secrets signs. */
export interface WebhookSecret {
  secret: string
  createdAt: string
  /** Set on the old secret by a rotation: it signs beside the new one until then. */
  expiresAt?: string
}

/**
 * Where the app is told about events (src/signals/): an HTTPS URL, the event types it wants, and how
 * deliveries look. Its secrets are kept as they are (the Worker signs with them), unlike credentials.
 */
export interface WebhookConfig {
  id: string
  url: string
  /** Event type patterns: `*`, `user.*`, `group.members_added`, ... */
  events: string[]
  /** Standard Webhooks JSON, or RFC 8417 Security Event Tokens with RFC 9967 event URIs. */
  format: 'standard' | 'set'
  secrets: WebhookSecret[]
  createdAt: string
}

export interface TenantDocument {
  v: 1
  id: string
  /**
   * What the tenant's D1 rows are stored under: `{id}.{random}`, minted by `create`. Absent in documents
   * made before keys existed; their rows are stored under the id (see tenantKey).
   */
  key?: string
  name: string
  status: 'active' | 'disabled'
  appUrl: string
  createdAt: string
  settings: TenantSettings
  credentials: Credential[]
  /** Absent: none. */
  webhooks?: WebhookConfig[]
  /** The User attributes support declared for this tenant (`schema add`), under its extension URN. Absent: none. */
  userAttributes?: UserAttributeDeclaration[]
}

/** A User attribute declared for one tenant (`npm run tenant -- schema add`). */
export interface UserAttributeDeclaration {
  name: string
  type: 'string' | 'boolean' | 'integer' | 'decimal' | 'dateTime' | 'reference'
  multiValued?: boolean
  caseExact?: boolean
  required?: boolean
  canonicalValues?: string[]
  description?: string
}

/** The Base URL an IdP admin configures: `{publicUrl}/scim/v2/{tenantId}` (publicUrl without a trailing slash). */
export function tenantBaseUrl(publicUrl: string, tenantId: string): string {
  return `${publicUrl}/scim/v2/${tenantId}`
}

/** The KV key of a tenant's document. */
export function tenantDocumentKey(id: string): string {
  return `${TENANT_KEY_PREFIX}${id}`
}

/** What a tenant's rows are stored under (their `tenant_id` column). */
export function tenantKey(doc: Pick<TenantDocument, 'id' | 'key'>): string {
  return doc.key ?? doc.id
}

/** A fresh tenant key: the id, a dot (never part of an id), 16 random base32 characters. */
export function mintTenantKey(id: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return `${id}.${Array.from(bytes, (b) => alphabet[b & 31]).join('')}`
}

/** The tenant id a tenant key belongs to (the key itself for keys made before keys had a suffix). */
export function tenantIdOfKey(key: string): string {
  const dot = key.indexOf('.')
  return dot < 0 ? key : key.slice(0, dot)
}

/** True for a valid tenant slug: `[a-z0-9-]{2,63}`, not starting or ending with `-`. */
export function isTenantId(id: string): boolean {
  return TENANT_ID_PATTERN.test(id)
}

/** Parses a stored tenant document, or returns undefined when it is missing or malformed. */
export function parseTenantDocument(text: string | null): TenantDocument | undefined {
  if (!text) return undefined
  try {
    const doc = JSON.parse(text) as TenantDocument
    if (doc?.v !== 1 || typeof doc.id !== 'string' || !Array.isArray(doc.credentials)) return undefined
    return doc
  } catch {
    return undefined
  }
}
