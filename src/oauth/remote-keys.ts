/**
 * Keys fetched from elsewhere: a client's JWKS URL, or a federated issuer's keys found through its
 * OpenID discovery document. Kept per isolate and looked up by `kid`; an unknown `kid` refetches the
 * set (at most once a second; failed assertions also count towards the lockout), so an issuer's key
 * rotation is picked up at once.
 */
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose'
import { isKeyUrl } from '../tenants/credentials.ts'
import { OAuthError } from './errors.ts'

const sets = new Map<string, JWTVerifyGetKey>()
const discovered = new Map<string, { jwksUri: string; until: number }>()
const MAX_SETS = 200
const DISCOVERY_SECONDS = 3600

/** The key resolver of a JWKS URL, made once per isolate. */
export function remoteKeys(jwksUrl: string): JWTVerifyGetKey {
  if (!isKeyUrl(jwksUrl)) throw new OAuthError('invalid_client', "the client's JWKS URL is not https")
  let set = sets.get(jwksUrl)
  if (!set) {
    if (sets.size >= MAX_SETS) sets.delete(sets.keys().next().value!)
    set = createRemoteJWKSet(new URL(jwksUrl), {
      timeoutDuration: 5000,
      cooldownDuration: 1000,
      cacheMaxAge: 600_000,
    })
    sets.set(jwksUrl, set)
  }
  const resolve = set
  return async (header, token) => {
    try {
      return await resolve(header, token)
    } catch (error) {
      throw unreachable(error, jwksUrl) ?? error
    }
  }
}

/**
 * A failure to fetch the key set (refused, reset, timed out, not 2xx, not JSON) as temporarily_unavailable:
 * the IdP should retry, and support sees which URL failed. Verification failures (no key for the kid, a bad
 * signature) stay what jose says, and the caller makes them invalid_client.
 */
function unreachable(error: unknown, jwksUrl: string): OAuthError | undefined {
  const fetchFailed =
    error instanceof errors.JWKSTimeout ||
    !(error instanceof errors.JOSEError) ||
    (error.code === 'ERR_JOSE_GENERIC' && /fetch|status|json/i.test(error.message))
  if (!fetchFailed) return undefined
  const why = error instanceof errors.JWKSTimeout ? 'timed out' : (error as Error).message?.slice(0, 120) || 'failed'
  return new OAuthError(
    'temporarily_unavailable',
    `the signing keys at ${jwksUrl} could not be fetched (${why}); retry`,
  )
}

/** The `jwks_uri` of an issuer, from `{issuer}/.well-known/openid-configuration` (cached for an hour). */
export async function issuerJwksUrl(issuer: string, now: Date): Promise<string> {
  const hit = discovered.get(issuer)
  if (hit && hit.until > now.getTime()) return hit.jwksUri
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
  if (!isKeyUrl(url)) throw new OAuthError('invalid_client', 'the federated issuer is not an https URL')
  let jwksUri: unknown
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) })
    if (!res.ok) throw new Error(`status ${res.status}`)
    jwksUri = ((await res.json()) as { jwks_uri?: unknown }).jwks_uri
  } catch (error) {
    throw new OAuthError(
      'temporarily_unavailable',
      `the federated issuer's discovery document (${url}) could not be read: ${(error as Error).message}; retry later`,
    )
  }
  if (typeof jwksUri !== 'string' || !isKeyUrl(jwksUri))
    throw new OAuthError('invalid_client', `the federated issuer's discovery document names no https jwks_uri`)
  discovered.set(issuer, { jwksUri, until: now.getTime() + DISCOVERY_SECONDS * 1000 })
  return jwksUri
}
