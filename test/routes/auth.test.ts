import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { tenantDocumentKey } from '../../src/tenants/document.ts'
import { newTenant } from '../helpers/tenant.ts'

async function expectUnauthorized(res: Response) {
  expect(res.status).toBe(401)
  expect(res.headers.get('content-type')).toContain('application/scim+json')
  expect(res.headers.get('www-authenticate')).toContain('Basic')
  const body = (await res.json()) as Record<string, unknown>
  expect(body).toEqual({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: '401',
    detail: 'Authentication failed: send the Basic or Bearer credentials issued for this Base URL.',
  })
}

describe('authentication', () => {
  it('accepts Basic and Bearer credentials of the tenant', async () => {
    const tenant = await newTenant()
    expect((await tenant.fetch('/Users')).status).toBe(200)
    expect((await tenant.fetch('/Users', { headers: { authorization: tenant.bearer } })).status).toBe(200)
  })

  it('gives the same 401 for every failure', async () => {
    const tenant = await newTenant()
    const other = await newTenant()
    const cases: Record<string, string | undefined> = {
      missing: undefined,
      'SPEC non-token': 'non-token',
      'wrong password': `Basic ${btoa(`${tenant.username}:wrong`)}`,
      'unknown user': `Basic ${btoa(`cunknownunknown1:${tenant.password}`)}`,
      'not base64': 'Basic !!!!',
      'bearer garbage': 'Bearer abc',
      'bearer wrong secret': `Bearer ${tenant.bearerToken.slice(0, -4)}AAAA`,
      'basic secret as bearer': `Bearer ${tenant.password}`,
      "other tenant's basic": other.basic,
      "other tenant's bearer": other.bearer,
    }
    for (const [name, header] of Object.entries(cases)) {
      const headers = new Headers()
      if (header !== undefined) headers.set('authorization', header)
      const res = await SELF.fetch(`${tenant.baseUrl}/Users`, { headers })
      await expectUnauthorized(res).catch((e) => {
        throw new Error(`${name}: ${e}`)
      })
    }
  })

  it('tells valid credentials of a disabled tenant that it is disabled (403), and wrong ones nothing (401)', async () => {
    const disabled = await newTenant({ status: 'disabled' })
    for (const authorization of [disabled.basic, disabled.bearer]) {
      const res = await disabled.fetch('/Users', { headers: { authorization } })
      expect(res.status).toBe(403)
      expect(res.headers.get('content-type')).toContain('application/scim+json')
      const body = (await res.json()) as { status: string; detail: string }
      expect(body.status).toBe('403')
      expect(body.detail).toContain(`Tenant ${disabled.id} is disabled`)
      expect(body.detail).toContain('Contact')
    }
    await expectUnauthorized(
      await disabled.fetch('/Users', { headers: { authorization: `Basic ${btoa(`${disabled.username}:wrong`)}` } }),
    )
  })

  it('rejects a deleted tenant and an unknown or invalid tenant id', async () => {
    const deleted = await newTenant()
    await env.TENANTS.delete(tenantDocumentKey(deleted.id))
    await expectUnauthorized(await deleted.fetch('/Users'))
    const tenant = await newTenant()
    await expectUnauthorized(
      await SELF.fetch(`${env.PUBLIC_URL}/scim/v2/nosuchtenant/Users`, { headers: { authorization: tenant.basic } }),
    )
    await expectUnauthorized(
      await SELF.fetch(`${env.PUBLIC_URL}/scim/v2/Bad_Tenant/Users`, { headers: { authorization: tenant.basic } }),
    )
  })

  it('keeps working with an old credential after a rotation and stops after revoke', async () => {
    const tenant = await newTenant()
    const second = await newTenant()
    // Rotation adds credentials beside the old ones: graft the second tenant's credentials onto the first.
    const doc = { ...tenant.doc, credentials: [...tenant.doc.credentials, ...second.doc.credentials] }
    await env.TENANTS.put(tenantDocumentKey(tenant.id), JSON.stringify(doc))
    expect((await tenant.fetch('/Users')).status).toBe(200)
    expect((await tenant.fetch('/Users', { headers: { authorization: second.basic } })).status).toBe(200)
    await env.TENANTS.put(tenantDocumentKey(tenant.id), JSON.stringify({ ...doc, credentials: second.doc.credentials }))
    await expectUnauthorized(await tenant.fetch('/Users'))
  })

  it('serves /health without credentials and without secrets', async () => {
    const res = await SELF.fetch(`${env.PUBLIC_URL}/health`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, warnings: [] })
  })
})
