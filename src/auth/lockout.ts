/**
 * Lockout after failed authentication: failures are counted per client address and per tenant with
 * rate limit bindings; a key past its limit is marked in the Cache API for LOCKOUT_SECONDS, and a
 * marked key is refused before any credential is looked up. Both are local to a Cloudflare location,
 * like the rate limit bindings themselves.
 */

/** How long a key stays locked out once over its failure limit. */
export const LOCKOUT_SECONDS = 60

const MARK = 'https://lockout.scim-edge.invalid/'

function markUrl(key: string): string {
  return `${MARK}${encodeURIComponent(key)}`
}

/** True when one of the keys is locked out. */
export async function lockedOut(keys: string[]): Promise<boolean> {
  const cache = await caches.open('auth-lockout')
  for (const key of keys) if (await cache.match(markUrl(key))) return true
  return false
}

/** Locks a key out for LOCKOUT_SECONDS. */
export async function lockOut(key: string): Promise<void> {
  const cache = await caches.open('auth-lockout')
  await cache.put(markUrl(key), new Response('locked', { headers: { 'cache-control': `max-age=${LOCKOUT_SECONDS}` } }))
}
