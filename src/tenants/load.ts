/**
 * Loading a tenant document in the Worker. Documents are kept in the isolate for a few seconds, so a
 * busy tenant does not read KV on every request. Only a speed-up: a miss reads KV, unknown tenants are
 * never cached (a tenant created a moment ago works at once), and a change (revoke, disable) reaches
 * the Worker within the TTL, as KV's own edge cache already delays it by up to a minute. A credential
 * the cached document does not know makes the caller reload it once (reloadTenant, at most once a second
 * per tenant), so a credential made a moment ago works on first use.
 */
import { isTenantId, parseTenantDocument, tenantDocumentKey, type TenantDocument } from './document.ts'

const cache = new Map<string, { doc: TenantDocument; until: number }>()
const reloaded = new Map<string, number>()
const MAX_ENTRIES = 1000
/** The least time between two forced reloads of one tenant's document. */
const RELOAD_SECONDS = 1

/** Seconds tenant documents stay in the isolate: TENANT_CACHE_SECONDS, default 30, at most 60, 0 turns it off. */
export function tenantCacheSeconds(value: string | undefined): number {
  const n = Number(value ?? 30)
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 60) : 30
}

async function read(kv: KVNamespace, id: string, ttlSeconds: number, now: number): Promise<TenantDocument | undefined> {
  const doc = parseTenantDocument(await kv.get(tenantDocumentKey(id), { cacheTtl: 60 }))
  if (doc && ttlSeconds > 0) {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!)
    cache.set(id, { doc, until: now + ttlSeconds * 1000 })
  } else {
    cache.delete(id)
  }
  return doc
}

/**
 * The tenant's document from the isolate cache (when younger than `ttlSeconds`) or KV; undefined for
 * an id that is no tenant slug (it names no tenant and could exceed KV's key limit), a missing or a
 * malformed document.
 */
export async function loadTenant(kv: KVNamespace, id: string, ttlSeconds: number): Promise<TenantDocument | undefined> {
  if (!isTenantId(id)) return undefined
  const now = Date.now()
  const hit = cache.get(id)
  if (hit && hit.until > now) return hit.doc
  return read(kv, id, ttlSeconds, now)
}

/**
 * The tenant's document read again past the isolate cache, when the cache holds one and it was not
 * reloaded in the last second; undefined otherwise (the caller keeps what it has).
 */
export async function reloadTenant(
  kv: KVNamespace,
  id: string,
  ttlSeconds: number,
): Promise<TenantDocument | undefined> {
  const now = Date.now()
  if (!cache.has(id) || (reloaded.get(id) ?? 0) > now - RELOAD_SECONDS * 1000) return undefined
  if (reloaded.size >= MAX_ENTRIES) reloaded.delete(reloaded.keys().next().value!)
  reloaded.set(id, now)
  return read(kv, id, ttlSeconds, now)
}

/**
 * Drops this isolate's copy of a tenant's document, so its next request reads KV. The support CLI
 * journals each change it makes in KV through the Worker, and the isolate that records it forgets
 * what it held (other isolates still follow the TTL).
 */
export function forgetTenant(id: string): void {
  cache.delete(id)
}
