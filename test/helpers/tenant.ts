import { env, SELF } from 'cloudflare:test'
import { newTenantDocument } from '../../src/tenants/mint.ts'
import { tenantDocumentKey, tenantKey, type TenantDocument } from '../../src/tenants/document.ts'

let counter = 0

/** A tenant made for one test: its Base URL, credentials and a fetch that authenticates. */
export interface TestTenant {
  id: string
  /** What the tenant's rows are stored under (their tenant_id), for tests that read D1 directly. */
  key: string
  doc: TenantDocument
  baseUrl: string
  username: string
  password: string
  bearerToken: string
  basic: string
  bearer: string
  /** Fetches `path` (relative to the Base URL) with Basic auth unless headers say otherwise. */
  fetch(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>
}

/** Creates a fresh tenant in KV (storage is shared within a test file, so every test makes its own). */
export async function newTenant(
  options: { name?: string; appUrl?: string; status?: 'active' | 'disabled' } = {},
): Promise<TestTenant> {
  const id = `t${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`
  const { doc, secrets } = await newTenantDocument(
    { id, name: options.name ?? `Tenant ${id}`, appUrl: options.appUrl ?? 'https://app.example.com' },
    new Date(),
  )
  if (options.status) doc.status = options.status
  await env.TENANTS.put(tenantDocumentKey(id), JSON.stringify(doc))
  const baseUrl = `${env.PUBLIC_URL}/scim/v2/${id}`
  const basic = `Basic ${btoa(`${secrets.username}:${secrets.password}`)}`
  const bearer = `Bearer ${secrets.bearerToken}`
  return {
    id,
    key: tenantKey(doc),
    doc,
    baseUrl,
    ...secrets,
    basic,
    bearer,
    fetch(path, init = {}) {
      const headers = new Headers(init.headers)
      if (!headers.has('authorization')) headers.set('authorization', basic)
      let body = init.body
      if (init.json !== undefined) {
        body = JSON.stringify(init.json)
        if (!headers.has('content-type')) headers.set('content-type', 'application/scim+json')
      }
      return SELF.fetch(`${baseUrl}${path}`, { ...init, headers, body })
    },
  }
}
