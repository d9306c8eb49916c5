/**
 * OAuth 2.0 for IdPs that must not hold a static secret (Entra's gallery, the IPSIE SCIM profile):
 * each tenant's token endpoint (client credentials), its RFC 8414 metadata, and the Worker's public keys.
 */
import { Hono } from 'hono'
import { noteAuthFailure } from '../auth/credential-use.ts'
import { grantToken } from '../auth/token-grant.ts'
import { StorageUnavailable } from '../d1/errors.ts'
import { LOCKOUT_SECONDS, lockOut, lockedOut } from '../auth/lockout.ts'
import { OAuthError } from '../oauth/errors.ts'
import { authorizationServerMetadata } from '../oauth/metadata.ts'
import { signingKeys } from '../oauth/signing-keys.ts'
import { parseTokenRequest, type TokenRequest } from '../oauth/token-request.ts'
import { log } from '../observability/log.ts'
import { grantContext } from '../runtime/auth.ts'
import { findTenant, journalHandle } from '../runtime/scopes.ts'
import { publicUrl } from '../runtime/settings.ts'
import { NotFound } from '../scim/errors.ts'
import { CREDENTIAL_SCOPES, oauthIssuer, tokenEndpoint } from '../tenants/credentials.ts'
import type { PageEnv } from './context.ts'
import { background } from './http.ts'
import { clientAddress, withinLimit } from './rate-limit.ts'

export const oauth = new Hono<PageEnv>()

/** A token request is a small form; anything larger is not one. */
const MAX_TOKEN_REQUEST_BYTES = 65_536

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' }

async function readForm(request: Request): Promise<URLSearchParams> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded')
    throw new OAuthError(
      'invalid_request',
      'send the token request as application/x-www-form-urlencoded (RFC 6749 §4.4.2)',
    )
  if (Number(request.headers.get('content-length') ?? 0) > MAX_TOKEN_REQUEST_BYTES)
    throw new OAuthError('invalid_request', `the token request is larger than ${MAX_TOKEN_REQUEST_BYTES} bytes`, {
      status: 413,
    })
  const text = new TextDecoder().decode(await request.arrayBuffer())
  if (text.length > MAX_TOKEN_REQUEST_BYTES)
    throw new OAuthError('invalid_request', `the token request is larger than ${MAX_TOKEN_REQUEST_BYTES} bytes`, {
      status: 413,
    })
  return new URLSearchParams(text)
}

oauth.post('/oauth/:tenant/token', async (c) => {
  const tenantId = c.req.param('tenant').slice(0, 63)
  const requestId = c.get('requestId')
  const byAddress = `address:${clientAddress(c)}`
  const byTenant = `tenant:${tenantId}`
  if (await lockedOut([byAddress, byTenant])) {
    log('warn', 'auth_locked_out', { requestId, tenantId, endpoint: 'token' })
    throw new OAuthError(
      'temporarily_unavailable',
      `too many failed attempts; retry after ${LOCKOUT_SECONDS} seconds`,
      {
        status: 429,
        headers: { 'Retry-After': String(LOCKOUT_SECONDS) },
      },
    )
  }
  let request: TokenRequest | undefined
  try {
    request = parseTokenRequest(await readForm(c.req.raw), c.req.header('authorization'))
    const { response, clientId } = await grantToken(
      grantContext(c.env, { requestId, background: background(c) }),
      tenantId,
      request,
    )
    log('info', 'token_issued', { requestId, tenantId, clientId, method: request.client.method, scope: response.scope })
    return c.json(response, 200, NO_STORE)
  } catch (error) {
    if (error instanceof OAuthError) {
      log('warn', 'token_refused', { requestId, tenantId, error: error.code, reason: error.message })
      if (error.code === 'invalid_client') {
        // Counted in the tenant's journal beside the SCIM endpoint's failures (never the secret).
        const tenant = await findTenant(c.env, tenantId).catch(() => undefined)
        if (tenant)
          noteAuthFailure(
            journalHandle(c.env, tenant),
            {
              at: new Date(),
              credentialId: request?.client.clientId?.slice(0, 64) ?? null,
              reason: `token request: ${error.message}`,
              requestId,
              method: 'POST',
              path: `/oauth/${tenantId}/token`,
            },
            background(c),
          )
        const addressOk = await withinLimit(c.env, 'AUTH_FAILURES_BY_ADDRESS', byAddress)
        const tenantOk = await withinLimit(c.env, 'AUTH_FAILURES_BY_TENANT', byTenant)
        if (!addressOk) await lockOut(byAddress)
        if (!tenantOk) await lockOut(byTenant)
      }
    }
    if (error instanceof StorageUnavailable) {
      log('error', 'storage_error', { requestId, message: error.message })
      throw new OAuthError('temporarily_unavailable', 'storage is briefly unavailable; retry the token request', {
        headers: { 'Retry-After': '5' },
      })
    }
    throw error
  }
})

oauth.all('/oauth/:tenant/token', (c) => {
  throw new OAuthError('invalid_request', `${c.req.method} is not supported here; POST the token request`, {
    status: 405,
    headers: { Allow: 'POST' },
  })
})

oauth.get('/.well-known/oauth-authorization-server/oauth/:tenant', async (c) => {
  const tenant = await findTenant(c.env, c.req.param('tenant'))
  if (!tenant) throw new NotFound(`No such tenant: ${c.req.param('tenant').slice(0, 63)}`)
  const origin = publicUrl(c.env)
  return c.json(
    authorizationServerMetadata({
      issuer: oauthIssuer(origin, tenant.id),
      tokenEndpoint: tokenEndpoint(origin, tenant.id),
      jwksUri: `${origin}/.well-known/jwks.json`,
      scopes: CREDENTIAL_SCOPES,
      documentation: 'https://github.com/scim-edge/scim-edge#readme',
    }),
  )
})

oauth.get('/.well-known/jwks.json', async (c) => {
  const keys = signingKeys(c.env.OAUTH_SIGNING_KEYS)
  return c.json(keys ? (await keys).publicJwks : { keys: [] }, 200, { 'Cache-Control': 'public, max-age=300' })
})
