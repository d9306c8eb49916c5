/**
 * JWT client assertions (RFC 7523 §2.2, §3): the client, or a trusted issuer acting for it (workload
 * identity federation), signs a short JWT naming us as its audience. Only asymmetric algorithms are
 * accepted, so neither `none` nor an HMAC keyed with a public key can pass.
 */
import { decodeJwt, errors, importJWK, jwtVerify, type JWTVerifyGetKey } from 'jose'
import type { ClientAuthentication } from '../tenants/document.ts'
import { CLOCK_SKEW_SECONDS, refusal } from './access-token.ts'
import { OAuthError } from './errors.ts'
import { issuerJwksUrl, remoteKeys } from './remote-keys.ts'

/** Asymmetric JWS algorithms (RFC 7518 §3.1); HS*, `none` and anything else are refused. */
export const ASSERTION_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]

/** The longest an assertion may still be valid for: its `jti`, kept until `exp`, must not pile up. */
export const MAX_ASSERTION_SECONDS = 24 * 3600

/** What a verified assertion leaves behind for the replay check. */
export interface VerifiedAssertion {
  issuer: string
  jti?: string
  /** Seconds since the epoch. */
  expiresAt: number
}

/** The unverified `iss` and `sub` of an assertion, to find its client when no client_id is sent. */
export function assertionParties(assertion: string): { iss?: string; sub?: string } {
  try {
    const claims = decodeJwt(assertion)
    return { iss: claims.iss, sub: claims.sub }
  } catch {
    return {}
  }
}

/** Audiences a federated client's `aud` may be: as configured, and without Entra's `/.default` scope suffix. */
function configuredAudiences(audience: string): string[] {
  const trimmed = audience.replace(/\/\.default$/, '')
  return trimmed === audience ? [audience] : [audience, trimmed]
}

/**
 * Verifies `assertion` for the client `clientId` authenticating with `auth` (private_key_jwt or federated).
 * `ourAudiences` are the token endpoint and the issuer: what a private_key_jwt assertion's `aud` names.
 * Every failure is invalid_client (RFC 7523 §3.2), its description saying which check failed.
 */
export async function verifyClientAssertion(
  assertion: string,
  clientId: string,
  auth: Exclude<ClientAuthentication, { method: 'client_secret' }>,
  context: { ourAudiences: string[]; now: Date },
): Promise<VerifiedAssertion> {
  const federated = auth.method === 'federated'
  const issuer = federated ? auth.issuer : clientId
  const subject = federated ? auth.subject : clientId
  const audience = federated && auth.audience ? configuredAudiences(auth.audience) : context.ourAudiences
  let keys: JWTVerifyGetKey
  if (auth.method === 'federated') keys = remoteKeys(auth.jwksUrl ?? (await issuerJwksUrl(auth.issuer, context.now)))
  else if ('jwksUrl' in auth) keys = remoteKeys(auth.jwksUrl)
  else {
    const jwk = auth.jwk
    keys = async (header) => {
      if (typeof jwk.alg === 'string' && jwk.alg !== header.alg)
        throw new OAuthError(
          'invalid_client',
          `the assertion is signed with ${header.alg}; the client's key is ${jwk.alg}`,
        )
      return importJWK(jwk, header.alg)
    }
  }
  try {
    const { payload } = await jwtVerify(assertion, keys, {
      algorithms: ASSERTION_ALGORITHMS,
      issuer,
      subject,
      audience,
      currentDate: context.now,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp'],
    })
    const now = Math.floor(context.now.getTime() / 1000)
    if (payload.iat !== undefined && payload.iat > now + CLOCK_SKEW_SECONDS)
      throw new OAuthError('invalid_client', 'the client assertion is issued in the future (iat)')
    if (payload.exp! > now + MAX_ASSERTION_SECONDS)
      throw new OAuthError(
        'invalid_client',
        'the client assertion lives longer than 24 hours (exp); send a shorter one',
      )
    if (payload.jti !== undefined && (typeof payload.jti !== 'string' || payload.jti.length > 256))
      throw new OAuthError('invalid_client', "the client assertion's jti is not a string of at most 256 characters")
    return { issuer, jti: payload.jti, expiresAt: payload.exp! }
  } catch (error) {
    if (error instanceof OAuthError) throw error
    throw new OAuthError('invalid_client', `the client assertion is refused: ${refusal(error)}`)
  }
}
