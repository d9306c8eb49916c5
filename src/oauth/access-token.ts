/**
 * Access tokens: short JWTs (RFC 9068 shape, `typ: at+jwt`) naming the tenant, the client and the
 * scope, signed with the Worker's first signing key. A SCIM request verifies one with the public keys
 * alone: no storage read beyond the tenant document the request loads anyway.
 */
import { errors, jwtVerify, SignJWT } from 'jose'
import { ACCESS_TOKEN_ALGORITHMS, type SigningKeys } from './signing-keys.ts'

/** What an access token says. */
export interface AccessTokenClaims {
  tenantId: string
  clientId: string
  /** Space-separated scopes (`scim:read scim:write`). */
  scope: string
  /** Seconds since the epoch. */
  expiresAt: number
}

/** Seconds of clock difference tolerated when checking `exp`, `nbf` and `iat`. */
export const CLOCK_SKEW_SECONDS = 60

/** True for a compact JWS (three base64url parts); our static bearer tokens never contain a dot. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)
}

/** Signs an access token for `audience` (the tenant's Base URL) from `issuer` (the tenant's OAuth issuer). */
export async function issueAccessToken(
  keys: SigningKeys,
  input: {
    issuer: string
    audience: string
    tenantId: string
    clientId: string
    scope: string
    now: Date
    expiresAt: number
  },
): Promise<string> {
  const iat = Math.floor(input.now.getTime() / 1000)
  return new SignJWT({ scope: input.scope, client_id: input.clientId, tenant: input.tenantId })
    .setProtectedHeader({ alg: keys.signer.alg, kid: keys.signer.kid, typ: 'at+jwt' })
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setSubject(input.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(input.expiresAt)
    .setJti(crypto.randomUUID())
    .sign(keys.signer.key)
}

/**
 * Verifies an access token for one tenant: our keys, our algorithms, `typ`, issuer, audience and
 * expiry. Returns its claims, or why it is refused (for the log; the client sees one 401).
 */
export async function verifyAccessToken(
  keys: SigningKeys,
  token: string,
  expected: { issuer: string; audience: string; tenantId: string; now: Date },
): Promise<AccessTokenClaims | { refused: string }> {
  try {
    const { payload } = await jwtVerify(token, keys.verifier, {
      algorithms: [...ACCESS_TOKEN_ALGORITHMS],
      typ: 'at+jwt',
      issuer: expected.issuer,
      audience: expected.audience,
      currentDate: expected.now,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'sub', 'scope'],
    })
    if (payload.tenant !== expected.tenantId || typeof payload.scope !== 'string' || typeof payload.sub !== 'string')
      return { refused: 'access token names another tenant or lacks claims' }
    return { tenantId: expected.tenantId, clientId: payload.sub, scope: payload.scope, expiresAt: payload.exp! }
  } catch (error) {
    return { refused: `access token refused: ${refusal(error)}` }
  }
}

/** A short reason from jose's error, without echoing the token. */
export function refusal(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired'
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}`
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed'
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key matches its kid'
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify'
  if (error instanceof errors.JOSEError) return error.code
  return 'malformed'
}
