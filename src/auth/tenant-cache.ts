/**
 * Tenant documents kept in the isolate for a few seconds, so a busy tenant does not read KV on every
 * request. Only a speed-up: a miss reads KV, unknown tenants are never cached (a tenant created a
 * moment ago works at once), and a change (revoke, disable) reaches the Worker within the TTL, as KV's
 * own edge cache already delays it by up to a minute (README "Onboarding a tenant").
 */
import { parseTenantDocument, tenantKey, type TenantDocument } from '../tenants/document.ts'

const cache = new Map<string, { doc: TenantDocument; until: number }>()
const MAX_ENTRIES = 1000

/** The tenant's document from the isolate cache (when younger than `ttlSeconds`) or KV. */
export async function loadTenant(kv: KVNamespace, id: string, ttlSeconds: number, now = Date.now()): Promise<TenantDocument | undefined> {
  const hit = cache.get(id)
  if (hit && hit.until > now) return hit.doc
  const doc = parseTenantDocument(await kv.get(tenantKey(id), { cacheTtl: 60 }))
  if (doc && ttlSeconds > 0) {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!)
    cache.set(id, { doc, until: now + ttlSeconds * 1000 })
  } else {
    cache.delete(id)
  }
  return doc
}
