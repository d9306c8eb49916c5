/**
 * The client credentials grant (RFC 6749 §4.4) of one tenant's token endpoint: authenticate the
 * OAuth client (secret, private_key_jwt or a federated issuer's assertion), settle the scope, refuse a
 * replayed assertion, and sign a short access token.
 */
import { recordAssertionUse } from '../db/used-assertions.ts'
import { issueAccessToken } from '../oauth/access-token.ts'
import { assertionParties, verifyClientAssertion } from '../oauth/assertion.ts'
import { OAuthError } from '../oauth/errors.ts'
import type { ClientProof, TokenRequest } from '../oauth/token-request.ts'
import type { Scope } from '../scope/scope.ts'
import {
  accessTokenMinutes,
  credentialExpired,
  credentialScopes,
  formatScopes,
  oauthIssuer,
  parseScopes,
  tokenEndpoint,
} from '../tenants/credentials.ts'
import { tenantBaseUrl, type OAuthClientCredential, type TenantDocument } from '../tenants/document.ts'
import { loadTenant, reloadTenant } from '../tenants/load.ts'
import { constantTimeEqual, sha256Hex } from '../tenants/secrets.ts'
import type { AuthContext } from './authenticate.ts'
import { noteCredentialUse } from './credential-use.ts'

/** The token response, RFC 6749 §5.1. */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
}

/** What the grant needs beyond authentication's context. */
export interface GrantContext extends AuthContext {
  /** The scope of the tenant's work once the client is known (for the replay check and "last used"). */
  scopeFor(tenant: TenantDocument, clientId: string): Scope
  background(work: Promise<unknown>): void
}

/** What the log records of a grant: the client, once known. */
export interface GrantOutcome {
  response: TokenResponse
  clientId: string
}

function clientMatches(proof: ClientProof, assertion: { iss?: string; sub?: string }) {
  return (c: OAuthClientCredential): boolean => {
    if (proof.clientId !== undefined || proof.method !== 'private_key_jwt') return c.id === proof.clientId
    // No client_id: the assertion's sub names a private_key_jwt client, or iss and sub a federated one.
    if (c.auth.method === 'private_key_jwt') return c.id === assertion.sub
    return c.auth.method === 'federated' && c.auth.issuer === assertion.iss && c.auth.subject === assertion.sub
  }
}

async function findClient(
  ctx: AuthContext,
  tenant: TenantDocument,
  match: (c: OAuthClientCredential) => boolean,
): Promise<{ tenant: TenantDocument; client?: OAuthClientCredential }> {
  const pick = (doc: TenantDocument) =>
    doc.credentials.find((c): c is OAuthClientCredential => c.kind === 'oauth-client' && match(c))
  const client = pick(tenant)
  if (client) return { tenant, client }
  const fresh = await reloadTenant(ctx.kv, tenant.id, ctx.cacheSeconds)
  return fresh ? { tenant: fresh, client: pick(fresh) } : { tenant }
}

const UNKNOWN = 'unknown client or wrong credentials for this token endpoint'

/** Runs the grant for `tenantId`; every refusal is an OAuthError. */
export async function grantToken(ctx: GrantContext, tenantId: string, request: TokenRequest): Promise<GrantOutcome> {
  if (request.grantType !== 'client_credentials')
    throw new OAuthError(
      'unsupported_grant_type',
      `grant_type ${request.grantType.slice(0, 60)} is not supported; use client_credentials`,
    )
  const proof = request.client
  const hash = proof.method === 'private_key_jwt' ? undefined : await sha256Hex(proof.secret)
  const loaded = await loadTenant(ctx.kv, tenantId, ctx.cacheSeconds)
  if (!loaded) throw new OAuthError('invalid_client', UNKNOWN)
  const parties = proof.method === 'private_key_jwt' ? assertionParties(proof.assertion) : {}
  const { tenant, client } = await findClient(ctx, loaded, clientMatches(proof, parties))
  const issuer = oauthIssuer(ctx.publicUrl, tenant.id)
  const endpoint = tokenEndpoint(ctx.publicUrl, tenant.id)

  let jti: { issuer: string; jti: string; expiresAt: number } | undefined
  if (hash !== undefined) {
    const stored = client?.auth.method === 'client_secret' ? client.auth.secretSha256 : '0'.repeat(64)
    const matches = constantTimeEqual(hash, stored)
    if (!client || !matches) throw new OAuthError('invalid_client', UNKNOWN)
  } else {
    if (!client) throw new OAuthError('invalid_client', UNKNOWN)
    if (client.auth.method === 'client_secret')
      throw new OAuthError('invalid_client', 'this client authenticates with its secret, not with a client_assertion')
    const verified = await verifyClientAssertion((proof as { assertion: string }).assertion, client.id, client.auth, {
      ourAudiences: [endpoint, issuer],
      now: ctx.now,
    })
    if (verified.jti !== undefined) jti = { issuer: verified.issuer, jti: verified.jti, expiresAt: verified.expiresAt }
  }
  if (credentialExpired(client, ctx.now))
    throw new OAuthError('invalid_client', `this client expired at ${client.expiresAt}; ask for a new one`)
  if (tenant.status !== 'active') throw new OAuthError('invalid_client', 'this tenant is disabled; contact support')

  const held = credentialScopes(client)
  const asked = request.scope === undefined ? held : parseScopes(request.scope, held)
  if (!Array.isArray(asked))
    throw new OAuthError(
      'invalid_scope',
      `unknown scope "${asked.unknown.slice(0, 40)}"; use scim:read, scim:write (or scim)`,
    )
  const beyond = asked.filter((s) => !held.includes(s))
  if (beyond.length)
    throw new OAuthError('invalid_scope', `this client may not have ${beyond.join(' ')}; it has ${formatScopes(held)}`)
  if (!asked.length)
    throw new OAuthError('invalid_scope', `no scope this client has was asked; it has ${formatScopes(held)}`)

  const keys = await ctx.signingKeys
  if (!keys)
    throw new OAuthError(
      'temporarily_unavailable',
      'the token endpoint has no signing key (OAUTH_SIGNING_KEYS); tell support',
    )
  const scope = ctx.scopeFor(tenant, client.id)
  if (jti && !(await recordAssertionUse(scope, { ...jti, expiresAt: new Date(jti.expiresAt * 1000) })))
    throw new OAuthError('invalid_client', 'this client assertion was used before (jti); sign a new one')

  const now = Math.floor(ctx.now.getTime() / 1000)
  const until = client.expiresAt ? Math.floor(Date.parse(client.expiresAt) / 1000) : Number.POSITIVE_INFINITY
  const expiresAt = Math.min(now + accessTokenMinutes(tenant.settings) * 60, until)
  const granted = formatScopes(asked)
  const token = await issueAccessToken(keys, {
    issuer,
    audience: tenantBaseUrl(ctx.publicUrl, tenant.id),
    tenantId: tenant.id,
    clientId: client.id,
    scope: granted,
    now: ctx.now,
    expiresAt,
  })
  noteCredentialUse(scope, client.id, ctx.background)
  return {
    clientId: client.id,
    response: { access_token: token, token_type: 'Bearer', expires_in: expiresAt - now, scope: granted },
  }
}
