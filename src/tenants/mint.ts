import {
  mintTenantKey,
  type Credential,
  type CredentialScope,
  type TenantDocument,
  type TenantSettings,
} from './document.ts'
import { formatBearerToken, randomId, randomSecret, sha256Hex } from './secrets.ts'

/** What support hands an IdP admin, shown once. */
/** Where invitees land after accepting when `create` is not given `--app-url` (local runs only). */
export const DEFAULT_APP_URL = 'http://127.0.0.1:3000'

export interface MintedSecrets {
  username: string
  password: string
  bearerToken: string
}

/** What `create` and `rotate` may give the pair they mint: an expiry, fewer scopes. */
export interface CredentialLimits {
  expiresAt?: string
  scope?: CredentialScope[]
}

/** Mints a Basic credential (username, password) and a bearer token; returns the stored form and the secrets. */
export async function mintCredentials(
  now: Date,
  limits: CredentialLimits = {},
): Promise<{ credentials: Credential[]; secrets: MintedSecrets }> {
  const basicId = randomId()
  const bearerId = randomId()
  const password = randomSecret()
  const bearerSecret = randomSecret()
  const createdAt = now.toISOString()
  const extra = {
    ...(limits.expiresAt ? { expiresAt: limits.expiresAt } : {}),
    ...(limits.scope ? { scope: limits.scope } : {}),
  }
  return {
    credentials: [
      { id: basicId, kind: 'basic', username: basicId, secretSha256: await sha256Hex(password), createdAt, ...extra },
      { id: bearerId, kind: 'bearer', secretSha256: await sha256Hex(bearerSecret), createdAt, ...extra },
    ],
    secrets: { username: basicId, password, bearerToken: formatBearerToken(bearerId, bearerSecret) },
  }
}

/** A new tenant document holding freshly minted credentials. */
export async function newTenantDocument(
  input: { id: string; name?: string; appUrl?: string; settings?: TenantSettings; limits?: CredentialLimits },
  now: Date,
): Promise<{ doc: TenantDocument; secrets: MintedSecrets }> {
  const { credentials, secrets } = await mintCredentials(now, input.limits)
  const doc: TenantDocument = {
    v: 1,
    id: input.id,
    key: mintTenantKey(input.id),
    name: input.name ?? input.id,
    status: 'active',
    appUrl: input.appUrl ?? DEFAULT_APP_URL,
    createdAt: now.toISOString(),
    settings: input.settings ?? {},
    credentials,
  }
  return { doc, secrets }
}
