/** Rate limits that hold before any credential is looked up, and tiers that fail closed. */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { tenantDocumentKey } from '../../src/tenants/document.ts'
import { newTenant } from '../helpers/tenant.ts'

function users(tenantId: string, headers: Record<string, string>) {
  return SELF.fetch(`${env.PUBLIC_URL}/scim/v2/${tenantId}/Users`, { headers })
}

async function failMany(count: number, request: (i: number) => Promise<Response>): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < count; i += 50) {
    const round = Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
      const res = await request(i + j)
      await res.arrayBuffer()
      return res.status
    })
    statuses.push(...(await Promise.all(round)))
  }
  return statuses
}

describe('failed authentication', () => {
  it('locks a tenant out once too many wrong credentials were sent to it: then even right ones wait, unread', async () => {
    const tenant = await newTenant()
    const other = await newTenant()
    // Each from its own address, so only the per-tenant count (40 per minute in tests) is reached.
    const statuses = await failMany(45, (i) =>
      users(tenant.id, { authorization: 'Basic d3Jvbmc6d3Jvbmc=', 'cf-connecting-ip': `198.51.100.${i}` }),
    )
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(40)
    const locked = await users(tenant.id, { authorization: tenant.basic })
    expect(locked.status).toBe(429)
    expect(locked.headers.get('retry-after')).toBe('60')
    expect(((await locked.json()) as { detail: string }).detail).toMatch(/failed authentication/)
    expect((await users(other.id, { authorization: other.basic })).status).toBe(200)
  })

  it('locks a client address out across tenants once it failed too often', async () => {
    const address = `203.0.113.${Math.floor(Math.random() * 250)}`
    const tenant = await newTenant()
    // The per-address limit is 200 per minute in tests (20 in wrangler.toml); tenants change so none is locked.
    const ids = Array.from({ length: 30 }, (_, i) => `nobody-${i}`)
    const statuses: number[] = []
    for (let i = 0; i < 210; i++) {
      const res = await users(ids[i % ids.length]!, { 'cf-connecting-ip': address })
      await res.arrayBuffer()
      statuses.push(res.status)
    }
    expect(statuses).toContain(429)
    expect((await users(tenant.id, { authorization: tenant.basic, 'cf-connecting-ip': address })).status).toBe(429)
    expect((await users(tenant.id, { authorization: tenant.basic, 'cf-connecting-ip': '192.0.2.1' })).status).toBe(200)
  })
})

describe('tiers', () => {
  it('a tier whose binding wrangler.toml does not declare fails closed with a 503 naming the binding', async () => {
    const tenant = await newTenant()
    await env.TENANTS.put(
      tenantDocumentKey(tenant.id),
      JSON.stringify({ ...tenant.doc, settings: { rateLimitTier: 'gold' } }),
    )
    const res = await tenant.fetch('/Users')
    expect(res.status).toBe(503)
    expect(((await res.json()) as { detail: string }).detail).toMatch(/RATE_LIMITER_GOLD/)
  })
})
