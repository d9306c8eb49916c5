/**
 * The support CLI's OAuth commands end to end, against the real Worker under `wrangler dev`
 * (test/node/worker-server.ts) and its local KV and D1: `oauth-client create|list|revoke` (secret,
 * public key, federated), `--expires` and `--scope` on every credential, `show` with last-used days,
 * `set`, and `signing-key generate` checked with the Worker's own key set rules.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parseSigningKeys, signingKeys } from '../../src/oauth/signing-keys.ts'
import { main } from '../../src/tenants/cli.ts'
import { MAX_EXPIRY_DAYS } from '../../src/tenants/credentials.ts'
import type { OAuthClientCredential, TenantDocument } from '../../src/tenants/document.ts'
import { createWranglerTenantStore } from '../../src/tenants/kv-store.ts'
import { sha256Hex } from '../../src/tenants/secrets.ts'
import { runCli } from './cli-harness.ts'
import { eventually, startTestWorker, type TestWorker } from './worker-server.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const DAY_MS = 86_400_000

let worker: TestWorker
let tenantId: string
let keyDir: string

beforeAll(async () => {
  worker = await startTestWorker([{ appUrl: 'https://app.example.com' }])
  tenantId = worker.tenants[0]!.id
  keyDir = mkdtempSync(join(tmpdir(), 'scim-edge-keys-'))
}, 120_000)

afterAll(async () => {
  await worker?.close()
  if (keyDir) rmSync(keyDir, { recursive: true, force: true })
})

/** The CLI in-process on the Worker's KV and D1; with `--json`, stdout must be exactly one JSON object. */
async function cli(...args: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await main([...args, '--persist-to', worker.persistTo, '--public-url', worker.url], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: {},
  })
  let json: any
  if (args.includes('--json')) {
    json = JSON.parse(stdout)
    expect(json && typeof json === 'object' && !Array.isArray(json), stdout).toBe(true)
  }
  return { code, stdout, stderr, json }
}

/** The stored document, hashes included. */
function stored(id: string): Promise<TenantDocument | undefined> {
  return createWranglerTenantStore({ remote: false, persistTo: worker.persistTo }).get(id)
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

function tokenRequest(endpoint: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...form }).toString(),
  })
}

/** An access token for a secret client (client_secret_basic); fails the test when none is issued. */
async function secretToken(endpoint: string, clientId: string, secret: string) {
  const res = await tokenRequest(endpoint, {}, { authorization: basic(clientId, secret) })
  const body = (await res.json()) as { access_token: string; scope: string; expires_in: number; token_type: string }
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body
}

/** A client assertion (RFC 7523): iss and sub as given, audience the token endpoint, five minutes. */
function assertion(
  key: CryptoKey,
  header: { alg: string; kid?: string },
  claims: { iss: string; sub: string; aud: string },
) {
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(claims.iss)
    .setSubject(claims.sub)
    .setAudience(claims.aud)
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(crypto.randomUUID())
    .sign(key)
}

function scim(id: string, path: string, authorization: string, init: RequestInit = {}) {
  return fetch(`${worker.url}/scim/v2/${id}${path}`, {
    ...init,
    headers: { authorization, 'content-type': 'application/scim+json' },
  })
}

function createUser(id: string, authorization: string) {
  const userName = `u-${crypto.randomUUID().slice(0, 8)}@example.com`
  return scim(id, '/Users', authorization, { method: 'POST', body: JSON.stringify({ schemas: [USER], userName }) })
}

function keyFile(name: string, text: string): string {
  const file = join(keyDir, name)
  writeFileSync(file, text)
  return file
}

function daysFromNow(iso: string): number {
  return (Date.parse(iso) - Date.now()) / DAY_MS
}

describe('oauth-client create (client secret) and the token endpoint', () => {
  let first: Record<string, string>

  test('--json prints the client once; its token reads and writes Users', async () => {
    const run = await cli('oauth-client', 'create', tenantId, '--json')
    expect(run.code, run.stderr).toBe(0)
    first = run.json
    expect(first).toMatchObject({
      tenantId,
      clientId: expect.stringMatching(/^c[a-z2-7]{15}$/),
      clientSecret: expect.any(String),
      tokenEndpoint: `${worker.url}/oauth/${tenantId}/token`,
      scope: 'scim:read scim:write',
    })
    // Two years by default.
    expect(daysFromNow(first.expiresAt!)).toBeGreaterThan(729)
    expect(daysFromNow(first.expiresAt!)).toBeLessThan(732)

    const doc = (await stored(tenantId))!
    const client = doc.credentials.find((c) => c.id === first.clientId) as OAuthClientCredential
    expect(client).toMatchObject({ kind: 'oauth-client', expiresAt: first.expiresAt })
    expect(client.auth).toEqual({ method: 'client_secret', secretSha256: await sha256Hex(first.clientSecret!) })
    expect(JSON.stringify(doc)).not.toContain(first.clientSecret)

    const token = await secretToken(first.tokenEndpoint!, first.clientId!, first.clientSecret!)
    expect(token).toMatchObject({ token_type: 'Bearer', scope: 'scim:read scim:write', expires_in: 3600 })
    const bearer = `Bearer ${token.access_token}`
    expect((await scim(tenantId, '/Users', bearer)).status).toBe(200)
    expect((await createUser(tenantId, bearer)).status).toBe(201)
  })

  test('several clients are active at once; the human output has what an admin pastes', async () => {
    const run = await cli('oauth-client', 'create', tenantId)
    expect(run.code, run.stderr).toBe(0)
    for (const label of ['Client ID', 'Client secret', 'Token URL', 'Base URL', 'Scope', 'Expires'])
      expect(run.stdout).toMatch(new RegExp(`^\\s+${label}:\\s+\\S`, 'm'))
    expect(run.stdout).toMatch(/shown once/)
    const clientId = /Client ID:\s+(\S+)/.exec(run.stdout)![1]!
    const secret = /Client secret:\s+(\S+)/.exec(run.stdout)![1]!
    await secretToken(first.tokenEndpoint!, clientId, secret)
    await secretToken(first.tokenEndpoint!, first.clientId!, first.clientSecret!)
  })

  test('a --scope scim:read client reads but may not write (403)', async () => {
    const run = await cli('oauth-client', 'create', tenantId, '--scope', 'scim:read', '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.scope).toBe('scim:read')
    const token = await secretToken(run.json.tokenEndpoint, run.json.clientId, run.json.clientSecret)
    expect(token.scope).toBe('scim:read')
    const bearer = `Bearer ${token.access_token}`
    expect((await scim(tenantId, '/Users', bearer)).status).toBe(200)
    expect((await createUser(tenantId, bearer)).status).toBe(403)
  })

  test('list shows every client with method, scope and expiry, never a secret or hash', async () => {
    const run = await cli('oauth-client', 'list', tenantId, '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.tenantId).toBe(tenantId)
    expect(run.json.clients.length).toBeGreaterThanOrEqual(3)
    expect(run.json.clients).toContainEqual(
      expect.objectContaining({
        clientId: first.clientId,
        method: 'client_secret',
        scope: 'scim:read scim:write',
        createdAt: expect.any(String),
        expiresAt: first.expiresAt,
        expired: false,
      }),
    )
    expect(run.json.clients.map((c: { method: string }) => c.method)).not.toContain(undefined)
    expect(run.stdout).not.toMatch(/[0-9a-f]{64}/)
    expect(run.stdout).not.toContain(first.clientSecret)
    // Basic and bearer credentials are not OAuth clients.
    const ids = run.json.clients.map((c: { clientId: string }) => c.clientId)
    expect(ids).not.toContain(worker.tenants[0]!.bearerToken!.split('_')[1])
  })

  test('revoke: the client gets no token any more (401 invalid_client); other credentials are not its business', async () => {
    const run = await cli('oauth-client', 'revoke', tenantId, first.clientId!, '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ tenantId, revoked: first.clientId })
    expect((await stored(tenantId))!.credentials.map((c) => c.id)).not.toContain(first.clientId)
    // The Worker keeps tenant documents for up to TENANT_CACHE_SECONDS (30 s).
    const refused = await eventually(
      async () => {
        const res = await tokenRequest(
          first.tokenEndpoint!,
          {},
          { authorization: basic(first.clientId!, first.clientSecret!) },
        )
        return res.status === 200 ? undefined : { status: res.status, body: (await res.json()) as { error: string } }
      },
      'the revoked client to be refused',
      50_000,
    )
    expect(refused).toEqual({ status: 401, body: expect.objectContaining({ error: 'invalid_client' }) })

    const again = await cli('oauth-client', 'revoke', tenantId, first.clientId!, '--json')
    expect(again.code).toBe(1)
    expect(again.json.error).toMatch(/no OAuth client/)
    const basicId = Buffer.from(worker.tenants[0]!.basic.slice(6), 'base64').toString().split(':')[0]!
    const notOAuth = await cli('oauth-client', 'revoke', tenantId, basicId, '--json')
    expect(notOAuth.code).not.toBe(0)
    expect((await stored(tenantId))!.credentials.map((c) => c.id)).toContain(basicId)
  }, 90_000)
})

describe('oauth-client create with a public key (private_key_jwt)', () => {
  test('a PEM (SPKI) ES256 key: the client signs an assertion and gets a token', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    const file = keyFile('es256.pem', await exportSPKI(publicKey))
    const run = await cli('oauth-client', 'create', tenantId, '--public-key', file, '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).not.toHaveProperty('clientSecret')
    expect(run.json).toMatchObject({
      method: 'private_key_jwt',
      tokenEndpoint: `${worker.url}/oauth/${tenantId}/token`,
    })
    const client = (await stored(tenantId))!.credentials.find(
      (c) => c.id === run.json.clientId,
    ) as OAuthClientCredential
    expect(client.auth).toMatchObject({ method: 'private_key_jwt', jwk: { kty: 'EC', crv: 'P-256' } })
    expect(JSON.stringify(client)).not.toMatch(/"d"/)

    const { clientId, tokenEndpoint } = run.json
    const jwt = await assertion(privateKey, { alg: 'ES256' }, { iss: clientId, sub: clientId, aud: tokenEndpoint })
    const res = await tokenRequest(tokenEndpoint, {
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
      client_id: clientId,
    })
    const body = (await res.json()) as { access_token: string }
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect((await scim(tenantId, '/Users', `Bearer ${body.access_token}`)).status).toBe(200)
  })

  test('a JWK file (Ed25519, with kid) works the same way', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true })
    const jwk = { ...(await exportJWK(publicKey)), kid: 'laptop-1' }
    const run = await cli(
      'oauth-client',
      'create',
      tenantId,
      '--public-key',
      keyFile('ed.json', JSON.stringify(jwk)),
      '--json',
    )
    expect(run.code, run.stderr).toBe(0)
    const { clientId, tokenEndpoint } = run.json
    const jwt = await assertion(
      privateKey,
      { alg: 'EdDSA', kid: 'laptop-1' },
      { iss: clientId, sub: clientId, aud: tokenEndpoint },
    )
    const res = await tokenRequest(tokenEndpoint, { client_assertion_type: ASSERTION_TYPE, client_assertion: jwt })
    expect(res.status, await res.clone().text()).toBe(200)
  })

  test('private keys, symmetric keys and other files are refused; nothing is stored', async () => {
    const before = JSON.stringify(await stored(tenantId))
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const files = {
      'a PKCS#8 private key': keyFile('private.pem', await exportPKCS8(privateKey)),
      'a private JWK': keyFile('private.json', JSON.stringify(await exportJWK(privateKey))),
      'a symmetric JWK': keyFile('oct.json', JSON.stringify({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' })),
      'not a key': keyFile('garbage.txt', 'hello'),
      'a missing file': join(keyDir, 'nope.pem'),
    }
    const runs = await Promise.all(
      Object.values(files).map((file) => cli('oauth-client', 'create', tenantId, '--public-key', file, '--json')),
    )
    for (const [i, what] of Object.keys(files).entries()) {
      expect(runs[i]!.code, what).toBe(2)
      expect(runs[i]!.json.error, what).toMatch(/public-key/)
    }
    expect(runs[0]!.json.error).toMatch(/private/)
    expect(runs[1]!.json.error).toMatch(/private/)
    expect(runs[2]!.json.error).toMatch(/symmetric/)
    expect(JSON.stringify(await stored(tenantId))).toBe(before)
  })
})

describe('oauth-client create for workload identity federation', () => {
  let issuerServer: Server

  afterAll(async () => {
    await new Promise((r) => (issuerServer ? issuerServer.close(r) : r(null)))
  })

  test("the issuer's assertion for the configured subject gets a token; URLs must be https (or loopback)", async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' }
    let issuer = ''
    issuerServer = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      if (req.url === '/.well-known/openid-configuration')
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }))
      else res.end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((r) => issuerServer.listen(0, '127.0.0.1', r))
    const address = issuerServer.address()
    issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`

    const audience = 'api://scim-edge-test'
    const subject = 'workload-7f3a'
    const run = await cli(
      'oauth-client',
      'create',
      tenantId,
      '--federated-issuer',
      issuer,
      '--federated-subject',
      subject,
      '--federated-audience',
      audience,
      '--json',
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ method: 'federated', scope: 'scim:read scim:write' })
    expect(run.json).not.toHaveProperty('clientSecret')
    const jwt = await assertion(
      privateKey,
      { alg: 'RS256', kid: 'idp-key-1' },
      { iss: issuer, sub: subject, aud: audience },
    )
    const res = await tokenRequest(run.json.tokenEndpoint, {
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
      client_id: run.json.clientId,
    })
    expect(res.status, await res.clone().text()).toBe(200)

    const listed = await cli('oauth-client', 'list', tenantId, '--json')
    expect(listed.json.clients).toContainEqual(
      expect.objectContaining({ clientId: run.json.clientId, method: 'federated', issuer, subject, audience }),
    )
  })

  test.concurrent.each([
    [['--jwks-url', 'http://keys.example.com/jwks.json'], /https/],
    [['--federated-issuer', 'http://login.example.com', '--federated-subject', 's'], /https/],
    [['--federated-issuer', 'not a url', '--federated-subject', 's'], /https/],
    [['--federated-issuer', 'https://login.example.com'], /federated-subject/],
    [['--federated-subject', 's'], /federated-issuer/],
    [['--federated-audience', 'a'], /federated-issuer/],
    [['--jwks-url', 'https://keys.example.com/jwks.json', '--public-key', '/dev/null'], /one of/],
    [
      ['--public-key', '/dev/null', '--federated-issuer', 'https://login.example.com', '--federated-subject', 's'],
      /one of/,
    ],
    [['--scope', 'scim:admin'], /unknown scope "scim:admin"/],
    [['--scope', ' '], /scope/],
  ])('%j is refused (exit 2, one JSON error)', async (flags, pattern) => {
    const run = await cli('oauth-client', 'create', tenantId, ...flags, '--json')
    expect(run.code).toBe(2)
    expect(Object.keys(run.json)).toEqual(['error'])
    expect(run.json.error).toMatch(pattern)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
  })

  test('the scope aliases of IdPs are stored in the canonical form', async () => {
    const run = await cli('oauth-client', 'create', tenantId, '--scope', 'scim.readwrite', '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json.scope).toBe('scim:read scim:write')
    const client = (await stored(tenantId))!.credentials.find((c) => c.id === run.json.clientId)!
    expect(client.scope ?? ['scim:read', 'scim:write']).toEqual(['scim:read', 'scim:write'])
  })
})

describe('--expires and --scope', () => {
  const inAYear = new Date(Date.now() + 400 * DAY_MS).toISOString().slice(0, 10)

  test.concurrent.each([
    ['0d', /future/],
    ['4y', /3 years/],
    ['37m', /3 years/],
    [`${MAX_EXPIRY_DAYS + 1}d`, /3 years/],
    ['soon', /invalid --expires/],
    ['10', /invalid --expires/],
    ['1.5y', /invalid --expires/],
    ['2020-01-01', /future/],
    ['2027-02-30', /date/],
    ['', /expires/],
  ])('oauth-client create --expires %j is refused', async (expires, pattern) => {
    const run = await cli('oauth-client', 'create', tenantId, `--expires=${expires}`, '--json')
    expect(run.code).toBe(2)
    expect(run.json.error).toMatch(pattern)
  })

  test.concurrent.each([['create'], ['rotate']])('%s refuses a negative --expires', async (command) => {
    const run = await cli(command, command === 'create' ? 'fresh-tenant' : tenantId, '--expires=-5d', '--json')
    expect(run.code).toBe(2)
    expect(Object.keys(run.json)).toEqual(['error'])
  })

  test('90d and an ISO date are taken as given', async () => {
    const days = await cli('oauth-client', 'create', tenantId, '--expires', '90d', '--json')
    expect(days.code, days.stderr).toBe(0)
    expect(daysFromNow(days.json.expiresAt)).toBeCloseTo(90, 1)
    const date = await cli('oauth-client', 'create', tenantId, '--expires', inAYear, '--json')
    expect(date.code, date.stderr).toBe(0)
    expect(date.json.expiresAt).toBe(`${inAYear}T00:00:00.000Z`)
  })

  test('create and rotate give the Basic and bearer pair an expiry and a scope that the Worker enforces', async () => {
    const id = `ro-${Date.now().toString(36)}`
    const run = await cli('create', id, '--expires', '30d', '--scope', 'scim:read', '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(daysFromNow(run.json.expiresAt)).toBeCloseTo(30, 1)
    const doc = (await stored(id))!
    for (const c of doc.credentials) expect(c).toMatchObject({ expiresAt: run.json.expiresAt, scope: ['scim:read'] })
    const auth = basic(run.json.username, run.json.password)
    expect((await scim(id, '/Users', auth)).status).toBe(200)
    expect((await createUser(id, auth)).status).toBe(403)
    expect((await createUser(id, `Bearer ${run.json.bearerToken}`)).status).toBe(403)

    const rotated = await cli('rotate', id, '--expires', '1y', '--json')
    expect(rotated.code, rotated.stderr).toBe(0)
    expect(daysFromNow(rotated.json.expiresAt)).toBeGreaterThan(364)
    const full = basic(rotated.json.username, rotated.json.password)
    await eventually(
      async () => ((await createUser(id, full)).status === 201 ? true : undefined),
      'the rotated pair to write',
    )
  }, 90_000)
})

describe('show', () => {
  test('lists every credential with kind, method, scope, dates, expiry and the day it was last used', async () => {
    const before = new Date().toISOString().slice(0, 10)
    expect((await scim(tenantId, '/Users', worker.tenants[0]!.basic)).status).toBe(200)
    const basicId = Buffer.from(worker.tenants[0]!.basic.slice(6), 'base64').toString().split(':')[0]!
    // The Worker records the use in the background (once per isolate and day).
    const run = await eventually(
      async () => {
        const r = await cli('show', tenantId, '--json')
        const c = r.json.credentials.find((x: { id: string }) => x.id === basicId)
        return c?.lastUsed ? r : undefined
      },
      'show to list the last use',
      60_000,
    )
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    expect(run.json).toMatchObject({
      tenantId,
      baseUrl: `${worker.url}/scim/v2/${tenantId}`,
      tokenEndpoint: `${worker.url}/oauth/${tenantId}/token`,
    })
    expect(JSON.stringify(run.json)).toMatch(/"accessTokenMinutes":60/)
    const basicView = run.json.credentials.find((c: { id: string }) => c.id === basicId)
    expect(basicView).toMatchObject({
      kind: 'basic',
      scope: 'scim:read scim:write',
      createdAt: expect.any(String),
      expiresAt: null,
      expired: false,
    })
    expect([before, new Date().toISOString().slice(0, 10)]).toContain(basicView.lastUsed)
    const oauthViews = run.json.credentials.filter((c: { kind: string }) => c.kind === 'oauth-client')
    expect(oauthViews.length).toBeGreaterThan(0)
    for (const c of oauthViews) expect(['client_secret', 'private_key_jwt', 'federated']).toContain(c.method)
    // A client that got a token was used too.
    expect(oauthViews.some((c: { lastUsed: string | null }) => c.lastUsed)).toBe(true)
    expect(run.stdout).not.toMatch(/[0-9a-f]{64}/)

    const text = await cli('show', tenantId)
    expect(text.stdout).toContain(`${worker.url}/oauth/${tenantId}/token`)
    expect(text.stdout).toMatch(/never/)
    expect(text.stdout).toContain(basicView.lastUsed)
  }, 90_000)
})

describe('set', () => {
  test.concurrent.each([
    [[], /at least one/],
    [['--access-token-minutes', '30'], /60.*360/],
    [['--access-token-minutes', '361'], /60.*360/],
    [['--access-token-minutes', 'lots'], /60.*360/],
    [['--invite-ttl-days', '0'], /invite-ttl-days/],
    [['--rate-tier', 'Bad Tier!'], /rate-tier/],
    [['--app-url', 'ftp://files.example.com'], /app-url/],
    [['--name', ' '], /name/],
  ])('set %j is refused (exit 2)', async (flags, pattern) => {
    const run = await cli('set', tenantId, ...flags, '--json')
    expect(run.code).toBe(2)
    expect(run.json.error).toMatch(pattern)
  })

  test('changes what it is told, prints it, and tokens follow accessTokenMinutes', async () => {
    const id = `set-${Date.now().toString(36)}`
    expect((await cli('create', id, '--json')).code).toBe(0)
    const run = await cli(
      'set',
      id,
      '--access-token-minutes',
      '120',
      '--invite-ttl-days',
      '14',
      '--name',
      'Renamed',
      '--json',
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({
      tenantId: id,
      changed: { accessTokenMinutes: 120, inviteTtlDays: 14, name: 'Renamed' },
      settings: { accessTokenMinutes: 120, inviteTtlDays: 14 },
    })
    expect(await stored(id)).toMatchObject({
      name: 'Renamed',
      settings: { accessTokenMinutes: 120, inviteTtlDays: 14 },
    })
    const text = await cli('set', id, '--rate-tier', 'off')
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/rateLimitTier/)

    const client = await cli('oauth-client', 'create', id, '--json')
    const token = await secretToken(client.json.tokenEndpoint, client.json.clientId, client.json.clientSecret)
    expect(token.expires_in).toBe(7200)
  }, 90_000)
})

describe('signing-key generate', () => {
  /** The key set a run printed, as the text OAUTH_SIGNING_KEYS holds. */
  function keySetText(json: Record<string, unknown>): string {
    return typeof json.OAUTH_SIGNING_KEYS === 'string' ? json.OAUTH_SIGNING_KEYS : JSON.stringify(json)
  }

  test.concurrent.each([['ES256'], ['EdDSA']])('--alg %s prints a set the Worker accepts', async (alg) => {
    const run = await cli('signing-key', 'generate', '--alg', alg, '--json')
    expect(run.code, run.stderr).toBe(0)
    const { keys, publics } = parseSigningKeys(keySetText(run.json))
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatchObject({ alg, kid: expect.any(String), d: expect.any(String) })
    expect(publics[0]).not.toHaveProperty('d')
    const imported = await signingKeys(keySetText(run.json))!
    expect(imported.signer).toMatchObject({ alg, kid: keys[0]!.kid })
  })

  test('the human output says how to set the secret', async () => {
    const run = await cli('signing-key', 'generate')
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout + run.stderr).toContain('npx wrangler secret put OAUTH_SIGNING_KEYS')
    expect(() => parseSigningKeys(/\{"keys".*\}/.exec(run.stdout)![0])).not.toThrow()
  })

  test('--rotate-from puts the new key first and keeps only the old signer second (file or stdin)', async () => {
    const made = await Promise.all(
      ['ES256', 'EdDSA', 'ES256'].map((alg) => cli('signing-key', 'generate', '--alg', alg, '--json')),
    )
    const old = made.map((m) => parseSigningKeys(keySetText(m.json)).keys[0]!)
    const current = JSON.stringify({ keys: old })
    const file = keyFile('current-keys.json', current)
    const rotated = await cli('signing-key', 'generate', '--rotate-from', file, '--json')
    expect(rotated.code, rotated.stderr).toBe(0)
    const { keys } = parseSigningKeys(keySetText(rotated.json))
    expect(keys.map((k) => k.kid)).toHaveLength(2)
    expect(keys[0]!.kid).not.toBe(old[0]!.kid)
    expect(keys[1]).toEqual(old[0])

    const piped = await runCli(['signing-key', 'generate', '--alg', 'EdDSA', '--rotate-from', '-', '--json'], {
      persistTo: worker.persistTo,
      input: current,
    })
    expect(piped.code, piped.stderr).toBe(0)
    const pipedKeys = parseSigningKeys(keySetText(piped.json)).keys
    expect(pipedKeys.map((k) => k.alg)).toEqual(['EdDSA', old[0]!.alg])
    expect(pipedKeys[1]!.kid).toBe(old[0]!.kid)
  })

  test.concurrent.each([
    [['--alg', 'RS256'], /alg/],
    [['--alg', 'HS256'], /alg/],
    [['--rotate-from', '/nonexistent/keys.json'], /rotate-from/],
    [['--rotate-from', '/dev/null'], /rotate-from/],
  ])('%j is refused with one JSON error', async (flags, pattern) => {
    const run = await cli('signing-key', 'generate', ...flags, '--json')
    expect(run.code).toBe(2)
    expect(Object.keys(run.json)).toEqual(['error'])
    expect(run.json.error).toMatch(pattern)
  })

  test('a set without a private key is refused as --rotate-from', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true })
    const file = keyFile('public-set.json', JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] }))
    const run = await cli('signing-key', 'generate', '--rotate-from', file, '--json')
    expect(run.code).toBe(2)
    expect(run.json.error).toMatch(/private/)
  })
})
