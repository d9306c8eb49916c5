import { mintTenantKey, type Credential, type TenantDocument, type TenantSettings } from './document.ts'
import { formatBearerToken, randomId, randomSecret, sha256Hex } from './secrets.ts'

/** What support hands an IdP admin, shown once. */
export interface MintedSecrets {
  username: string
  password: string
  bearerToken: string
}

/** Mints a Basic credential (username, password) and a bearer token; returns the stored form and the secrets. */
export async function mintCredentials(now: Date): Promise<{ credentials: Credential[]; secrets: MintedSecrets }> {
  const basicId = randomId()
  const bearerId = randomId()
  const password = randomSecret()
  const bearerSecret = randomSecret()
  const createdAt = now.toISOString()
  return {
    credentials: [
      { id: basicId, kind: 'basic', username: basicId, secretSha256: await sha256Hex(password), createdAt },
      { id: bearerId, kind: 'bearer', secretSha256: await sha256Hex(bearerSecret), createdAt },
    ],
    secrets: { username: basicId, password, bearerToken: formatBearerToken(bearerId, bearerSecret) },
  }
}

/** A new tenant document holding freshly minted credentials. */
export async function newTenantDocument(
  input: { id: string; name?: string; appUrl?: string; settings?: TenantSettings },
  now: Date,
): Promise<{ doc: TenantDocument; secrets: MintedSecrets }> {
  const { credentials, secrets } = await mintCredentials(now)
  const doc: TenantDocument = {
    v: 1,
    id: input.id,
    key: mintTenantKey(input.id),
    name: input.name ?? input.id,
    status: 'active',
    appUrl: input.appUrl ?? 'http://127.0.0.1:3000',
    createdAt: now.toISOString(),
    settings: input.settings ?? {},
    credentials,
  }
  return { doc, secrets }
}
