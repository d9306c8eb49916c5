/**
 * What the provisioning journal and the request log keep: attribute names, operation kinds and counts,
 * never values, client-written PATCH path text or unknown body keys; the request id is always ours.
 */
import { env, SELF } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { summarizeChange } from '../../src/observability/summary.ts'
import { newTenant } from '../helpers/tenant.ts'
import { ENTERPRISE_URN, PATCH_URN } from '../hardening/scim-assert.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

async function journal(tenantKey: string): Promise<Record<string, string | null>[]> {
  return (
    await env.DB.prepare('SELECT * FROM audit_events WHERE tenant_id = ? ORDER BY at, rowid')
      .bind(tenantKey)
      .all<Record<string, string | null>>()
  ).results
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('journal summaries', () => {
  it('reduce PATCH paths to attribute names and count unknown body keys, never naming values or client text', async () => {
    const tenant = await newTenant()
    const created = await tenant.fetch('/Users', {
      method: 'POST',
      json: {
        userName: 'private@example.com',
        active: false,
        emails: [{ value: 'x@y.example', type: 'work' }],
        'secret-key-carol@example.com': 'v',
        carolsSalary: 1,
        [ENTERPRISE_URN]: { department: 'Payroll' },
      },
    })
    expect(created.status, await created.clone().text()).toBe(201)
    const { id } = (await created.json()) as { id: string }
    const patched = await tenant.fetch(`/Users/${id}`, {
      method: 'PATCH',
      json: {
        schemas: [PATCH_URN],
        Operations: [
          { op: 'replace', path: 'emails[value eq "x@y.example"].type', value: 'home' },
          { op: 'replace', path: `${ENTERPRISE_URN}:department`, value: 'Payroll 2' },
          { op: 'add', value: { nickName: 'Caz', 'unknown-key-dave@example.com': 'z', active: 'False' } },
        ],
      },
    })
    expect(patched.status, await patched.clone().text()).toBe(200)
    // A path naming no attribute fails; its entry still names nothing the client wrote.
    const failed = await tenant.fetch(`/Users/${id}`, {
      method: 'PATCH',
      json: { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'bob@example.com[x eq "y"]', value: 1 }] },
    })
    expect(failed.status).toBe(400)
    const entries = await journal(tenant.key)
    expect(entries.map((e) => [e.outcome, e.summary])).toEqual([
      ['ok 201', `userName active=false emails(1) ${ENTERPRISE_URN} +2 unknown`],
      ['ok 200', 'replace emails; replace department; add {nickName active=false +1 unknown}'],
      ['error 400', 'replace ?'],
    ])
    const all = JSON.stringify(entries)
    for (const secret of [
      'x@y.example',
      'value eq',
      'Payroll',
      'Caz',
      'carol',
      'dave@example.com',
      'bob@example.com',
      'private@example.com',
    ]) {
      expect(all).not.toContain(secret)
    }
  })

  it('summarizeChange keeps names, kinds and counts only', () => {
    expect(
      summarizeChange('PATCH', {
        Operations: [
          { op: 'remove', path: 'members[value eq "u1" or value eq "u2"]' },
          { op: 'add', path: 'members', value: [{ value: 'a' }, { value: 'b' }] },
          { op: 'replace', path: 'name.givenName', value: 'Ada' },
          { op: 'delete-everything', path: 'userName' },
          'not an operation',
        ],
      }),
    ).toBe('remove members; add members(2); replace name; ? userName; ?')
    expect(summarizeChange('POST', { displayName: 'Secret Project', 'x@y': 1, members: [] })).toBe(
      'displayName members(0) +1 unknown',
    )
    // A string that is not a boolean attribute's value is never shown.
    expect(summarizeChange('PATCH', { Operations: [{ op: 'replace', path: 'title', value: 'true' }] })).toBe(
      'replace title',
    )
  })
})

describe('request ids', () => {
  it('are ours: a client cf-ray is logged as cfRay (at most 64 characters), never the request id or in the journal', async () => {
    const logs = vi.spyOn(console, 'log').mockImplementation(() => {})
    const tenant = await newTenant()
    const ray = `client-chosen-ray-${'r'.repeat(100)}`
    const res = await tenant.fetch('/Users', {
      method: 'POST',
      headers: { 'cf-ray': ray },
      json: { userName: 'ray@example.com', active: false },
    })
    expect(res.status).toBe(201)
    const requestId = res.headers.get('x-request-id')!
    expect(requestId).toMatch(UUID)
    const failed = await tenant.fetch('/Users', {
      method: 'POST',
      headers: { 'cf-ray': ray },
      json: { userName: 'ray@example.com' },
    })
    expect(failed.status).toBe(409)
    const entries = await journal(tenant.key)
    expect(entries.map((e) => e.request_id)).toEqual([requestId, failed.headers.get('x-request-id')])
    expect(JSON.stringify(entries)).not.toContain('client-chosen-ray')
    const lines = logs.mock.calls
      .map(([line]) => JSON.parse(String(line)) as Record<string, unknown>)
      .filter((l) => l.event === 'request')
    const line = lines.find((l) => l.requestId === requestId)
    expect(line).toMatchObject({ requestId, cfRay: ray.slice(0, 64), status: 201 })
  })

  it('the request log line never carries the path below /invite/', async () => {
    const logs = vi.spyOn(console, 'log').mockImplementation(() => {})
    const token = 'secret-invite-token-abc123'
    const res = await SELF.fetch(`${env.PUBLIC_URL}/invite/${token}`)
    await res.arrayBuffer()
    const line = logs.mock.calls
      .map(([l]) => JSON.parse(String(l)) as Record<string, unknown>)
      .find((l) => l.event === 'request')
    expect(line).toMatchObject({ path: '/invite/…' })
    expect(JSON.stringify(logs.mock.calls)).not.toContain(token)
  })
})
