/**
 * The token endpoint's client credentials grant with a client secret (RFC 6749 §4.4, §2.3.1), its
 * refusals in RFC 6749 §5.2's shape, scopes, lifetimes and lockout.
 */
import { env, SELF } from 'cloudflare:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { newTenant } from '../helpers/tenant.ts'
import { accessToken, addClient, basicAuth, endpointOf, issuerOf, tokenRequest, updateDoc } from './helpers.ts'

async function refused(res: Response, status: number, error: string) {
  const body = (await res.json()) as { error: string; error_description: string }
  expect({ status: res.status, error: body.error }, body.error_description).toEqual({ status, error })
  expect(body.error_description.length).toBeGreaterThan(10)
  expect(res.headers.get('cache-control')).toBe('no-store')
  return body
}

describe('client credentials with a client secret', () => {
  it('issues a one-hour ES256 access token by client_secret_basic, naming tenant, client and scope', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    const res = await tokenRequest(
      tenant.id,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(clientId, secret!) },
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('pragma')).toBe('no-cache')
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'scim:read scim:write' })
    const token = body.access_token as string
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: 'test-signing-key' })
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({
      iss: issuerOf(tenant.id),
      aud: tenant.baseUrl,
      sub: clientId,
      client_id: clientId,
      tenant: tenant.id,
      scope: 'scim:read scim:write',
    })
    expect(claims.exp! - claims.iat!).toBe(3600)
  })

  it('accepts client_secret_post, and the Entra scope names scim and scim.readwrite', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    for (const scope of ['scim', 'scim.readwrite', 'scim:read scim:write']) {
      const res = await tokenRequest(tenant.id, {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret!,
        scope,
      })
      expect(res.status, scope).toBe(200)
      expect(((await res.json()) as { scope: string }).scope).toBe('scim:read scim:write')
    }
    const read = await tokenRequest(tenant.id, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret!,
      scope: 'scim:read',
    })
    expect(((await read.json()) as { scope: string }).scope).toBe('scim:read')
  })

  it('lets the tenant set the token lifetime (60 to 360 minutes) and never outlives the client', async () => {
    const tenant = await newTenant()
    await updateDoc(tenant.id, (doc) => (doc.settings.accessTokenMinutes = 360))
    const { clientId, secret } = await addClient(tenant)
    const long = decodeJwt(await accessToken(tenant.id, clientId, secret!))
    expect(long.exp! - long.iat!).toBe(360 * 60)

    await updateDoc(tenant.id, (doc) => (doc.settings.accessTokenMinutes = 5))
    const clamped = decodeJwt(await accessToken(tenant.id, clientId, secret!))
    expect(clamped.exp! - clamped.iat!).toBe(60 * 60)

    const soon = new Date(Date.now() + 10 * 60_000).toISOString()
    const short = await addClient(tenant, { expiresAt: soon })
    const res = await tokenRequest(
      tenant.id,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(short.clientId, short.secret!) },
    )
    const body = (await res.json()) as { expires_in: number; access_token: string }
    expect(body.expires_in).toBeLessThanOrEqual(600)
    expect(decodeJwt(body.access_token).exp).toBe(Math.floor(Date.parse(soon) / 1000))
  })

  it('keeps several clients of one tenant apart, each with its own secret', async () => {
    const tenant = await newTenant()
    const a = await addClient(tenant)
    const b = await addClient(tenant)
    expect(decodeJwt(await accessToken(tenant.id, a.clientId, a.secret!)).sub).toBe(a.clientId)
    expect(decodeJwt(await accessToken(tenant.id, b.clientId, b.secret!)).sub).toBe(b.clientId)
    await refused(
      await tokenRequest(
        tenant.id,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(a.clientId, b.secret!) },
      ),
      401,
      'invalid_client',
    )
  })
})

describe('refusals (RFC 6749 §5.2)', () => {
  it("answers a wrong secret, an unknown client and another tenant's client with 401 invalid_client and WWW-Authenticate", async () => {
    const tenant = await newTenant()
    const other = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    const theirs = await addClient(other)
    for (const authorization of [
      basicAuth(clientId, `${secret}x`),
      basicAuth('cunknownclient234', secret!),
      basicAuth(theirs.clientId, theirs.secret!),
    ]) {
      const res = await tokenRequest(tenant.id, { grant_type: 'client_credentials' }, { authorization })
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
      await refused(res, 401, 'invalid_client')
    }
    await refused(
      await tokenRequest(
        'no-such-tenant',
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(clientId, secret!) },
      ),
      401,
      'invalid_client',
    )
  })

  it('refuses a static Basic credential at the token endpoint: only OAuth clients get tokens', async () => {
    const tenant = await newTenant()
    await refused(
      await tokenRequest(
        tenant.id,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(tenant.username, tenant.password) },
      ),
      401,
      'invalid_client',
    )
  })

  it('refuses an expired client, a revoked client and a disabled tenant', async () => {
    const tenant = await newTenant()
    const expired = await addClient(tenant, { expiresAt: new Date(Date.now() - 1000).toISOString() })
    const body = await refused(
      await tokenRequest(
        tenant.id,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(expired.clientId, expired.secret!) },
      ),
      401,
      'invalid_client',
    )
    expect(body.error_description).toMatch(/expired/)

    const revoked = await addClient(tenant)
    await accessToken(tenant.id, revoked.clientId, revoked.secret!)
    await updateDoc(tenant.id, (doc) => (doc.credentials = doc.credentials.filter((c) => c.id !== revoked.clientId)))
    await refused(
      await tokenRequest(
        tenant.id,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(revoked.clientId, revoked.secret!) },
      ),
      401,
      'invalid_client',
    )

    const live = await addClient(tenant)
    await updateDoc(tenant.id, (doc) => (doc.status = 'disabled'))
    const disabled = await refused(
      await tokenRequest(
        tenant.id,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(live.clientId, live.secret!) },
      ),
      401,
      'invalid_client',
    )
    expect(disabled.error_description).toMatch(/disabled/)
  })

  it('answers other grants with unsupported_grant_type and a missing grant_type with invalid_request', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    const authorization = basicAuth(clientId, secret!)
    for (const grant of [
      'authorization_code',
      'password',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ])
      await refused(
        await tokenRequest(tenant.id, { grant_type: grant }, { authorization }),
        400,
        'unsupported_grant_type',
      )
    await refused(await tokenRequest(tenant.id, {}, { authorization }), 400, 'invalid_request')
  })

  it('answers unknown and ungranted scopes with invalid_scope', async () => {
    const tenant = await newTenant()
    const reader = await addClient(tenant, { scope: ['scim:read'] })
    const authorization = basicAuth(reader.clientId, reader.secret!)
    await refused(
      await tokenRequest(tenant.id, { grant_type: 'client_credentials', scope: 'admin' }, { authorization }),
      400,
      'invalid_scope',
    )
    const beyond = await refused(
      await tokenRequest(tenant.id, { grant_type: 'client_credentials', scope: 'scim:write' }, { authorization }),
      400,
      'invalid_scope',
    )
    expect(beyond.error_description).toContain('scim:read')
    // Entra's "everything" alias gives a read-only client what it has.
    const res = await tokenRequest(tenant.id, { grant_type: 'client_credentials', scope: 'scim' }, { authorization })
    expect(((await res.json()) as { scope: string }).scope).toBe('scim:read')
  })

  it('refuses two authentication methods, repeated parameters, a non-form body and other methods', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    await refused(
      await tokenRequest(
        tenant.id,
        { grant_type: 'client_credentials', client_id: clientId, client_secret: secret! },
        { authorization: basicAuth(clientId, secret!) },
      ),
      400,
      'invalid_request',
    )
    const twice = await SELF.fetch(endpointOf(tenant.id), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, secret!) },
      body: 'grant_type=client_credentials&scope=scim&scope=scim',
    })
    await refused(twice, 400, 'invalid_request')
    const json = await SELF.fetch(endpointOf(tenant.id), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(clientId, secret!) },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    })
    await refused(json, 400, 'invalid_request')
    const get = await SELF.fetch(endpointOf(tenant.id))
    expect(get.headers.get('allow')).toBe('POST')
    await refused(get, 405, 'invalid_request')
    await refused(await tokenRequest(tenant.id, { grant_type: 'client_credentials' }), 401, 'invalid_client')
  })

  it('locks a client address out after repeated invalid_client, before looking at credentials', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    const address = `198.51.100.${Math.floor(Math.random() * 200) + 1}`
    let status = 0
    // AUTH_FAILURES_BY_TENANT allows 40 per minute in tests; the tenant locks out within that.
    for (let i = 0; i < 60 && status !== 429; i++) {
      const res = await tokenRequest(
        tenant.id,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(clientId, 'wrong'), 'cf-connecting-ip': address },
      )
      status = res.status
      await res.arrayBuffer()
    }
    expect(status).toBe(429)
    const locked = await tokenRequest(
      tenant.id,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(clientId, secret!), 'cf-connecting-ip': address },
    )
    expect(locked.status).toBe(429)
    expect(locked.headers.get('retry-after')).toBe('60')
    expect(((await locked.json()) as { error: string }).error).toBe('temporarily_unavailable')
  })

  it('answers 503 temporarily_unavailable without signing keys, and the jwks document is then empty', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    const { createApp } = await import('../../src/app.ts')
    const app = createApp()
    const bindings = { ...env, OAUTH_SIGNING_KEYS: undefined }
    const res = await app.request(
      endpointOf(tenant.id),
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, secret!) },
        body: 'grant_type=client_credentials',
      },
      bindings,
    )
    await refused(res, 503, 'temporarily_unavailable')
    const jwks = await app.request(`${env.PUBLIC_URL}/.well-known/jwks.json`, {}, bindings)
    expect(await jwks.json()).toEqual({ keys: [] })
  })
})
