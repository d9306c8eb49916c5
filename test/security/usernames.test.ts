/**
 * userName and Group displayName are compared in one canonical form (src/scim/resource/canonical.ts:
 * width mapping, NFC, toLowerCase, NFC): spellings of one name are one user, invisible characters are
 * refused, edge spaces are trimmed, and filters, sign-in and re-canonicalization of old rows agree.
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { recanonicalizeGroups } from '../../src/db/groups.ts'
import { recanonicalizeUsers } from '../../src/db/users.ts'
import { scopeOf } from '../helpers/scope.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const NFC = 'Ren\u00e9e.M\u00fcller@example.com'
const NFD = 'Rene\u0301e.Mu\u0308ller@example.com'

async function post(tenant: TestTenant, path: 'Users' | 'Groups', json: Record<string, unknown>) {
  const res = await tenant.fetch(`/${path}`, { method: 'POST', json })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

const user = (userName: string, extra: Record<string, unknown> = {}) => ({ userName, ...extra })

async function access(tenant: TestTenant, query: Record<string, string>) {
  const res = await SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenant.id}/access?${new URLSearchParams(query)}`, {
    headers: { authorization: `Bearer ${env.TEST_APP_KEY}` },
  })
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}

describe('userName uniqueness uses the canonical form', () => {
  it('NFC and NFD spellings of one name are one userName: the second POST is 409 uniqueness', async () => {
    const tenant = await newTenant()
    expect(NFC).not.toBe(NFD)
    expect((await post(tenant, 'Users', user(NFC))).status).toBe(201)
    const second = await post(tenant, 'Users', user(NFD))
    expect(second.status).toBe(409)
    expect(second.body.scimType).toBe('uniqueness')
  })

  it('fullwidth letters are their ASCII letters: 409', async () => {
    const tenant = await newTenant()
    expect((await post(tenant, 'Users', user('ada@example.com'))).status).toBe(201)
    const second = await post(tenant, 'Users', user('\uff21\uff24\uff21@\uff45xample.com'))
    expect(second.status).toBe(409)
    expect(second.body.scimType).toBe('uniqueness')
  })

  it('İ-style case: lower-casing then NFC makes "İ" + dot below and "ị" + dot above one name', async () => {
    const tenant = await newTenant()
    expect((await post(tenant, 'Users', user('\u0130\u0323stanbul'))).status).toBe(201)
    // "İ".toLowerCase() is "i" + U+0307; with U+0323 after it, only NFC puts the marks in canonical order.
    const second = await post(tenant, 'Users', user('\u1ecb\u0307stanbul'))
    expect(second.status).toBe(409)
    expect(second.body.scimType).toBe('uniqueness')
    expect((await post(tenant, 'Users', user('i\u0307\u0323STANBUL'))).status).toBe(409)
  })

  it('Group displayName: NFD and fullwidth spellings of a name are 409', async () => {
    const tenant = await newTenant()
    expect((await post(tenant, 'Groups', { displayName: 'Caf\u00e9 Team' })).status).toBe(201)
    expect((await post(tenant, 'Groups', { displayName: 'CAFE\u0301 TEAM' })).status).toBe(409)
    expect((await post(tenant, 'Groups', { displayName: '\uff23af\u00e9 Team' })).status).toBe(409)
  })
})

describe('invisible characters and edge spaces', () => {
  it.each([
    ['zero-width space', 'ada\u200b@example.com'],
    ['zero-width joiner', 'ada\u200d@example.com'],
    ['byte order mark', '\ufeffada@example.com'],
    ['bidi override', 'ada@example.com\u202e'],
    ['control character', 'ada\u0007@example.com'],
  ])('a userName with a %s is 400 invalidValue naming userName', async (_, userName) => {
    const tenant = await newTenant()
    const res = await post(tenant, 'Users', user(userName))
    expect(res.status).toBe(400)
    expect(res.body.scimType).toBe('invalidValue')
    expect(res.body.detail).toContain('userName')
  })

  it('a Group displayName with a zero-width space is 400 invalidValue naming displayName, PATCH too', async () => {
    const tenant = await newTenant()
    const res = await post(tenant, 'Groups', { displayName: 'Ops\u200bTeam' })
    expect(res.status).toBe(400)
    expect(res.body.scimType).toBe('invalidValue')
    expect(res.body.detail).toContain('displayName')
    const group = await post(tenant, 'Groups', { displayName: 'Ops' })
    const patch = await tenant.fetch(`/Groups/${group.body.id}`, {
      method: 'PATCH',
      json: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: 'O\u200dps' }],
      },
    })
    expect(patch.status).toBe(400)
    expect(((await patch.json()) as { detail: string }).detail).toContain('displayName')
  })

  it('a PATCH of userName to one with a zero-width space is 400', async () => {
    const tenant = await newTenant()
    const created = await post(tenant, 'Users', user('bob@example.com'))
    const patch = await tenant.fetch(`/Users/${created.body.id}`, {
      method: 'PATCH',
      json: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'userName', value: 'bob\u200b@example.com' }],
      },
    })
    expect(patch.status).toBe(400)
  })

  it('spaces around a userName are trimmed: stored without them, and the same name again is 409', async () => {
    const tenant = await newTenant()
    const created = await post(tenant, 'Users', user('  carol@example.com \u00a0'))
    expect(created.status).toBe(201)
    expect(created.body.userName).toBe('carol@example.com')
    expect((await post(tenant, 'Users', user('carol@example.com'))).status).toBe(409)
    expect((await post(tenant, 'Users', user('   '))).status).toBe(400)
  })
})

describe('filters and sign-in use the canonical form', () => {
  it('filter userName eq "<NFD>" finds the NFC user; co, sw and ew too', async () => {
    const tenant = await newTenant()
    const created = await post(tenant, 'Users', user(NFC))
    for (const filter of [
      `userName eq "${NFD}"`,
      `userName co "e\u0301e.mu\u0308"`,
      `userName sw "RENE\u0301E"`,
      `userName ew "\uff45xample.com"`,
    ]) {
      const res = await tenant.fetch(`/Users?filter=${encodeURIComponent(filter)}`)
      const body = (await res.json()) as { Resources?: { id: string }[] }
      expect(res.status, filter).toBe(200)
      expect(
        (body.Resources ?? []).map((r) => r.id),
        filter,
      ).toEqual([created.body.id])
    }
    const group = await post(tenant, 'Groups', { displayName: 'M\u00fcnchen' })
    const res = await tenant.fetch(`/Groups?filter=${encodeURIComponent('displayName eq "MU\u0308NCHEN"')}`)
    expect(((await res.json()) as { Resources: { id: string }[] }).Resources.map((r) => r.id)).toEqual([group.body.id])
  })

  it('canSignIn by the NFD spelling answers what it answers for the NFC one (userName and email)', async () => {
    const tenant = await newTenant()
    const created = await post(tenant, 'Users', user(NFC, { emails: [{ value: NFC, primary: true }] }))
    const byNfc = await access(tenant, { userName: NFC })
    expect(byNfc).toMatchObject({ userId: created.body.id })
    expect(await access(tenant, { userName: NFD })).toEqual(byNfc)
    expect(await access(tenant, { userName: `${NFD.toUpperCase()} ` })).toEqual(byNfc)
    expect(await access(tenant, { email: NFD })).toEqual(byNfc)
  })
})

describe('re-canonicalization of rows written before the canonical form', () => {
  async function legacyUser(tenant: TestTenant, row: { id: string; seq: number; userName: string; column: string }) {
    await env.DB.prepare(
      `INSERT INTO users (tenant_id, id, seq, user_name, active, state, source, version, created_at, updated_at, resource)
       VALUES (?, ?, ?, ?, 1, 'provisioned', 'scim', 1, '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', ?)`,
    )
      .bind(tenant.key, row.id, row.seq, row.column, JSON.stringify({ userName: row.userName, active: true }))
      .run()
  }

  const column = async (tenant: TestTenant, id: string) =>
    (
      await env.DB.prepare('SELECT user_name FROM users WHERE tenant_id = ? AND id = ?')
        .bind(tenant.key, id)
        .first<{ user_name: string }>()
    )?.user_name

  it('reports two live rows that share a canonical userName and leaves them; rewrites the others', async () => {
    const tenant = await newTenant()
    // As the old writer stored them: lower-cased only, so NFD and NFC spellings were two users.
    await legacyUser(tenant, { id: 'legacy-nfc', seq: 1, userName: NFC, column: NFC.toLowerCase() })
    await legacyUser(tenant, { id: 'legacy-nfd', seq: 2, userName: NFD, column: NFD.toLowerCase() })
    await legacyUser(tenant, {
      id: 'legacy-wide',
      seq: 3,
      userName: '\uff24an@example.com',
      column: '\uff44an@example.com',
    })
    const result = await recanonicalizeUsers(scopeOf(tenant), 2)
    expect(result.scanned).toBe(3)
    expect(result.updated).toBe(1)
    expect(result.collisions).toEqual([
      { canonical: NFC.toLowerCase().normalize('NFC'), ids: ['legacy-nfc', 'legacy-nfd'] },
    ])
    expect(await column(tenant, 'legacy-nfd')).toBe(NFD.toLowerCase())
    expect(await column(tenant, 'legacy-nfc')).toBe(NFC.toLowerCase())
    expect(await column(tenant, 'legacy-wide')).toBe('dan@example.com')
    expect(await access(tenant, { userName: 'DAN@example.com' })).toMatchObject({ userId: 'legacy-wide' })
    // A second run changes nothing more and still reports the collision.
    expect(await recanonicalizeUsers(scopeOf(tenant))).toMatchObject({ scanned: 3, updated: 0 })
  })

  it('support runs it through the app API (npm run tenant -- canonicalize): rewrites and collisions in one answer', async () => {
    const tenant = await newTenant()
    await legacyUser(tenant, { id: 'legacy-nfc', seq: 1, userName: NFC, column: NFC.toLowerCase() })
    await legacyUser(tenant, { id: 'legacy-nfd', seq: 2, userName: NFD, column: NFD.toLowerCase() })
    await legacyUser(tenant, {
      id: 'legacy-wide',
      seq: 3,
      userName: '\uff24an@example.com',
      column: '\uff44an@example.com',
    })
    const res = await SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenant.id}/canonicalize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.TEST_APP_KEY}` },
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      users: { scanned: 3, updated: 1, collisions: [{ ids: ['legacy-nfc', 'legacy-nfd'] }] },
      groups: { scanned: 0, updated: 0, collisions: [] },
    })
    expect(await column(tenant, 'legacy-wide')).toBe('dan@example.com')
  })

  it('groups: a legacy NFD display_name is rewritten, a legacy pair is reported', async () => {
    const tenant = await newTenant()
    const insert = (id: string, seq: number, displayName: string) =>
      env.DB.prepare(
        `INSERT INTO groups (tenant_id, id, seq, display_name, source, version, created_at, updated_at, resource)
         VALUES (?, ?, ?, ?, 'scim', 1, '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', ?)`,
      )
        .bind(tenant.key, id, seq, displayName.toLowerCase(), JSON.stringify({ displayName }))
        .run()
    await insert('g1', 1, 'Caf\u00e9')
    await insert('g2', 2, 'Cafe\u0301')
    await insert('g3', 3, 'Zu\u0308rich')
    const result = await recanonicalizeGroups(scopeOf(tenant))
    expect(result).toEqual({
      scanned: 3,
      updated: 1,
      collisions: [{ canonical: 'caf\u00e9', ids: ['g1', 'g2'] }],
    })
  })
})
