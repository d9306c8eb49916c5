/**
 * SCIM requests with OAuth access tokens: verified with the Worker's public keys, bound to one tenant
 * and client, stopped when the client is revoked or expires or the tenant is disabled, and limited to
 * their scope (RFC 6750 §3.1 insufficient_scope). Scopes on static credentials work the same way.
 */
import { env } from 'cloudflare:test'
import { importJWK, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'
import { accessToken, addClient, basicAuth, hs256Jwt, issuerOf, unsignedJwt, updateDoc } from './helpers.ts'

const signingKey = JSON.parse(env.OAUTH_SIGNING_KEYS!).keys[0]

/** A token signed with the Worker's own key, claims as given (to make expired or misaddressed ones). */
async function ourToken(
  tenant: TestTenant,
  clientId: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
) {
  const now = Math.floor(Date.now() / 1000)
  const payload = {
    iss: issuerOf(tenant.id),
    aud: tenant.baseUrl,
    sub: clientId,
    client_id: clientId,
    tenant: tenant.id,
    scope: 'scim:read scim:write',
    iat: now,
    exp: now + 3600,
    ...claims,
  }
  const key = await importJWK(signingKey, 'ES256')
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: signingKey.kid, typ: 'at+jwt', ...header })
    .sign(key)
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

async function status(tenant: TestTenant, token: string, path = '/Users'): Promise<number> {
  const res = await tenant.fetch(path, { headers: bearer(token) })
  await res.arrayBuffer()
  return res.status
}

describe('SCIM with an access token', () => {
  it('serves reads and writes with a token of both scopes', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    const token = await accessToken(tenant.id, clientId, secret!)
    const created = await tenant.fetch('/Users', {
      method: 'POST',
      headers: bearer(token),
      json: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada@example.com', active: true },
    })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    expect(await status(tenant, token, `/Users/${id}`)).toBe(200)
    const { results } = await env.DB.prepare(
      "SELECT credential_id FROM audit_events WHERE tenant_id = ? AND resource_id = ? AND action NOT LIKE 'invite-%'",
    )
      .bind(tenant.key, id)
      .all()
    expect(results).toEqual([{ credential_id: clientId }])
  })

  it('refuses an expired token, one for another tenant or client, and a token not of our keys', async () => {
    const tenant = await newTenant()
    const other = await newTenant()
    const { clientId } = await addClient(tenant)
    expect(await status(tenant, await ourToken(tenant, clientId))).toBe(200)
    const now = Math.floor(Date.now() / 1000)
    expect(await status(tenant, await ourToken(tenant, clientId, { iat: now - 7300, exp: now - 3700 }))).toBe(401)
    expect(await status(tenant, await ourToken(tenant, clientId, { aud: other.baseUrl }))).toBe(401)
    expect(await status(tenant, await ourToken(tenant, clientId, { iss: issuerOf(other.id) }))).toBe(401)
    expect(await status(tenant, await ourToken(tenant, clientId, { tenant: other.id }))).toBe(401)
    expect(await status(tenant, await ourToken(tenant, 'cunknownclient234'))).toBe(401)
    expect(await status(tenant, await ourToken(tenant, clientId, {}, { typ: 'JWT' }))).toBe(401)
    // A token of another tenant's client, valid there, is refused here.
    const theirs = await addClient(other)
    const theirToken = await accessToken(other.id, theirs.clientId, theirs.secret!)
    expect(await status(other, theirToken)).toBe(200)
    expect(await status(tenant, theirToken)).toBe(401)
  })

  it('refuses alg none, HS256 keyed with our public key, a tampered token and an unknown kid', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    const good = await accessToken(tenant.id, clientId, secret!)
    const [h, p, s] = good.split('.')
    const claims = JSON.parse(atob(p!.replace(/-/g, '+').replace(/_/g, '/')))
    expect(await status(tenant, unsignedJwt({ alg: 'none', typ: 'at+jwt' }, claims))).toBe(401)
    const { d: _d, ...publicJwk } = signingKey
    const hs = await hs256Jwt({ kid: signingKey.kid, typ: 'at+jwt' }, claims, JSON.stringify(publicJwk))
    expect(await status(tenant, hs)).toBe(401)
    const widened = btoa(JSON.stringify({ ...claims, tenant: 'x', scope: 'scim:read scim:write admin' }))
      .replace(/=+$/, '')
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
    expect(await status(tenant, `${h}.${widened}.${s}`)).toBe(401)
    expect(await status(tenant, `${h}.${p}.${s!.slice(0, -4)}AAAA`)).toBe(401)
    expect(await status(tenant, await ourToken(tenant, clientId, {}, { kid: 'retired-key' }))).toBe(401)
    const res = await tenant.fetch('/Users', { headers: bearer(hs) })
    expect(res.headers.get('www-authenticate')).toContain('Bearer')
    expect(await res.json()).toMatchObject({ status: '401' })
  })

  it('stops a token when its client is revoked or expires, or the tenant is disabled', async () => {
    const tenant = await newTenant()
    const revoked = await addClient(tenant)
    const expiring = await addClient(tenant)
    const revokedToken = await accessToken(tenant.id, revoked.clientId, revoked.secret!)
    const expiringToken = await accessToken(tenant.id, expiring.clientId, expiring.secret!)
    expect(await status(tenant, revokedToken)).toBe(200)
    await updateDoc(tenant.id, (doc) => {
      doc.credentials = doc.credentials.filter((c) => c.id !== revoked.clientId)
      doc.credentials.find((c) => c.id === expiring.clientId)!.expiresAt = new Date(Date.now() - 1000).toISOString()
    })
    expect(await status(tenant, revokedToken)).toBe(401)
    expect(await status(tenant, expiringToken)).toBe(401)
    const live = await addClient(tenant)
    const liveToken = await accessToken(tenant.id, live.clientId, live.secret!)
    await updateDoc(tenant.id, (doc) => (doc.status = 'disabled'))
    // A valid token of a disabled tenant is told so (403), so the IdP admin calls support.
    expect(await status(tenant, liveToken)).toBe(403)
  })

  it('verifies tokens of the previous key during a rotation, and only with keys in OAUTH_SIGNING_KEYS', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant)
    const { exportJWK, generateKeyPair } = await import('jose')
    const fresh = {
      ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)),
      kid: 'next-key',
      alg: 'ES256',
    }
    const app = createApp()
    const rotated = { ...env, OAUTH_SIGNING_KEYS: JSON.stringify({ keys: [fresh, signingKey] }) }
    const ask = (bindings: typeof env, init: RequestInit) => app.request(`${tenant.baseUrl}/Users`, init, bindings)
    const before = await accessToken(tenant.id, clientId, secret!)
    expect((await ask(rotated, { headers: bearer(before) })).status).toBe(200)
    const res = await app.request(
      `${issuerOf(tenant.id)}/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, secret!) },
        body: 'grant_type=client_credentials',
      },
      rotated,
    )
    const after = ((await res.json()) as { access_token: string }).access_token
    expect(JSON.parse(atob(after.split('.')[0]!))).toMatchObject({ kid: 'next-key' })
    expect((await ask(rotated, { headers: bearer(after) })).status).toBe(200)
    // Once the old key is dropped its tokens stop; the Worker that never had the new key refuses the new token.
    expect(
      (await ask({ ...env, OAUTH_SIGNING_KEYS: JSON.stringify({ keys: [fresh] }) }, { headers: bearer(before) }))
        .status,
    ).toBe(401)
    expect(await status(tenant, after)).toBe(401)
    const jwks = (await (await app.request('http://x/.well-known/jwks.json', {}, rotated)).json()) as {
      keys: Record<string, unknown>[]
    }
    expect(jwks.keys.map((k) => k.kid)).toEqual(['next-key', signingKey.kid])
    for (const k of jwks.keys) expect(k).not.toHaveProperty('d')
  })

  it('lets a client made a moment ago work at once although the tenant document is cached', async () => {
    const tenant = await newTenant()
    const app = createApp()
    const cached = { ...env, TENANT_CACHE_SECONDS: '30' }
    expect(
      (await app.request(`${tenant.baseUrl}/Users`, { headers: { authorization: tenant.basic } }, cached)).status,
    ).toBe(200)
    const { clientId, secret } = await addClient(tenant)
    const res = await app.request(
      `${issuerOf(tenant.id)}/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, secret!) },
        body: 'grant_type=client_credentials',
      },
      cached,
    )
    expect(res.status).toBe(200)
    const token = ((await res.json()) as { access_token: string }).access_token
    expect((await app.request(`${tenant.baseUrl}/Users`, { headers: bearer(token) }, cached)).status).toBe(200)
  })
})

describe('scopes', () => {
  const writes = (userId: string, groupId: string): [string, string, unknown?][] => [
    ['POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'new@example.com' }],
    [
      'PUT',
      `/Users/${userId}`,
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ro@example.com', active: false },
    ],
    [
      'PATCH',
      `/Users/${userId}`,
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      },
    ],
    ['DELETE', `/Users/${userId}`],
    ['POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'New' }],
    ['PUT', `/Groups/${groupId}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Renamed' }],
    [
      'PATCH',
      `/Groups/${groupId}`,
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: 'R' }],
      },
    ],
    ['DELETE', `/Groups/${groupId}`],
    ['POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] }],
  ]

  async function seeded(tenant: TestTenant) {
    const user = await tenant.fetch('/Users', {
      method: 'POST',
      json: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ro@example.com' },
    })
    const group = await tenant.fetch('/Groups', {
      method: 'POST',
      json: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Team' },
    })
    return { userId: ((await user.json()) as { id: string }).id, groupId: ((await group.json()) as { id: string }).id }
  }

  async function expectReadOnly(tenant: TestTenant, authorization: string, ids: { userId: string; groupId: string }) {
    for (const [method, path, body] of writes(ids.userId, ids.groupId)) {
      const res = await tenant.fetch(path, { method, headers: { authorization }, json: body })
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(res.headers.get('www-authenticate'), `${method} ${path}`).toBe(
        'Bearer realm="scim-edge", error="insufficient_scope", scope="scim:write"',
      )
      expect(((await res.json()) as { detail: string }).detail).toContain('insufficient_scope')
    }
    for (const path of [
      '/Users',
      `/Users/${ids.userId}`,
      '/Groups',
      `/Groups/${ids.groupId}`,
      '/ServiceProviderConfig',
      '/Schemas',
    ])
      expect((await tenant.fetch(path, { headers: { authorization } })).status, path).toBe(200)
    const search = await tenant.fetch('/Users/.search', {
      method: 'POST',
      headers: { authorization },
      json: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: 'userName eq "ro@example.com"',
      },
    })
    expect(search.status).toBe(200)
    // Nothing was changed by the refused writes.
    const user = (await (await tenant.fetch(`/Users/${ids.userId}`)).json()) as { active: boolean; userName: string }
    expect(user).toMatchObject({ userName: 'ro@example.com', active: true })
  }

  it('refuses every write of a read-only token with 403 insufficient_scope; reads and .search work', async () => {
    const tenant = await newTenant()
    const ids = await seeded(tenant)
    const { clientId, secret } = await addClient(tenant, { scope: ['scim:read'] })
    await expectReadOnly(tenant, `Bearer ${await accessToken(tenant.id, clientId, secret!)}`, ids)
    // A full client asking for scim:read alone gets a read-only token.
    const full = await addClient(tenant)
    await expectReadOnly(
      tenant,
      `Bearer ${await accessToken(tenant.id, full.clientId, full.secret!, 'scim:read')}`,
      ids,
    )
  })

  it('narrows a live token when support narrows its client', async () => {
    const tenant = await newTenant()
    const ids = await seeded(tenant)
    const { clientId, secret } = await addClient(tenant)
    const token = await accessToken(tenant.id, clientId, secret!)
    await updateDoc(tenant.id, (doc) => (doc.credentials.find((c) => c.id === clientId)!.scope = ['scim:read']))
    await expectReadOnly(tenant, `Bearer ${token}`, ids)
  })

  it('limits static Basic and bearer credentials by their scope and expiry too', async () => {
    const tenant = await newTenant()
    const ids = await seeded(tenant)
    await updateDoc(tenant.id, (doc) => {
      for (const c of doc.credentials) c.scope = ['scim:read']
    })
    await expectReadOnly(tenant, tenant.basic, ids)
    await expectReadOnly(tenant, tenant.bearer, ids)
    await updateDoc(tenant.id, (doc) => {
      for (const c of doc.credentials) c.expiresAt = new Date(Date.now() - 1000).toISOString()
    })
    expect((await tenant.fetch('/Users')).status).toBe(401)
    expect((await tenant.fetch('/Users', { headers: { authorization: tenant.bearer } })).status).toBe(401)
  })

  it('a write-only token cannot read', async () => {
    const tenant = await newTenant()
    const { clientId, secret } = await addClient(tenant, { scope: ['scim:write'] })
    const token = await accessToken(tenant.id, clientId, secret!)
    const res = await tenant.fetch('/Users', { headers: bearer(token) })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toContain('scope="scim:read"')
  })
})
