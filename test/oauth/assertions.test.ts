/**
 * JWT client assertions (RFC 7523 §2.2): private_key_jwt with a key registered with the client or
 * published at its JWKS URL, and workload identity federation as Entra sends it, against keys served by
 * a real HTTP server on 127.0.0.1 (test/jwks-hub.ts). Every forged, stale or misaddressed assertion is
 * refused with invalid_client.
 */
import { env } from 'cloudflare:test'
import { decodeJwt, exportSPKI } from 'jose'
import { describe, expect, it } from 'vitest'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'
import {
  addClient,
  ASSERTION_TYPE,
  assertion,
  endpointOf,
  hs256Jwt,
  issuerOf,
  keyPair,
  registerIssuer,
  tokenRequest,
  unsignedJwt,
} from './helpers.ts'

function assertionRequest(tenant: TestTenant, jwt: string, clientId?: string, scope?: string) {
  return tokenRequest(tenant.id, {
    grant_type: 'client_credentials',
    ...(clientId ? { client_id: clientId } : {}),
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: jwt,
    ...(scope ? { scope } : {}),
  })
}

async function expectRefused(res: Response, pattern?: RegExp): Promise<string> {
  const body = (await res.json()) as { error: string; error_description: string }
  expect({ status: res.status, error: body.error }, body.error_description).toEqual({
    status: 401,
    error: 'invalid_client',
  })
  if (pattern) expect(body.error_description).toMatch(pattern)
  return body.error_description
}

async function expectToken(res: Response): Promise<string> {
  const body = (await res.json()) as { access_token?: string; error_description?: string }
  expect(res.status, body.error_description).toBe(200)
  return body.access_token!
}

/** A tenant with a private_key_jwt client whose public key is registered with it. */
async function keyClient() {
  const tenant = await newTenant()
  const key = await keyPair('ES256')
  const { clientId } = await addClient(tenant, { auth: { method: 'private_key_jwt', jwk: key.jwk } })
  const sign = (claims: Record<string, unknown> = {}) =>
    assertion({ ...key, kid: key.jwk.kid }, { iss: clientId, sub: clientId, aud: endpointOf(tenant.id), ...claims })
  return { tenant, key, clientId, sign }
}

/** Entra's federation: the assertion is signed by the customer's Entra tenant, whose keys the hub serves. */
async function federatedClient(options: { audience?: string; explicitJwks?: boolean } = {}) {
  const tenant = await newTenant()
  const key = await keyPair('RS256')
  const { issuer, jwksUri } = await registerIssuer([key.jwk])
  const subject = crypto.randomUUID()
  const appId = crypto.randomUUID()
  const audience = options.audience ?? `api://${appId}/.default`
  const { clientId } = await addClient(tenant, {
    auth: { method: 'federated', issuer, subject, audience, ...(options.explicitJwks ? { jwksUrl: jwksUri } : {}) },
  })
  // Entra's token: aud is the workload identity app (no /.default), and there is no jti.
  const sign = (claims: Record<string, unknown> = {}) =>
    assertion(
      { ...key, kid: key.jwk.kid },
      {
        iss: issuer,
        sub: subject,
        aud: `api://${appId}`,
        jti: undefined,
        tid: crypto.randomUUID(),
        ver: '2.0',
        ...claims,
      },
    )
  return { tenant, key, clientId, issuer, jwksUri, subject, appId, sign }
}

describe('private_key_jwt with a registered key', () => {
  it("issues a token for an assertion signed by the client's key, with or without client_id", async () => {
    const { tenant, clientId, sign } = await keyClient()
    const token = await expectToken(await assertionRequest(tenant, await sign(), clientId))
    expect(decodeJwt(token)).toMatchObject({ sub: clientId, scope: 'scim:read scim:write' })
    await expectToken(await assertionRequest(tenant, await sign()))
    // The issuer URL is an accepted audience too (RFC 7523 §3).
    await expectToken(await assertionRequest(tenant, await sign({ aud: issuerOf(tenant.id) }), clientId))
  })

  it('works with EdDSA, RSA-PSS and a JWKS URL as well', async () => {
    for (const alg of ['EdDSA', 'PS256', 'ES384']) {
      const tenant = await newTenant()
      const key = await keyPair(alg)
      const { clientId } = await addClient(tenant, { auth: { method: 'private_key_jwt', jwk: key.jwk } })
      const jwt = await assertion(
        { ...key, kid: key.jwk.kid },
        { iss: clientId, sub: clientId, aud: endpointOf(tenant.id) },
      )
      await expectToken(await assertionRequest(tenant, jwt, clientId))
    }
    const tenant = await newTenant()
    const key = await keyPair('ES256')
    const { jwksUri } = await registerIssuer([key.jwk])
    const { clientId } = await addClient(tenant, { auth: { method: 'private_key_jwt', jwksUrl: jwksUri } })
    const jwt = await assertion(
      { ...key, kid: key.jwk.kid },
      { iss: clientId, sub: clientId, aud: endpointOf(tenant.id) },
    )
    await expectToken(await assertionRequest(tenant, jwt, clientId))
  })

  it('refuses expired, not-yet-valid, future-issued, over-long and exp-less assertions', async () => {
    const { tenant, clientId, sign } = await keyClient()
    const now = Math.floor(Date.now() / 1000)
    await expectRefused(
      await assertionRequest(tenant, await sign({ iat: now - 900, exp: now - 300 }), clientId),
      /expired/,
    )
    await expectRefused(await assertionRequest(tenant, await sign({ nbf: now + 600, exp: now + 900 }), clientId), /nbf/)
    await expectRefused(
      await assertionRequest(tenant, await sign({ iat: now + 600, exp: now + 900 }), clientId),
      /iat|future/,
    )
    await expectRefused(await assertionRequest(tenant, await sign({ exp: now + 3 * 86_400 }), clientId), /24 hours/)
    await expectRefused(await assertionRequest(tenant, await sign({ exp: undefined }), clientId), /exp/)
    // Within the 60 s skew, a slightly early nbf passes.
    await expectToken(await assertionRequest(tenant, await sign({ nbf: now + 20 }), clientId))
  })

  it('refuses a wrong audience, issuer or subject', async () => {
    const { tenant, clientId, sign } = await keyClient()
    const other = await newTenant()
    await expectRefused(await assertionRequest(tenant, await sign({ aud: endpointOf(other.id) }), clientId), /aud/)
    await expectRefused(
      await assertionRequest(tenant, await sign({ aud: 'https://login.example.com/token' }), clientId),
      /aud/,
    )
    await expectRefused(await assertionRequest(tenant, await sign({ iss: 'someone-else' }), clientId), /iss/)
    await expectRefused(await assertionRequest(tenant, await sign({ sub: 'someone-else' }), clientId), /sub/)
  })

  it('refuses alg none, HS256 keyed with the public key, a tampered payload and a foreign key', async () => {
    const { tenant, key, clientId, sign } = await keyClient()
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: clientId,
      sub: clientId,
      aud: endpointOf(tenant.id),
      iat: now,
      exp: now + 300,
      jti: crypto.randomUUID(),
    }
    await expectRefused(await assertionRequest(tenant, unsignedJwt({ alg: 'none' }, claims), clientId), /algorithm/)
    await expectRefused(
      await assertionRequest(tenant, unsignedJwt({ alg: 'none', kid: key.jwk.kid }, claims), clientId),
    )
    // Key confusion: an HMAC whose key is the public key, as PEM and as JWK text.
    const pem = await exportSPKI(
      (await crypto.subtle.importKey('jwk', key.jwk as JsonWebKey, { name: 'ECDSA', namedCurve: 'P-256' }, true, [
        'verify',
      ])) as never,
    )
    for (const secret of [pem, JSON.stringify(key.jwk)])
      await expectRefused(
        await assertionRequest(tenant, await hs256Jwt({ kid: key.jwk.kid }, claims, secret), clientId),
        /algorithm/,
      )
    const good = await sign()
    const [h, p, s] = good.split('.')
    const forged = btoa(JSON.stringify({ ...decodeJwt(good), sub: 'c-admin' }))
      .replace(/=+$/, '')
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
    await expectRefused(await assertionRequest(tenant, `${h}.${forged}.${s}`, clientId), /signature|sub/)
    await expectRefused(await assertionRequest(tenant, `${h}.${p}.${s!.slice(0, -4)}AAAA`, clientId), /signature/)
    const stranger = await keyPair('ES256', key.jwk.kid)
    const foreign = await assertion(
      { ...stranger, kid: key.jwk.kid },
      { iss: clientId, sub: clientId, aud: endpointOf(tenant.id) },
    )
    await expectRefused(await assertionRequest(tenant, foreign, clientId), /signature/)
    await expectRefused(await assertionRequest(tenant, 'not.a.jwt', clientId))
  })

  it('refuses a replayed jti until it expires, and a secret client sending an assertion', async () => {
    const { tenant, clientId, sign } = await keyClient()
    const once = await sign()
    await expectToken(await assertionRequest(tenant, once, clientId))
    await expectRefused(await assertionRequest(tenant, once, clientId), /used before/)
    const secretClient = await addClient(tenant)
    await expectRefused(await assertionRequest(tenant, once, secretClient.clientId), /secret/)
    const { results } = await env.DB.prepare('SELECT jti, expires_at FROM used_assertions WHERE tenant_id = ?')
      .bind(tenant.key)
      .all()
    expect(results).toHaveLength(1)
  })

  it('refuses a client assertion sent with a wrong client_assertion_type', async () => {
    const { tenant, clientId, sign } = await keyClient()
    const res = await tokenRequest(tenant.id, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      client_assertion: await sign(),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request')
  })
})

describe('workload identity federation (Entra)', () => {
  it("issues a token for Entra's request: client_id, an Entra-signed assertion without jti, scope=scim", async () => {
    const { tenant, clientId, sign } = await federatedClient()
    const token = await expectToken(await assertionRequest(tenant, await sign(), clientId, 'scim'))
    expect(decodeJwt(token)).toMatchObject({ sub: clientId, scope: 'scim:read scim:write', tenant: tenant.id })
    // Entra's tokens may carry no jti: the same assertion works again until it expires.
    const again = await sign()
    await expectToken(await assertionRequest(tenant, again, clientId, 'scim.readwrite'))
    await expectToken(await assertionRequest(tenant, again, clientId, 'scim.readwrite'))
    // Without client_id the issuer and subject find the client.
    await expectToken(await assertionRequest(tenant, await sign()))
  })

  it("uses an explicit JWKS URL, and picks up the issuer's rotated key by kid", async () => {
    const { tenant, clientId, sign, jwksUri } = await federatedClient({ explicitJwks: true })
    await expectToken(await assertionRequest(tenant, await sign(), clientId))
    const next = await keyPair('RS256')
    await fetch(jwksUri, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: [next.jwk] }),
    })
    const { issuer, subject, appId } = await (async () => {
      const doc = JSON.parse((await env.TENANTS.get(`tenant:${tenant.id}`))!)
      const auth = doc.credentials.find((c: { id: string }) => c.id === clientId).auth
      return {
        issuer: auth.issuer,
        subject: auth.subject,
        appId: auth.audience.replace(/^api:\/\//, '').replace(/\/\.default$/, ''),
      }
    })()
    // The key set is refetched for an unknown kid at most once a second.
    await new Promise((r) => setTimeout(r, 1100))
    const rotated = await assertion(
      { ...next, kid: next.jwk.kid },
      { iss: issuer, sub: subject, aud: `api://${appId}` },
    )
    await expectToken(await assertionRequest(tenant, rotated, clientId))
  })

  it('refuses another Entra tenant, another subject, another audience, and a self-signed forgery', async () => {
    const { tenant, clientId, sign, key } = await federatedClient()
    await expectRefused(
      await assertionRequest(
        tenant,
        await sign({ iss: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0' }),
        clientId,
      ),
      /iss/,
    )
    await expectRefused(await assertionRequest(tenant, await sign({ sub: crypto.randomUUID() }), clientId), /sub/)
    await expectRefused(
      await assertionRequest(tenant, await sign({ aud: `api://${crypto.randomUUID()}` }), clientId),
      /aud/,
    )
    await expectRefused(await assertionRequest(tenant, await sign({ aud: endpointOf(tenant.id) }), clientId), /aud/)
    const attacker = await keyPair('RS256', key.jwk.kid)
    const forged = await assertion({ ...attacker, kid: key.jwk.kid }, { ...decodeJwt(await sign()) })
    await expectRefused(await assertionRequest(tenant, forged, clientId), /signature/)
    const now = Math.floor(Date.now() / 1000)
    await expectRefused(
      await assertionRequest(tenant, await sign({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }), clientId),
      /expired/,
    )
  })

  it('defaults the audience to the token endpoint when none is configured', async () => {
    const { tenant, clientId, sign } = await federatedClient({ audience: '' })
    await expectRefused(await assertionRequest(tenant, await sign(), clientId), /aud/)
    await expectToken(await assertionRequest(tenant, await sign({ aud: endpointOf(tenant.id) }), clientId))
  })
})
