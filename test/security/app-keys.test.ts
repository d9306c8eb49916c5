/** App keys: each hashed, scoped to tenants, revocable, journaled by id, rate limited; the invite secret is its own. */
import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import worker from '../../src/index.ts'
import { InviteTokenKeyMissing } from '../../src/invites/token.ts'
import { consumerDeps } from '../../src/runtime/scopes.ts'
import { appKeyDocumentKey, mintAppKey } from '../../src/tenants/app-keys.ts'
import { newTenant } from '../helpers/tenant.ts'

async function storedKey(tenants?: string[]) {
  const { doc, key } = await mintAppKey(tenants, new Date())
  await env.TENANTS.put(appKeyDocumentKey(doc.id), JSON.stringify(doc))
  return { id: doc.id, key }
}

function app(tenantId: string, path: string, key: string, init: RequestInit = {}) {
  return SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenantId}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  })
}

describe('app keys', () => {
  it('a key made for some tenants works on them and is refused on every other tenant', async () => {
    const a = await newTenant()
    const b = await newTenant()
    const { key } = await storedKey([a.id])
    expect((await app(a.id, '/access?userName=x', key)).status).toBe(200)
    const refused = await app(b.id, '/access?userName=x', key)
    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/app key/)
  })

  it('a revoked key is refused; the old shared APP_API_KEY style of key is no key at all', async () => {
    const tenant = await newTenant()
    const { id, key } = await storedKey()
    expect((await app(tenant.id, '/access?userName=x', key)).status).toBe(200)
    await env.TENANTS.delete(appKeyDocumentKey(id))
    expect((await app(tenant.id, '/access?userName=x', key)).status).toBe(401)
    expect((await app(tenant.id, '/access?userName=x', 'test-app-key')).status).toBe(401)
  })

  it("journals every app write with the app key's id", async () => {
    const tenant = await newTenant()
    const { id, key } = await storedKey([tenant.id])
    const created = await app(tenant.id, '/users', key, {
      method: 'POST',
      body: JSON.stringify({ userName: 'made.by.app@example.com' }),
    })
    expect(created.status).toBe(201)
    const { entries } = (await (await app(tenant.id, '/journal', key)).json()) as {
      entries: { credentialId: string; action: string; outcome: string }[]
    }
    expect(entries).toContainEqual(expect.objectContaining({ action: 'create', credentialId: id }))
  })

  it('limits each key on each tenant (429 with Retry-After), and another tenant keeps working', async () => {
    const a = await newTenant()
    const b = await newTenant()
    const { key } = await storedKey()
    // Over twice the test limit (50 per 10 s), so a burst split by a window boundary still goes over in one window.
    const statuses = await Promise.all(
      Array.from({ length: 120 }, () => app(a.id, '/access?userName=x', key).then((r) => r.status)),
    )
    expect(statuses).toContain(429)
    const limited = await app(a.id, '/access?userName=x', key)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/)
    expect((await app(b.id, '/access?userName=x', key)).status).toBe(200)
  })
})

describe('INVITE_TOKEN_KEY', () => {
  it('is required: without it the consumer is not built and says which secret to set', () => {
    expect(() => consumerDeps({ ...env, INVITE_TOKEN_KEY: undefined }, 'test')).toThrow(InviteTokenKeyMissing)
    expect(() => consumerDeps({ ...env, INVITE_TOKEN_KEY: undefined }, 'test')).toThrow(/INVITE_TOKEN_KEY/)
  })

  it('is never derived from an app key: without it the queue handler sends nothing and retries every message', async () => {
    const batch = createMessageBatch('invites', [
      { id: 'm1', timestamp: new Date(), attempts: 1, body: { v: 2, tenantKey: 'nobody', inviteId: 'x' } },
    ])
    const ctx = createExecutionContext()
    const queue = worker.queue as (b: unknown, e: unknown, c: unknown) => Promise<void>
    await queue(batch, { ...env, INVITE_TOKEN_KEY: undefined }, ctx)
    const result = await getQueueResult(batch, ctx)
    expect(result.retryBatch.retry).toBe(true)
    expect(result.explicitAcks).toEqual([])
  })
})
