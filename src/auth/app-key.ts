/** Turns `Authorization: Bearer sea_{id}_{secret}` into the app key allowed on a tenant. */
import {
  appKeyAllows,
  appKeyDocumentKey,
  parseAppKey,
  parseAppKeyDocument,
  type AppKeyDocument,
} from '../tenants/app-keys.ts'
import { constantTimeEqual, sha256Hex } from '../tenants/secrets.ts'

export type AppAuthResult = { ok: true; key: AppKeyDocument } | { ok: false; reason: string; keyId?: string }

/**
 * Authenticates the app for one tenant. Every failure is one 401 to the caller; `reason` is for the log.
 * The hash is compared even when the key is unknown, so timing says nothing.
 */
export async function authenticateApp(
  kv: KVNamespace,
  tenantId: string,
  header: string | undefined,
): Promise<AppAuthResult> {
  if (!header?.toLowerCase().startsWith('bearer ')) return { ok: false, reason: 'no Bearer app key' }
  const presented = parseAppKey(header.slice(7).trim())
  if (!presented) return { ok: false, reason: 'the Bearer token has not the sea_{id}_{secret} shape of an app key' }
  const hash = await sha256Hex(presented.secret)
  // KV is eventually consistent and edge-cached: a revoke takes up to a minute (README).
  const doc = parseAppKeyDocument(await kv.get(appKeyDocumentKey(presented.id), { cacheTtl: 60 }))
  const matches = constantTimeEqual(hash, doc?.secretSha256 ?? '0'.repeat(64))
  const keyId = presented.id
  if (!doc) return { ok: false, reason: 'unknown app key', keyId }
  if (!matches) return { ok: false, reason: 'wrong secret', keyId }
  if (!appKeyAllows(doc, tenantId)) return { ok: false, reason: 'app key not allowed on this tenant', keyId }
  return { ok: true, key: doc }
}
