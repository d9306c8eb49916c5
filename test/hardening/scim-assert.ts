/** Shared helpers of the hardening suites: tenants for heavy traffic and SCIM response checks. */
import { env } from 'cloudflare:test'
import { expect, vi } from 'vitest'
import { tenantDocumentKey } from '../../src/tenants/document.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error'
export const LIST_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
export const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group'
export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

/** A tenant with rate limiting off (settings.rateLimitTier "off"), for suites that send thousands of requests. */
export async function unlimitedTenant(): Promise<TestTenant> {
  const tenant = await newTenant()
  tenant.doc = { ...tenant.doc, settings: { ...tenant.doc.settings, rateLimitTier: 'off' } }
  await env.TENANTS.put(tenantDocumentKey(tenant.id), JSON.stringify(tenant.doc))
  return tenant
}

/**
 * Mutes the Worker's request log lines (it shares the test isolate's console) so thousands of requests
 * do not flood the output; returns the spies, which also record what was logged.
 */
export function muteLogs() {
  return {
    log: vi.spyOn(console, 'log').mockImplementation(() => {}),
    warn: vi.spyOn(console, 'warn').mockImplementation(() => {}),
    error: vi.spyOn(console, 'error').mockImplementation(() => {}),
  }
}

/** A parsed response: status, headers and the body as text and (when it parses) JSON. */
export interface Answer {
  status: number
  headers: Headers
  text: string
  json: any
}

/** Reads a response once; `json` is undefined when the body is empty or not JSON. */
export async function answer(res: Response): Promise<Answer> {
  const text = await res.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

/** Problems with an error response as RFC 7644 §3.12 shapes it, or [] when it is a proper SCIM error. */
export function scimErrorProblems(a: Answer): string[] {
  const problems: string[] = []
  if (!a.headers.get('content-type')?.includes('application/scim+json'))
    problems.push(`content-type ${a.headers.get('content-type')}`)
  const body = a.json
  if (typeof body !== 'object' || body === null)
    return [...problems, `body is not a JSON object: ${a.text.slice(0, 200)}`]
  if (JSON.stringify(body.schemas) !== JSON.stringify([ERROR_URN]))
    problems.push(`schemas ${JSON.stringify(body.schemas)}`)
  if (body.status !== String(a.status)) problems.push(`status ${JSON.stringify(body.status)} for HTTP ${a.status}`)
  if (typeof body.detail !== 'string' || body.detail.length === 0) problems.push('no detail')
  if (typeof body.detail === 'string' && leaks(body.detail)) problems.push(`detail leaks internals: ${body.detail}`)
  return problems
}

/** True when text looks like SQL, a stack trace or a D1 error escaped into a response. */
export function leaks(text: string): boolean {
  return /\bat [\w$.<>]+ \(|\.ts:\d|D1_|SQLITE|\bSELECT\b|\bINSERT INTO\b|\bFROM users\b|json_each|Failed query/.test(
    text,
  )
}

/** Asserts a SCIM error with the given status, scimType and detail (RFC 7644 §3.12). */
export async function expectScimError(
  res: Response,
  status: number,
  scimType: string | undefined,
  detail: RegExp,
): Promise<Answer> {
  const a = await answer(res)
  expect(a.status, a.text).toBe(status)
  expect(scimErrorProblems(a), a.text).toEqual([])
  expect(a.json.scimType, a.text).toBe(scimType)
  expect(a.json.detail).toMatch(detail)
  return a
}

/**
 * Server-issued ids come from a fixed sequence while the spies are on, so a fuzz run that compares or
 * orders ids (`groups lt "Paris"`) fails the same way for the same seed on every run. Ids are UUIDv7
 * (src/db/ids.ts): their random bits come from crypto.randomUUID and their first 48 bits from
 * Date.now, so both are pinned. The Worker shares this isolate's globals, so the spies reach it.
 */
export function fixedUuids(): { mockRestore(): void } {
  let state = 0x2545f491
  const hex = (n: number) => {
    let out = ''
    for (let i = 0; i < n; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0
      out += ((state >>> 16) & 15).toString(16)
    }
    return out
  }
  const random = vi
    .spyOn(crypto, 'randomUUID')
    .mockImplementation(
      () =>
        `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}` as `${string}-${string}-${string}-${string}-${string}`,
    )
  const clock = vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 0, 1))
  return {
    mockRestore() {
      random.mockRestore()
      clock.mockRestore()
    },
  }
}
