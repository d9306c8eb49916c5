/**
 * The support CLI: input checks (no wrangler call), create/show/delete against real
 * `wrangler kv` in a temporary local directory, and rare branches in-process against an
 * in-memory store. Rotation, revocation and status live in cli-lifecycle.test.ts, which vitest
 * runs in parallel with this file: each wrangler call costs about two seconds.
 */
import { describe, expect, test } from 'vitest'
import { main } from '../../src/tenants/cli.ts'
import type { TenantDocument } from '../../src/tenants/document.ts'
import { secretHash } from '../../src/tenants/credentials.ts'
import type { TenantStore } from '../../src/tenants/kv-store.ts'
import { parseBearerToken, sha256Hex } from '../../src/tenants/secrets.ts'
import { expectNoSecrets, expectOneLineError, useCli } from './cli-harness.ts'

const { cli, raw } = useCli()

describe.concurrent('input errors (no wrangler call)', () => {
  test.each([
    [['create', 'Bad_Id'], /invalid tenant id/],
    [['create', '-acme'], /Unknown option|invalid tenant id/],
    [['create', 'a'], /invalid tenant id/],
    [['frobnicate', 'acme'], /unknown command "frobnicate"/],
    [['show', 'acme', '--bogus'], /Unknown option '--bogus'/],
    [['show', 'acme', '--name', 'x'], /show does not take --name/],
    [['show'], /usage: show <id>/],
    [['show', 'acme', '--local', '--remote'], /either --local or --remote/],
    [['create', 'acme', '--app-url', 'not a url'], /invalid --app-url/],
  ])('%j', async (args, pattern) => {
    expectOneLineError(await cli(...args), pattern)
  })

  test('help prints usage listing every command', async () => {
    const run = await cli('help')
    expect(run.code).toBe(0)
    for (const c of ['create', 'show', 'list', 'rotate', 'revoke', 'disable', 'enable', 'delete'])
      expect(run.stdout).toContain(`  ${c}`)
    // Fits a terminal; a placeholder is the flag in upper case with every "-" made "_".
    expect(run.stdout.split('\n').filter((l) => l.length > 100)).toEqual([])
    expect(run.stdout).toContain('[--invite-ttl-days INVITE_TTL_DAYS]')
    expect(run.stdout).not.toMatch(/[A-Z]-[A-Z]/)
    // Each command's summary starts on its own line, below the command.
    expect(run.stdout).toMatch(/\n {2}list\n {6}list tenants\n/)
  })
})

describe('create, show, delete (real wrangler kv, local)', () => {
  let created: Record<string, string>
  let stored: TenantDocument

  test('create --json prints the Base URL and the secrets, and KV holds only their hashes', async () => {
    const run = await cli('create', 'acme', '--json', '--name', 'Acme Inc', '--public-url', 'https://scim.example.com/')
    expect(run.code, run.stderr).toBe(0)
    created = run.json
    expect(Object.keys(created).sort()).toEqual(['baseUrl', 'bearerToken', 'password', 'tenantId', 'username'])
    expect(created.tenantId).toBe('acme')
    expect(created.baseUrl).toBe('https://scim.example.com/scim/v2/acme')

    stored = (await raw('acme'))!
    expect(stored).toMatchObject({ id: 'acme', name: 'Acme Inc', status: 'active' })
    const bearer = parseBearerToken(created.bearerToken!)!
    const basic = stored.credentials.find((c) => c.id === created.username)
    expect(basic).toMatchObject({
      kind: 'basic',
      username: created.username,
      secretSha256: await sha256Hex(created.password!),
    })
    expect(secretHash(stored.credentials.find((c) => c.id === bearer.credentialId))).toBe(
      await sha256Hex(bearer.secret),
    )
    const text = JSON.stringify(stored)
    expect(text).not.toContain(created.password)
    expect(text).not.toContain(bearer.secret)
  })

  test('creating it again fails and leaves the stored document as it was', async () => {
    const run = await cli('create', 'acme', '--name', 'Someone Else', '--json')
    expectOneLineError(run, /already exists/)
    expect(run.json).toEqual({ error: expect.stringContaining('already exists') })
    expect(await raw('acme')).toEqual(stored)
  })

  test('show prints credential ids, kinds and dates, never hashes or secrets', async () => {
    const run = await cli('show', 'acme', '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({
      tenantId: 'acme',
      name: 'Acme Inc',
      status: 'active',
      baseUrl: 'http://127.0.0.1:8787/scim/v2/acme',
    })
    expect(run.json.credentials).toHaveLength(2)
    for (const c of run.json.credentials) {
      const keys = Object.keys(c).filter((k) => k !== 'lastUsed')
      expect(keys.sort()).toEqual(['createdAt', 'expired', 'expiresAt', 'id', 'kind', 'scope'])
      expect(c).toMatchObject({ expiresAt: null, expired: false, scope: 'scim:read scim:write' })
    }
    expectNoSecrets(run.stdout, stored, created)
  })

  test('delete asks for the id again, then removes it; then it is an unknown tenant', async () => {
    const unconfirmed = await cli('delete', 'acme', '--json')
    expect(unconfirmed.code).toBe(2)
    expect(unconfirmed.json.error).toMatch(/repeat the id to confirm: delete acme --confirm acme/)
    expect((await cli('delete', 'acme', '--confirm', 'acme-typo', '--json')).code).toBe(2)
    expect((await cli('show', 'acme', '--json')).json).toMatchObject({ tenantId: 'acme' })
    expect((await cli('delete', 'acme', '--confirm', 'acme', '--json')).json).toMatchObject({
      tenantId: 'acme',
      deleted: true,
      tenantKey: expect.stringMatching(/^acme\.[a-z2-7]{16}$/),
    })
    expectOneLineError(await cli('show', 'acme'), /unknown tenant "acme"/)
  })
})

describe('app-key create, list, revoke (real wrangler kv, local)', () => {
  test('create prints the key once, list shows ids and tenants only, revoke removes it', async () => {
    const made = await cli('app-key', 'create', '--tenants', 'acme,globex', '--json')
    expect(made.code, made.stderr).toBe(0)
    expect(Object.keys(made.json).sort()).toEqual(['id', 'key', 'tenants'])
    expect(made.json.key).toMatch(/^sea_a[a-z2-7]{15}_[A-Za-z0-9_-]{43}$/)
    expect(made.json.tenants).toEqual(['acme', 'globex'])

    const listed = await cli('app-key', 'list', '--json')
    expect(listed.json.appKeys).toContainEqual({
      id: made.json.id,
      tenants: ['acme', 'globex'],
      createdAt: expect.any(String),
    })
    expect(listed.stdout).not.toContain(made.json.key.split('_')[2])

    expectOneLineError(await cli('app-key', 'create', '--tenants', 'Bad_Id'), /invalid tenant id/)
    expect((await cli('app-key', 'revoke', made.json.id, '--json')).json).toEqual({ revoked: made.json.id })
    expectOneLineError(await cli('app-key', 'revoke', made.json.id), /no app key/)
    expect((await cli('app-key', 'list', '--json')).json.appKeys).not.toContainEqual(
      expect.objectContaining({ id: made.json.id }),
    )
  })
})

describe('rare branches (in-process, in-memory store)', () => {
  function memory(): TenantStore & { docs: Map<string, string> } {
    const docs = new Map<string, string>()
    return {
      docs,
      where: 'memory',
      get: async (id) => (docs.has(id) ? JSON.parse(docs.get(id)!) : undefined),
      put: async (doc) => void docs.set(doc.id, JSON.stringify(doc)),
      delete: async (id) => void docs.delete(id),
      list: async () => [...docs.keys()].filter((id) => !id.includes(':')).map((id) => ({ id })),
      records(prefix) {
        const key = (name: string) => `${prefix}${name}`
        return {
          get: async (name) => docs.get(key(name)),
          put: async (name, text) => void docs.set(key(name), text),
          delete: async (name) => void docs.delete(key(name)),
          list: async () => [...docs.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
        }
      },
    }
  }
  async function run(store: TenantStore, ...argv: string[]) {
    let stdout = ''
    let stderr = ''
    const code = await main(argv, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: {},
      store: () => store,
    })
    return { code, stdout, stderr, json: argv.includes('--json') ? JSON.parse(stdout) : undefined }
  }

  test('revoking the last credential is allowed with a warning; unknown credentials change nothing', async () => {
    const store = memory()
    const { json } = await run(store, 'create', 'solo', '--json')
    const doc = (await store.get('solo'))!
    const before = store.docs.get('solo')
    const unknown = await run(store, 'revoke', 'solo', 'cxxxxxxxxxxxxxxx')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/has no credential "cxxxxxxxxxxxxxxx"/)
    expect(store.docs.get('solo')).toBe(before)

    // No warning while a credential remains; only the note that, with no app key here, the Worker
    // could not journal the change (which stands).
    const first = await run(store, 'revoke', 'solo', json.username)
    expect(first.code).toBe(0)
    expect(first.stderr).not.toMatch(/warning/)
    expect(first.stderr).toMatch(/^note: the change is done, but the journal did not record it: .*APP_API_KEY/)
    expect((await store.get('solo'))!.credentials.map((c) => c.id)).not.toContain(json.username)
    const last = await run(store, 'revoke', 'solo', doc.credentials[1]!.id, '--json')
    expect(last.code).toBe(0)
    expect(last.json.remaining).toBe(0)
    expect(last.stderr).toMatch(/warning: .*no credentials left/)
  })

  test('unknown tenants are errors for every command that takes one', async () => {
    const store = memory()
    for (const argv of [
      ['show', 'ghost'],
      ['rotate', 'ghost'],
      ['revoke', 'ghost', 'cxxxxxxxxxxxxxxx'],
      ['disable', 'ghost'],
      ['enable', 'ghost'],
      ['delete', 'ghost'],
    ]) {
      const result = await run(store, ...argv, '--json')
      expect(result.code, argv.join(' ')).toBe(1)
      expect(result.json).toEqual({ error: 'unknown tenant "ghost" (memory)' })
    }
    expect(store.docs.size).toBe(0)
  })

  test('disable twice reports no change and does not write', async () => {
    const store = memory()
    await run(store, 'create', 'calm')
    await run(store, 'disable', 'calm')
    let writes = 0
    const put = store.put
    store.put = async (doc) => (writes++, put(doc))
    expect((await run(store, 'disable', 'calm', '--json')).json).toEqual({
      tenantId: 'calm',
      status: 'disabled',
      changed: false,
    })
    expect(writes).toBe(0)
  })

  test('--public-url, else PUBLIC_URL, else 127.0.0.1:8787 builds the Base URL', async () => {
    const store = memory()
    const base = async (argv: string[], env: Record<string, string>) => {
      let out = ''
      await main(argv, { stdout: (t) => (out += t), stderr: () => {}, env, store: () => store })
      return JSON.parse(out).baseUrl
    }
    expect(await base(['create', 'one', '--json'], {})).toBe('http://127.0.0.1:8787/scim/v2/one')
    expect(await base(['show', 'one', '--json'], { PUBLIC_URL: 'https://a.example/' })).toBe(
      'https://a.example/scim/v2/one',
    )
    expect(
      await base(['show', 'one', '--json', '--public-url', 'https://b.example'], { PUBLIC_URL: 'https://a.example' }),
    ).toBe('https://b.example/scim/v2/one')
  })
})
