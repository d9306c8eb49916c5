/**
 * Reading a token request (RFC 6749 §4.4, §2.3): the grant type, the requested scope, and exactly one
 * way the client authenticates: client_secret_basic, client_secret_post, or a JWT assertion (RFC 7523 §2.2).
 */
import { OAuthError } from './errors.ts'

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** How the client authenticates. */
export type ClientProof =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId?: string; assertion: string }

export interface TokenRequest {
  grantType: string
  /** The `scope` parameter; undefined when absent. */
  scope?: string
  client: ClientProof
}

/** Longest parameter accepted (an assertion with a large header is some 4 KB). */
const MAX_PARAM = 16_384

/** Reads one parameter; a repeated one is invalid (RFC 6749 §3.2: parameters MUST NOT be included more than once). */
function one(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name)
  if (values.length > 1) throw new OAuthError('invalid_request', `the parameter ${name} is sent more than once`)
  const value = values[0]
  if (value !== undefined && value.length > MAX_PARAM)
    throw new OAuthError('invalid_request', `the parameter ${name} is longer than ${MAX_PARAM} characters`)
  return value === '' ? undefined : value
}

/** `client_id:client_secret` of a Basic header, each form-urlencoded first (RFC 6749 §2.3.1). */
function basicCredentials(header: string): { clientId: string; secret: string } {
  let decoded: string
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(header.slice(6).trim()), (c) => c.charCodeAt(0)))
  } catch {
    throw new OAuthError('invalid_client', 'the Basic credentials are not base64')
  }
  const colon = decoded.indexOf(':')
  if (colon < 0)
    throw new OAuthError('invalid_client', 'the Basic credentials have no colon between client_id and secret')
  const unform = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '))
    } catch {
      return s
    }
  }
  return { clientId: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) }
}

/** The token request in `form` and the Authorization header; invalid_request when it is not one. */
export function parseTokenRequest(form: URLSearchParams, authorization: string | undefined): TokenRequest {
  const grantType = one(form, 'grant_type')
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is missing; send grant_type=client_credentials')
  const scope = one(form, 'scope')
  const clientId = one(form, 'client_id')
  const secret = one(form, 'client_secret')
  const assertionType = one(form, 'client_assertion_type')
  const assertion = one(form, 'client_assertion')
  const basic = authorization && /^basic\s/i.test(authorization) ? basicCredentials(authorization) : undefined

  const methods = [
    basic && 'client_secret_basic',
    secret && 'client_secret_post',
    (assertion || assertionType) && 'private_key_jwt',
  ].filter(Boolean)
  if (methods.length > 1)
    throw new OAuthError('invalid_request', `use one client authentication method, not ${methods.join(' and ')}`)
  if (basic) {
    if (clientId !== undefined && clientId !== basic.clientId)
      throw new OAuthError('invalid_request', 'client_id differs from the client in the Authorization header')
    return { grantType, scope, client: { method: 'client_secret_basic', ...basic } }
  }
  if (secret) {
    if (!clientId) throw new OAuthError('invalid_request', 'client_secret is sent without client_id')
    return { grantType, scope, client: { method: 'client_secret_post', clientId, secret } }
  }
  if (assertion || assertionType) {
    if (assertionType !== JWT_BEARER_ASSERTION)
      throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`)
    if (!assertion) throw new OAuthError('invalid_request', 'client_assertion is missing')
    return { grantType, scope, client: { method: 'private_key_jwt', clientId, assertion } }
  }
  throw new OAuthError(
    'invalid_client',
    'no client authentication: send client_id and client_secret (Basic header or form), or a client_assertion',
  )
}
