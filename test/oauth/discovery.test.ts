import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { newTenant } from '../helpers/tenant.ts'
import {
  accessToken,
  addClient,
  ASSERTION_TYPE,
  assertion,
  endpointOf,
  issuerOf,
  keyPair,
  tokenRequest,
} from './helpers.ts'
import { verifyAccessTokenWith } from './verify.ts'

describe('discovery of the token endpoint and the keys', () => {
  it("serves each tenant's RFC 8414 metadata at the issuer's well-known path", async () => {
    const tenant = await newTenant()
    const res = await SELF.fetch(`${env.PUBLIC_URL}/.well-known/oauth-authorization-server/oauth/${tenant.id}`)
    expect(res.status).toBe(200)
    const metadata = (await res.json()) as Record<string, unknown>
    expect(metadata).toMatchObject({
      issuer: issuerOf(tenant.id),
      token_endpoint: endpointOf(tenant.id),
      jwks_uri: `${env.PUBLIC_URL}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['scim:read', 'scim:write'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    })
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).not.toContain('none')
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256')
    const unknown = await SELF.fetch(`${env.PUBLIC_URL}/.well-known/oauth-authorization-server/oauth/no-such-tenant`)
    expect(unknown.status).toBe(404)
  })

  it('publishes only public keys at /.well-known/jwks.json, and they verify an issued token', async () => {
    const tenant = await newTenant()
    const res = await SELF.fetch(`${env.PUBLIC_URL}/.well-known/jwks.json`)
    expect(res.status).toBe(200)
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] }
    expect(jwks.keys.length).toBeGreaterThan(0)
    for (const key of jwks.keys) {
      expect(key.d).toBeUndefined()
      expect(typeof key.kid).toBe('string')
    }
    const { clientId, secret } = await addClient(tenant)
    const token = await accessToken(tenant.id, clientId, secret!)
    const claims = await verifyAccessTokenWith(jwks, token)
    expect(claims).toMatchObject({ iss: issuerOf(tenant.id), client_id: clientId, scope: 'scim:read scim:write' })
  })

  it('lists oauth2 with the token endpoint in ServiceProviderConfig', async () => {
    const tenant = await newTenant()
    const res = await tenant.fetch('/ServiceProviderConfig')
    const config = (await res.json()) as { authenticationSchemes: Record<string, string>[] }
    const oauth2 = config.authenticationSchemes.find((s) => s.type === 'oauth2')
    expect(oauth2?.description).toContain(endpointOf(tenant.id))
    expect(oauth2?.documentationUri).toBe(`${env.PUBLIC_URL}/.well-known/oauth-authorization-server/oauth/${tenant.id}`)
  })
})

describe('a federated issuer that cannot be reached', () => {
  // Port 9 on loopback: nothing listens, so the connection is refused at once.
  const DEAD = 'http://127.0.0.1:9'

  async function federatedRequest(auth: { issuer: string; jwksUrl?: string }) {
    const tenant = await newTenant()
    const key = await keyPair('RS256')
    const subject = 'workload'
    const { clientId } = await addClient(tenant, { auth: { method: 'federated', subject, audience: 'aud', ...auth } })
    const jwt = await assertion({ ...key, kid: key.jwk.kid }, { iss: auth.issuer, sub: subject, aud: 'aud' })
    return tokenRequest(tenant.id, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    })
  }

  it('answers 503 temporarily_unavailable when its discovery document cannot be read', async () => {
    const res = await federatedRequest({ issuer: `${DEAD}/tenant/v2.0` })
    expect(res.status).toBe(503)
    const body = (await res.json()) as { error: string; error_description: string }
    expect(body.error).toBe('temporarily_unavailable')
    expect(body.error_description).toMatch(/discovery document .* could not be read/)
  })

  it('answers 503 temporarily_unavailable when its JWKS URL cannot be read', async () => {
    const res = await federatedRequest({ issuer: 'https://login.example.com/t/v2.0', jwksUrl: `${DEAD}/keys` })
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: string }).error).toBe('temporarily_unavailable')
  })
})
