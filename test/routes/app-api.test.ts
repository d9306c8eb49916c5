/** The app-facing API /app/v1/{tenant}/...: APP_API_KEY auth, canSignIn by userName or email, users and groups made by the app, reinvite. */
import { SELF, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { invitesOfUser, markAccepted } from '../../src/db/invites.ts'
import { createScimUser, patchScimUser, deleteScimUser } from '../../src/provisioning/users.ts'
import { PATCH, USER, consume, consumerDeps, newSink } from '../invites/helpers.ts'
import { newTenant } from '../helpers/tenant.ts'
import { scopeOf } from '../helpers/scope.ts'
import { INVITE_ACCEPTED } from '../../src/lifecycle/state.ts'

const KEY = { authorization: `Bearer ${env.TEST_APP_KEY}` }

function api(tenantId: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers ?? KEY)
  if (init.json !== undefined) headers.set('content-type', 'application/json')
  return SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenantId}${path}`, {
    ...init,
    headers,
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  })
}

async function access(tenantId: string, query: string) {
  const res = await api(tenantId, `/access?${query}`)
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}

describe('auth', () => {
  it('answers 401 without the key, with a wrong one, or with a SCIM credential; 404 for an unknown tenant', async () => {
    const tenant = await newTenant()
    expect((await api(tenant.id, '/access?userName=x', { headers: {} })).status).toBe(401)
    expect(
      (await api(tenant.id, '/access?userName=x', { headers: { authorization: `Bearer ${env.TEST_APP_KEY}X` } }))
        .status,
    ).toBe(401)
    expect((await api(tenant.id, '/access?userName=x', { headers: { authorization: tenant.bearer } })).status).toBe(401)
    expect((await api('no-such-tenant', '/access?userName=x')).status).toBe(404)
  })
})

describe('GET /access', () => {
  it('says which state keeps a person out: unknown, provisioned, invited, deactivated, deleted; joined is allowed', async () => {
    const tenant = await newTenant()
    expect(await access(tenant.id, 'userName=nobody')).toEqual({ allowed: false, state: 'unknown', userId: null })

    const user = await createScimUser(scopeOf(tenant), {
      schemas: [USER],
      userName: 'Pat@Example.com',
      emails: [{ value: 'Pat.Work@Example.com', primary: true }],
    })
    expect(await access(tenant.id, 'userName=pat@example.com')).toEqual({
      allowed: false,
      state: 'provisioned',
      userId: user.id,
    })
    const [invite] = await invitesOfUser(scopeOf(tenant), user.id)
    await consume(consumerDeps((await newSink()).url), [{ v: 2, tenantKey: tenant.key, inviteId: invite!.id }])
    expect(await access(tenant.id, 'email=PAT.WORK%40example.com')).toEqual({
      allowed: false,
      state: 'invited',
      userId: user.id,
    })
    await markAccepted(scopeOf(tenant), { invite: invite!, user: INVITE_ACCEPTED })
    expect(await access(tenant.id, 'email=pat.work%40example.com')).toEqual({
      allowed: true,
      state: 'joined',
      userId: user.id,
    })

    await patchScimUser(scopeOf(tenant), user.id, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    })
    expect(await access(tenant.id, 'userName=PAT@example.com')).toEqual({
      allowed: false,
      state: 'deactivated',
      userId: user.id,
    })
    await deleteScimUser(scopeOf(tenant), user.id)
    expect(await access(tenant.id, 'userName=pat@example.com')).toEqual({
      allowed: false,
      state: 'deleted',
      userId: user.id,
    })
  })

  it('is not allowed when an email names two people', async () => {
    const tenant = await newTenant()
    await createScimUser(scopeOf(tenant, { app: true }), {
      schemas: [USER],
      userName: 'a',
      emails: [{ value: 'shared@example.com' }],
    })
    await createScimUser(scopeOf(tenant, { app: true }), {
      schemas: [USER],
      userName: 'b',
      emails: [{ value: 'shared@example.com' }],
    })
    expect(await access(tenant.id, 'email=shared%40example.com')).toEqual({
      allowed: false,
      state: 'ambiguous',
      userId: null,
    })
  })

  it('wants exactly one of userName and email', async () => {
    const tenant = await newTenant()
    expect((await api(tenant.id, '/access')).status).toBe(400)
    expect((await api(tenant.id, '/access?userName=a&email=b')).status).toBe(400)
  })

  it('keeps tenants apart', async () => {
    const a = await newTenant()
    const b = await newTenant()
    await createScimUser(scopeOf(a, { app: true }), { schemas: [USER], userName: 'only-a' })
    expect(await access(b.id, 'userName=only-a')).toEqual({ allowed: false, state: 'unknown', userId: null })
  })
})

describe('users and groups made by the app', () => {
  it('creates a joined user (no invite) that SCIM then finds by userName, and a group', async () => {
    const tenant = await newTenant()
    const res = await api(tenant.id, '/users', {
      method: 'POST',
      json: {
        userName: 'early@example.com',
        displayName: 'Early Bird',
        emails: [{ value: 'early@example.com', primary: true }],
      },
    })
    expect(res.status, await res.clone().text()).toBe(201)
    const user = (await res.json()) as Record<string, unknown>
    expect(user).toMatchObject({
      userName: 'early@example.com',
      displayName: 'Early Bird',
      email: 'early@example.com',
      active: true,
      state: 'joined',
      source: 'app',
    })
    expect(await invitesOfUser(scopeOf(tenant), user.id as string)).toEqual([])
    expect(await access(tenant.id, 'userName=early@example.com')).toEqual({
      allowed: true,
      state: 'joined',
      userId: user.id,
    })

    const found = await tenant.fetch(`/Users?filter=${encodeURIComponent('userName eq "early@example.com"')}`)
    expect(((await found.json()) as { totalResults: number }).totalResults).toBe(1)
    const got = await api(tenant.id, `/users/${user.id}`)
    expect(await got.json()).toEqual(user)

    const group = await api(tenant.id, '/groups', {
      method: 'POST',
      json: { displayName: 'Early adopters', members: [{ value: user.id }] },
    })
    expect(group.status, await group.clone().text()).toBe(201)
    expect(await group.json()).toMatchObject({ displayName: 'Early adopters', memberCount: 1, source: 'app' })
    const scimGroups = await tenant.fetch(`/Groups?filter=${encodeURIComponent('displayName eq "Early adopters"')}`)
    expect(((await scimGroups.json()) as { totalResults: number }).totalResults).toBe(1)
  })

  it('answers 409 for a taken userName and 400 for a bad body', async () => {
    const tenant = await newTenant()
    expect((await api(tenant.id, '/users', { method: 'POST', json: { userName: 'dup' } })).status).toBe(201)
    expect((await api(tenant.id, '/users', { method: 'POST', json: { userName: 'DUP' } })).status).toBe(409)
    expect((await api(tenant.id, '/users', { method: 'POST', json: [1] })).status).toBe(400)
  })
})

describe('POST /reinvite', () => {
  it('queues a fresh invite for a person who has not joined; 409 for a joined one; 404 for nobody', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(scopeOf(tenant), { schemas: [USER], userName: 'resend@example.com' })
    const res = await api(tenant.id, '/reinvite', { method: 'POST', json: { userName: 'resend@example.com' } })
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ ok: true, userId: user.id, inviteId: expect.any(String) })
    await createScimUser(scopeOf(tenant, { app: true }), { schemas: [USER], userName: 'joined' })
    expect((await api(tenant.id, '/reinvite', { method: 'POST', json: { userName: 'joined' } })).status).toBe(409)
    expect((await api(tenant.id, '/reinvite', { method: 'POST', json: { userName: 'nobody' } })).status).toBe(404)
  })
})
