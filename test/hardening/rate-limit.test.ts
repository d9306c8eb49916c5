import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { tenantDocumentKey } from '../../src/tenants/document.ts'
import { newTenant } from '../helpers/tenant.ts'

describe('per-tenant rate limiting', () => {
  it('answers 429 with an integer Retry-After once a tenant exceeds its tier, and only that tenant', async () => {
    const limited = await newTenant()
    await env.TENANTS.put(
      tenantDocumentKey(limited.id),
      JSON.stringify({ ...limited.doc, settings: { rateLimitTier: 'test' } }),
    )
    const other = await newTenant()
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await limited.fetch('/Users')).status)
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200])
    expect(statuses).toContain(429)
    const res = await limited.fetch('/Users')
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ status: '429', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] })
    expect(body.detail).toMatch(/retry after 10 seconds/)
    // The standard tier is keyed by tenant: another tenant is unaffected.
    for (let i = 0; i < 6; i++) expect((await other.fetch('/Users')).status).toBe(200)
  })
})
