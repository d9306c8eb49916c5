/** OAuth clients, key pairs, assertions and token requests for the tests of the token endpoint. */
import { env, SELF } from 'cloudflare:test'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { oauthIssuer, tokenEndpoint } from '../../src/tenants/credentials.ts'
import {
  tenantDocumentKey,
  type ClientAuthentication,
  type CredentialScope,
  type OAuthClientCredential,
  type TenantDocument,
} from '../../src/tenants/document.ts'
import { randomId, randomSecret, sha256Hex } from '../../src/tenants/secrets.ts'
import type { TestTenant } from '../helpers/tenant.ts'

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** The tenant's current document in KV. */
export async function currentDoc(tenantId: string): Promise<TenantDocument> {
  return JSON.parse((await env.TENANTS.get(tenantDocumentKey(tenantId)))!) as TenantDocument
}

/** Rewrites the tenant's document in KV with `change` applied. */
export async function updateDoc(tenantId: string, change: (doc: TenantDocument) => void): Promise<void> {
  const doc = await currentDoc(tenantId)
  change(doc)
  await env.TENANTS.put(tenantDocumentKey(tenantId), JSON.stringify(doc))
}

/** Adds an OAuth client to the tenant, as `oauth-client create` does; returns its id and (for secret clients) secret. */
export async function addClient(
  tenant: TestTenant,
  options: { auth?: ClientAuthentication; scope?: CredentialScope[]; expiresAt?: string } = {},
): Promise<{ clientId: string; secret?: string; credential: OAuthClientCredential }> {
  const clientId = randomId()
  const secret = options.auth ? undefined : randomSecret()
  const credential: OAuthClientCredential = {
    id: clientId,
    kind: 'oauth-client',
    createdAt: new Date().toISOString(),
    auth: options.auth ?? { method: 'client_secret', secretSha256: await sha256Hex(secret!) },
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
  }
  await updateDoc(tenant.id, (doc) => doc.credentials.push(credential))
  return { clientId, secret, credential }
}

export function endpointOf(tenantId: string): string {
  return tokenEndpoint(env.PUBLIC_URL, tenantId)
}

export function issuerOf(tenantId: string): string {
  return oauthIssuer(env.PUBLIC_URL, tenantId)
}

/** POSTs a token request (a form) to the tenant's token endpoint. */
export function tokenRequest(
  tenantId: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return SELF.fetch(endpointOf(tenantId), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  })
}

/** `Basic base64(client_id:secret)`, each form-encoded first (RFC 6749 §2.3.1). */
export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`)}`
}

/** A token for a secret client (client_secret_basic); fails the test when none is issued. */
export async function accessToken(tenantId: string, clientId: string, secret: string, scope?: string): Promise<string> {
  const res = await tokenRequest(
    tenantId,
    { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
    { authorization: basicAuth(clientId, secret) },
  )
  const body = (await res.json()) as { access_token?: string }
  if (res.status !== 200 || !body.access_token) throw new Error(`no token: ${res.status} ${JSON.stringify(body)}`)
  return body.access_token
}

/** A key pair made in the test, with the public JWK (kid set) to register. */
export async function keyPair(
  alg = 'ES256',
  kid = crypto.randomUUID(),
): Promise<{ privateKey: CryptoKey; jwk: JWK & { kid: string; kty: string }; alg: string }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(publicKey)
  return { privateKey, jwk: { ...jwk, kty: jwk.kty!, kid, alg }, alg }
}

/** Signs an assertion; `claims` overrides the defaults (iss/sub = client, aud = token endpoint, 5 minutes, a jti). */
export async function assertion(
  key: { privateKey: CryptoKey; alg: string; kid?: string },
  claims: Record<string, unknown>,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const payload = { iat: now, exp: now + 300, jti: crypto.randomUUID(), ...claims }
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete (payload as Record<string, unknown>)[k]
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, ...(key.kid ? { kid: key.kid } : {}) })
    .sign(key.privateKey)
}

/** Registers an issuer with public keys at the JWKS hub (test/jwks-hub.ts). */
export async function registerIssuer(keys: JWK[]): Promise<{ issuer: string; jwksUri: string }> {
  const res = await fetch(`${env.JWKS_HUB_URL}/issuers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keys }),
  })
  return (await res.json()) as { issuer: string; jwksUri: string }
}

/** An unsigned JWT (`alg: none`) with these claims. */
export function unsignedJwt(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const part = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
  return `${part(header)}.${part(claims)}.`
}

/** An HS256 JWT whose HMAC key is `secret` (the key confusion attack uses the public key's text). */
export async function hs256Jwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  secret: string,
): Promise<string> {
  const part = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
  const input = `${part({ alg: 'HS256', ...header })}.${part(claims)}`
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input)))
  const sig = btoa(String.fromCharCode(...mac))
    .replace(/=+$/, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
  return `${input}.${sig}`
}
