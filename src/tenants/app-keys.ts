/**
 * App keys: what the app (and support's Worker-backed CLI commands) present to the app API, like an
 * IdP's credentials: each is kept in KV under `app-key:{id}` as the SHA-256 of its secret, shown once,
 * revocable, and allowed on every tenant or on a list of them. Plain TypeScript, shared by CLI and Worker.
 */
import { randomId, randomSecret, sha256Hex } from './secrets.ts'

export const APP_KEY_PREFIX = 'app-key:'

export interface AppKeyDocument {
  v: 1
  id: string
  secretSha256: string
  /** The tenants the key may act on; absent means every tenant. */
  tenants?: string[]
  createdAt: string
}

/** The KV key of an app key's document. */
export function appKeyDocumentKey(id: string): string {
  return `${APP_KEY_PREFIX}${id}`
}

/** App keys carry their id: `sea_{id}_{secret}`. */
export function formatAppKey(id: string, secret: string): string {
  return `sea_${id}_${secret}`
}

/** Splits an app key into id and secret, or undefined when it has not that shape. */
export function parseAppKey(text: string): { id: string; secret: string } | undefined {
  const match = /^sea_(a[a-z2-7]{15})_([A-Za-z0-9_-]{22,})$/.exec(text)
  return match ? { id: match[1]!, secret: match[2]! } : undefined
}

/** A new app key: the document to store and the key to show once. */
export async function mintAppKey(
  tenants: string[] | undefined,
  now: Date,
): Promise<{ doc: AppKeyDocument; key: string }> {
  const id = randomId('a')
  const secret = randomSecret()
  const doc: AppKeyDocument = {
    v: 1,
    id,
    secretSha256: await sha256Hex(secret),
    ...(tenants ? { tenants } : {}),
    createdAt: now.toISOString(),
  }
  return { doc, key: formatAppKey(id, secret) }
}

/** True when the key may act on this tenant. */
export function appKeyAllows(doc: AppKeyDocument, tenantId: string): boolean {
  return !doc.tenants || doc.tenants.includes(tenantId)
}

/** A stored app key document, or undefined when missing or malformed. */
export function parseAppKeyDocument(text: string | null): AppKeyDocument | undefined {
  if (!text) return undefined
  try {
    const doc = JSON.parse(text) as AppKeyDocument
    if (doc?.v !== 1 || typeof doc.id !== 'string' || typeof doc.secretSha256 !== 'string') return undefined
    if (doc.tenants !== undefined && !Array.isArray(doc.tenants)) return undefined
    return doc
  } catch {
    return undefined
  }
}
