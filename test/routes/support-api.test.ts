/**
 * Support's side of the app API: one person's report (state, who changed it, invites, groups, the
 * sign-in decision and why), `user find` by SCIM filter, support actions journaled with the
 * operator, and the journal itself: invites, failed authentications counted per minute, a failed
 * request's scimType and detail without values, filters and pages without gaps.
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { appKeyDocumentKey, mintAppKey } from '../../src/tenants/app-keys.ts'
import { tenantDocumentKey } from '../../src/tenants/document.ts'
import { consume, consumerDeps, newSink, userWithInvite } from '../invites/helpers.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'
import { addClient, basicAuth, tokenRequest } from '../oauth/helpers.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'

async function appKey(): Promise<{ id: string; key: string }> {
  const { doc, key } = await mintAppKey(undefined, new Date())
  await env.TENANTS.put(appKeyDocumentKey(doc.id), JSON.stringify(doc))
  return { id: doc.id, key }
}

function call(tenant: TestTenant, key: string, path: string, init: RequestInit & { operator?: string } = {}) {
  const headers = new Headers({ authorization: `Bearer ${key}`, 'content-type': 'application/json' })
  if (init.operator) headers.set('x-operator', init.operator)
  return SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenant.id}${path}`, { ...init, headers })
}

interface Entry {
  id: string
  at: string
  action: string
  outcome: string
  actor: string | null
  credentialId: string | null
  summary: string | null
  detail: string | null
  repeats: number
  resourceName: string | null
}

async function journal(
  tenant: TestTenant,
  key: string,
  query = '',
): Promise<{ entries: Entry[]; next: string | null }> {
  const res = await call(tenant, key, `/journal${query}`)
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}

describe('user report', () => {
  it('follows a person from queued to sent to accepted: invites, groups, who, and whether they may sign in', async () => {
    const tenant = await newTenant()
    const { key } = await appKey()
    const sink = await newSink()
    const { user, message } = await userWithInvite(tenant, 'ada@example.com')
    const group = await tenant.fetch('/Groups', {
      method: 'POST',
      json: { displayName: 'Engineers', members: [{ value: user.id }] },
    })
    expect(group.status).toBe(201)

    const report = async (who: string) => {
      const res = await call(tenant, key, `/support/user?who=${encodeURIComponent(who)}`, { operator: 'alice' })
      expect(res.status, await res.clone().text()).toBe(200)
      return (await res.json()) as {
        user: { id: string; state: string }
        invites: { status: string; reason: string | null; expiresAt: string | null }[]
        groups: { displayName: string }[]
        signIn: { allowed: boolean; why: string }
        created: { actor: string } | null
      }
    }
    const queued = await report('ADA@example.com')
    expect(queued.user.id).toBe(user.id)
    expect(queued.invites.map((i) => i.status)).toEqual(['queued'])
    expect(queued.signIn).toEqual({ allowed: false, why: 'provisioned: the invite is queued for sending' })
    expect(queued.groups.map((g) => g.displayName)).toEqual(['Engineers'])

    await consume(consumerDeps(sink.url), [message])
    const sent = await report(user.id)
    expect(sent.user.state).toBe('invited')
    expect(sent.invites[0]).toMatchObject({ status: 'sent' })
    expect(sent.invites[0]!.expiresAt).toBeTruthy()
    expect(sent.signIn.allowed).toBe(false)
    expect(sent.signIn.why).toMatch(/^invited: the invite was sent at .+ and has not been accepted yet$/)

    const link = (await sink.messages()).find((m) => m.to === 'ada@example.com')!.link!
    const token = link.slice(link.indexOf('#') + 1)
    const accepted = await call(tenant, key, '/invites/accept', { method: 'POST', body: JSON.stringify({ token }) })
    expect(accepted.status).toBe(200)
    const joined = await report('ada@example.com')
    expect(joined.user.state).toBe('joined')
    expect(joined.invites[0]).toMatchObject({ status: 'accepted', reason: null })
    expect(joined.signIn.allowed).toBe(true)

    const { entries } = await journal(tenant, key, '?action=invite')
    expect(entries.map((e) => e.action)).toEqual(['invite-accepted', 'invite-sent', 'invite-queued'])
    expect(entries.every((e) => e.resourceName === 'ada@example.com')).toBe(true)
    expect(entries[1]!.actor).toBe('system:queue')
  })

  it('says why an invite failed, and names the IdP credential that created the person', async () => {
    const tenant = await newTenant()
    const { key } = await appKey()
    const created = await tenant.fetch('/Users', { method: 'POST', json: { schemas: [USER], userName: 'no.mail' } })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    const invite = (await env.DB.prepare('SELECT id FROM invites WHERE tenant_id = ? AND user_id = ?')
      .bind(tenant.key, id)
      .first()) as { id: string }
    const sink = await newSink()
    await consume(consumerDeps(sink.url), [{ v: 2, tenantKey: tenant.key, inviteId: invite.id }])
    const res = await call(tenant, key, '/support/user?who=no.mail', { operator: 'alice' })
    const report = (await res.json()) as {
      invites: { status: string; reason: string }[]
      signIn: { why: string }
      created: { actor: string }
    }
    expect(report.invites[0]!.status).toBe('failed')
    expect(report.invites[0]!.reason).toMatch(/no email address/)
    expect(report.signIn.why).toMatch(/^provisioned: the invite could not be sent \(the user has no email address\)$/)
    expect(report.created.actor).toBe(`idp:${tenant.username}`)
    const failed = (await journal(tenant, key, '?action=invite-failed')).entries
    expect(failed).toHaveLength(1)
    expect(failed[0]).toMatchObject({ outcome: 'error' })
    expect(failed[0]!.summary).toMatch(/not sent: the user has no email address/)
  })

  it('answers unknown and ambiguous people, and needs an operator', async () => {
    const tenant = await newTenant()
    const { key } = await appKey()
    const unknown = await call(tenant, key, '/support/user?who=nobody@example.com', { operator: 'alice' })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({ ok: false, reason: 'unknown' })
    const anonymous = await call(tenant, key, '/support/user?who=nobody@example.com')
    expect(anonymous.status).toBe(403)
    expect(((await anonymous.json()) as { detail: string }).detail).toMatch(/X-Operator/)
    const empty = await call(tenant, key, '/support/user?who=', { operator: 'alice' })
    expect(empty.status).toBe(400)
    const badOperator = await call(tenant, key, '/support/user?who=x', { operator: 'al\u0001ice' })
    expect(badOperator.status).toBe(400)
  })

  it('finds people by SCIM filter, and refuses a bad filter with the reason', async () => {
    const tenant = await newTenant()
    const { key } = await appKey()
    for (const [userName, active] of [
      ['a1@example.com', true],
      ['a2@example.com', false],
      ['b1@example.com', false],
    ] as const)
      expect(
        (await tenant.fetch('/Users', { method: 'POST', json: { schemas: [USER], userName, active } })).status,
      ).toBe(201)
    const res = await call(tenant, key, `/support/users?filter=${encodeURIComponent('active eq false')}`, {
      operator: 'alice',
    })
    const found = (await res.json()) as { totalResults: number; users: { userName: string; state: string }[] }
    expect(found.totalResults).toBe(2)
    expect(found.users.map((u) => [u.userName, u.state]).sort()).toEqual([
      ['a2@example.com', 'deactivated'],
      ['b1@example.com', 'deactivated'],
    ])
    const bad = await call(tenant, key, `/support/users?filter=${encodeURIComponent('userName zz "a"')}`, {
      operator: 'alice',
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { scimType: string }).scimType).toBe('invalidFilter')
  })
})

describe('support actions', () => {
  it('are journaled with the operator, also on a disabled tenant; apps still cannot reach a disabled tenant', async () => {
    const tenant = await newTenant()
    const { id, key } = await appKey()
    await env.TENANTS.put(tenantDocumentKey(tenant.id), JSON.stringify({ ...tenant.doc, status: 'disabled' }))
    const recorded = await call(tenant, key, '/support/actions', {
      method: 'POST',
      operator: 'alice',
      body: JSON.stringify({ action: 'disable', summary: 'tenant disabled: every request is refused' }),
    })
    expect(recorded.status, await recorded.clone().text()).toBe(201)
    expect((await call(tenant, key, '/access?userName=x')).status).toBe(403)
    // The app (no operator) cannot read a disabled tenant's journal; support can.
    expect((await call(tenant, key, '/journal?action=support')).status).toBe(403)
    const res = await call(tenant, key, '/journal?action=support', { operator: 'alice' })
    const page = (await res.json()) as { entries: Entry[] }
    expect(page.entries).toHaveLength(1)
    expect(page.entries[0]).toMatchObject({
      action: 'support-disable',
      outcome: 'ok',
      actor: `support:alice via ${id}`,
      summary: 'tenant disabled: every request is refused',
    })
    const bad = await call(tenant, key, '/support/actions', {
      method: 'POST',
      operator: 'alice',
      body: JSON.stringify({ action: 'DROP TABLE', summary: 1 }),
    })
    expect(bad.status).toBe(400)
  })
})

describe('journal', () => {
  it('counts failed authentications per minute, credential and reason, never the secret', async () => {
    const tenant = await newTenant()
    const { key } = await appKey()
    const wrong = `Basic ${btoa(`${tenant.username}:not-the-password-123`)}`
    for (let i = 0; i < 3; i++)
      expect((await tenant.fetch('/Users', { headers: { authorization: wrong } })).status).toBe(401)
    expect(
      (await tenant.fetch('/Users', { headers: { authorization: `Bearer scim_czzzzzzzzzzzzzzz_${'A'.repeat(43)}` } }))
        .status,
    ).toBe(401)
    const { entries } = await (async () => {
      // The failures are written in the background after each 401.
      for (let i = 0; i < 30; i++) {
        const page = await journal(tenant, key, '?action=auth-failed')
        if (page.entries.reduce((n, e) => n + e.repeats, 0) >= 4) return page
        await new Promise((r) => setTimeout(r, 100))
      }
      return journal(tenant, key, '?action=auth-failed')
    })()
    const byCredential = Object.fromEntries(entries.map((e) => [e.credentialId, e]))
    expect(byCredential[tenant.username]).toMatchObject({ repeats: 3, outcome: 'error 401', detail: 'wrong secret' })
    expect(byCredential.czzzzzzzzzzzzzzz).toMatchObject({ repeats: 1, detail: 'unknown credential for this tenant' })
    expect(JSON.stringify(entries)).not.toContain('not-the-password-123')
  })

  it('counts refused token requests (invalid_client) beside the SCIM failures, never the secret', async () => {
    const tenant = await newTenant()
    const { key } = await appKey()
    const { clientId } = await addClient(tenant)
    for (let i = 0; i < 2; i++) {
      const res = await tokenRequest(
        tenant.id,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(clientId, 'not-the-client-secret-456') },
      )
      expect(res.status).toBe(401)
    }
    const unknown = await tokenRequest(tenant.id, {
      grant_type: 'client_credentials',
      client_id: 'cnobodyknowsthis',
      client_secret: 'whatever-secret-789',
    })
    expect(unknown.status).toBe(401)
    let entries: { credentialId: string | null; repeats: number; outcome: string; detail: string | null }[] = []
    for (let i = 0; i < 30; i++) {
      entries = (await journal(tenant, key, '?action=auth-failed')).entries
      if (entries.reduce((n, e) => n + e.repeats, 0) >= 3) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const byCredential = Object.fromEntries(entries.map((e) => [e.credentialId, e]))
    expect(byCredential[clientId]).toMatchObject({ repeats: 2, outcome: 'error 401' })
    expect(byCredential[clientId]!.detail).toMatch(/^token request: /)
    expect(byCredential.cnobodyknowsthis).toMatchObject({ repeats: 1 })
    const text = JSON.stringify(entries)
    expect(text).not.toContain('not-the-client-secret-456')
    expect(text).not.toContain('whatever-secret-789')
  })

  it("keeps a failed request's scimType and detail without the values", async () => {
    const tenant = await newTenant()
    const { key } = await appKey()
    const body = { schemas: [USER], userName: 'taken.person@example.com' }
    expect((await tenant.fetch('/Users', { method: 'POST', json: body })).status).toBe(201)
    expect((await tenant.fetch('/Users', { method: 'POST', json: body })).status).toBe(409)
    const [conflict] = (await journal(tenant, key, '?outcome=error')).entries
    expect(conflict).toMatchObject({ action: 'create', outcome: 'error 409' })
    expect(conflict!.detail).toMatch(/^uniqueness: /)
    expect(conflict!.detail).toContain('"…"')
    expect(JSON.stringify(conflict)).not.toContain('taken.person')
  })

  it('pages newest first with a cursor, without gaps or repeats, and refuses bad queries', async () => {
    const tenant = await newTenant()
    const { key } = await appKey()
    for (let i = 0; i < 5; i++)
      expect(
        (
          await tenant.fetch('/Users', {
            method: 'POST',
            json: { schemas: [USER], userName: `p${i}@example.com`, active: false },
          })
        ).status,
      ).toBe(201)
    const all = (await journal(tenant, key, '?action=create&limit=100')).entries
    expect(all).toHaveLength(5)
    const seen: string[] = []
    let next: string | null = null
    do {
      const page: { entries: Entry[]; next: string | null } = await journal(
        tenant,
        key,
        `?action=create&limit=2${next ? `&before=${encodeURIComponent(next)}` : ''}`,
      )
      expect(page.entries.length).toBeLessThanOrEqual(2)
      seen.push(...page.entries.map((e) => e.id))
      next = page.next
    } while (next)
    expect(seen).toEqual(all.map((e) => e.id))
    expect(all.map((e) => e.resourceName)).toEqual([4, 3, 2, 1, 0].map((i) => `p${i}@example.com`))
    for (const query of ['?before=garbage', '?outcome=DROP', '?action=Create', '?until=yesterday', '?limit=0'])
      expect((await call(tenant, key, `/journal${query}`)).status, query).toBe(400)
  })
})
