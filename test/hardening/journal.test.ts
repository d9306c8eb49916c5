import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { newTenant } from '../helpers/tenant.ts'

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

describe('provisioning journal', () => {
  it('records every change with credential, request id and a redacted summary, and no searches', async () => {
    const tenant = await newTenant()
    const created = await tenant.fetch('/Users', {
      method: 'POST',
      json: { userName: 'journal@example.com', name: { givenName: 'Jo' }, password: 'hunter2' },
    })
    const { id } = (await created.json()) as { id: string }
    const patched = await tenant.fetch(`/Users/${id}`, {
      method: 'PATCH',
      headers: { authorization: tenant.bearer },
      json: { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] },
    })
    expect(patched.status).toBe(200)
    await tenant.fetch('/Users', { method: 'POST', json: { userName: 'JOURNAL@example.com' } })
    await tenant.fetch(`/Users?filter=${encodeURIComponent('userName eq "journal@example.com"')}`)
    await tenant.fetch('/Users/.search', { method: 'POST', json: { filter: 'userName eq "x"' } })
    const { results } = await env.DB.prepare(
      "SELECT * FROM audit_events WHERE tenant_id = ? AND action NOT LIKE 'invite-%' ORDER BY at",
    )
      .bind(tenant.key)
      .all<Record<string, string>>()
    expect(results.map((r) => [r.method, r.action, r.outcome, r.resource_type])).toEqual([
      ['POST', 'create', 'ok 201', 'User'],
      ['PATCH', 'update', 'ok 200', 'User'],
      ['POST', 'create', 'error 409', 'User'],
    ])
    const [create, deactivate] = results
    expect(create!.resource_id).toBe(id)
    expect(create!.credential_id).toBe(tenant.username)
    expect(deactivate!.credential_id).toBe(tenant.bearerToken.split('_')[1])
    expect(deactivate!.request_id).toBe(patched.headers.get('x-request-id'))
    expect(deactivate!.summary).toBe('replace {active=false}')
    expect(create!.summary).toBe('userName name')
    const all = JSON.stringify(results)
    for (const secret of ['hunter2', 'journal@example.com', tenant.password]) expect(all).not.toContain(secret)
  })

  it('writes each change and its entry in one batch: one entry per request, also for retried races, no-ops and failures', async () => {
    const tenant = await newTenant()
    const entries = async () =>
      (
        await env.DB.prepare(
          "SELECT method, resource_type, resource_id, outcome FROM audit_events WHERE tenant_id = ? AND action NOT LIKE 'invite-%' ORDER BY at, rowid",
        )
          .bind(tenant.key)
          .all<Record<string, string>>()
      ).results
    const user = (await (
      await tenant.fetch('/Users', { method: 'POST', json: { userName: 'race@example.com' } })
    ).json()) as { id: string }
    const group = (await (
      await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'Racers' } })
    ).json()) as { id: string }
    // Two concurrent PATCHes of one user: one of them loses the version race and is recomputed; each is recorded once.
    const rename = (value: string) =>
      tenant.fetch(`/Users/${user.id}`, {
        method: 'PATCH',
        json: { schemas: [PATCH], Operations: [{ op: 'replace', path: value === 'a' ? 'nickName' : 'title', value }] },
      })
    const [a, b] = await Promise.all([rename('a'), rename('b')])
    expect([a.status, b.status]).toEqual([200, 200])
    const both = (await (await tenant.fetch(`/Users/${user.id}`)).json()) as Record<string, unknown>
    expect(both).toMatchObject({ nickName: 'a', title: 'b', meta: { version: 'W/"3"' } })
    // A PATCH that changes nothing, a stale If-Match, and the group's whole life.
    expect((await rename('a')).status).toBe(200)
    const stale = await tenant.fetch(`/Users/${user.id}`, {
      method: 'PUT',
      headers: { 'if-match': 'W/"1"' },
      json: { userName: 'race@example.com' },
    })
    expect(stale.status).toBe(412)
    const groupPatch = (Operations: unknown[], headers: Record<string, string> = {}) =>
      tenant.fetch(`/Groups/${group.id}`, { method: 'PATCH', headers, json: { schemas: [PATCH], Operations } })
    expect((await groupPatch([{ op: 'add', path: 'members', value: [{ value: user.id }] }])).status).toBe(204)
    expect((await groupPatch([{ op: 'add', path: 'members', value: [{ value: user.id }] }])).status).toBe(204) // already a member: no change
    expect((await groupPatch([{ op: 'add', path: 'members', value: [{ value: 'no-such-user' }] }])).status).toBe(400)
    expect(
      (await groupPatch([{ op: 'replace', path: 'displayName', value: 'Stale' }], { 'if-match': 'W/"1"' })).status,
    ).toBe(412)
    expect(
      (await tenant.fetch(`/Groups/${group.id}`, { method: 'PUT', json: { displayName: 'Racers 2', members: [] } }))
        .status,
    ).toBe(200)
    expect((await tenant.fetch(`/Groups/${group.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await tenant.fetch(`/Users/${user.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await tenant.fetch(`/Users/${user.id}`, { method: 'DELETE' })).status).toBe(404)
    const u = ['User', user.id]
    const g = ['Group', group.id]
    expect((await entries()).map((e) => [e.method, e.resource_type, e.resource_id, e.outcome])).toEqual([
      ['POST', ...u, 'ok 201'],
      ['POST', ...g, 'ok 201'],
      ['PATCH', ...u, 'ok 200'],
      ['PATCH', ...u, 'ok 200'],
      ['PATCH', ...u, 'ok 200'],
      ['PUT', ...u, 'error 412'],
      ['PATCH', ...g, 'ok 204'],
      ['PATCH', ...g, 'ok 204'],
      ['PATCH', ...g, 'error 400'],
      ['PATCH', ...g, 'error 412'],
      ['PUT', ...g, 'ok 200'],
      ['DELETE', ...g, 'ok 204'],
      ['DELETE', ...u, 'ok 204'],
      ['DELETE', ...u, 'error 404'],
    ])
  })
})
