import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { newTenant } from '../helpers/tenant.ts'

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

describe('provisioning journal', () => {
  it('records every change with credential, request id and a redacted summary, and no searches', async () => {
    const tenant = await newTenant()
    const created = await tenant.fetch('/Users', { method: 'POST', json: { userName: 'journal@example.com', name: { givenName: 'Jo' }, password: 'hunter2' } })
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
    const { results } = await env.DB.prepare('SELECT * FROM audit_events WHERE tenant_id = ? ORDER BY at').bind(tenant.id).all<Record<string, string>>()
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
})
