import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { runMaintenance } from '../../src/maintenance.ts'
import { systemScopeAt } from '../helpers/scope.ts'
import { newTenant } from '../helpers/tenant.ts'

describe('maintenance', () => {
  it('prunes journal entries past the retention and expired page marks, and keeps the rest', async () => {
    const tenant = await newTenant()
    for (let i = 0; i < 3; i++)
      await tenant.fetch('/Users', { method: 'POST', json: { userName: `m${i}@example.com` } })
    await tenant.fetch('/Users?startIndex=1&count=1')
    await env.DB.prepare(
      "UPDATE audit_events SET at = '2020-01-01T00:00:00.000Z' WHERE tenant_id = ? AND rowid = (SELECT min(rowid) FROM audit_events WHERE tenant_id = ?)",
    )
      .bind(tenant.key, tenant.key)
      .run()
    const count = async (table: string) =>
      (
        (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`).bind(tenant.key).first()) as {
          n: number
        }
      ).n
    // Each create and the invite it queued.
    expect(await count('audit_events')).toBe(6)
    expect(await count('page_marks')).toBe(1)
    const now = new Date()
    expect(await runMaintenance(systemScopeAt(now), { retentionDays: 30 })).toMatchObject({ journal: 1, marks: 0 })
    expect(await count('audit_events')).toBe(5)
    await runMaintenance(systemScopeAt(new Date(now.getTime() + 2 * 3600_000)), { retentionDays: 30 })
    expect(await count('page_marks')).toBe(0)
  })
})
