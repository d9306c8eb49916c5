/** Tenant data has a lifecycle: a freed id never hands a new customer the old one's rows, and erasure is complete. */
import { env, SELF } from 'cloudflare:test'
import { getTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { describe, expect, it } from 'vitest'
import * as schema from '../../src/db/schema.ts'
import { tenantTableNames } from '../../src/db/tenant-tables.ts'
import { inviteStatus } from '../../src/invites/accept.ts'
import { inviteToken } from '../../src/invites/token.ts'
import { systemScope, systemTenantScopes } from '../../src/runtime/scopes.ts'
import { eraseDueTenants } from '../../src/runtime/erasures.ts'
import { commands, createTenant, type CommandContext } from '../../src/tenants/commands.ts'
import { parseTenantDocument, tenantDocumentKey, TENANT_KEY_PREFIX } from '../../src/tenants/document.ts'
import { ERASURE_PREFIX, TENANT_TABLE_NAMES } from '../../src/tenants/erasures.ts'
import type { TenantStore } from '../../src/tenants/kv-store.ts'
import { consume, consumerDeps, newSink, userWithInvite } from '../invites/helpers.ts'
import { newTenant } from '../helpers/tenant.ts'

/** The support CLI's store over the Worker's own KV and D1, so the real commands run here. */
function workerStore(): TenantStore {
  return {
    where: 'test',
    get: async (id) => parseTenantDocument(await env.TENANTS.get(tenantDocumentKey(id))),
    put: async (doc) => env.TENANTS.put(tenantDocumentKey(doc.id), JSON.stringify(doc)),
    delete: async (id) => env.TENANTS.delete(tenantDocumentKey(id)),
    list: async () =>
      (await env.TENANTS.list({ prefix: TENANT_KEY_PREFIX })).keys.map((k) => ({
        id: k.name.slice(TENANT_KEY_PREFIX.length),
      })),
    records: (prefix) => ({
      get: async (name) => (await env.TENANTS.get(`${prefix}${name}`)) ?? undefined,
      put: async (name, text) => env.TENANTS.put(`${prefix}${name}`, text),
      delete: async (name) => env.TENANTS.delete(`${prefix}${name}`),
      list: async () => (await env.TENANTS.list({ prefix })).keys.map((k) => k.name.slice(prefix.length)),
    }),
    d1: async (statements) => {
      const results = await env.DB.batch(statements.map((s) => env.DB.prepare(s)))
      return results.map((r) => r.meta.changes ?? 0)
    },
  }
}

function cli(now = new Date()): CommandContext {
  return { store: workerStore(), publicUrl: env.PUBLIC_URL, now: () => now }
}

async function rowsUnder(key: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of tenantTableNames()) {
    const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`)
      .bind(key)
      .first<{ n: number }>()
    if (row!.n) counts[table] = row!.n
  }
  return counts
}

/** A tenant with a user, a group with that member, a sent invite and journal entries. */
async function populated() {
  const tenant = await newTenant()
  const { invite, message } = await userWithInvite(tenant, 'ada@example.com')
  await consume(consumerDeps((await newSink()).url), [message])
  const user = (await (await tenant.fetch('/Users')).json()) as { Resources: { id: string }[] }
  const group = await tenant.fetch('/Groups', {
    method: 'POST',
    json: { displayName: 'Engineering', members: [{ value: user.Resources[0]!.id }] },
  })
  expect(group.status).toBe(201)
  const token = await inviteToken(env.INVITE_TOKEN_KEY!, tenant.key, invite.id)
  return { tenant, token }
}

function lookup() {
  return {
    system: systemScope(env, { requestId: 'test' }),
    scope: systemTenantScopes(env, { task: 'invite-page', requestId: 'test' }),
  }
}

describe('the registry of tenant-owned tables', () => {
  it('names every table of the schema that has a tenant column, and the CLI names the same ones', () => {
    const withTenant = (Object.values(schema) as unknown[])
      .filter((t): t is SQLiteTable => t instanceof SQLiteTable)
      .map((t) => getTableConfig(t))
      .filter((c) => c.columns.some((col) => col.name === 'tenant_id'))
      .map((c) => c.name)
      .sort()
    expect(withTenant.length).toBeGreaterThanOrEqual(8)
    expect([...tenantTableNames()].sort()).toEqual(withTenant)
    expect([...TENANT_TABLE_NAMES]).toEqual(tenantTableNames())
  })
})

describe('deleting a tenant and reusing its id', () => {
  it("a tenant created under a freed id sees none of the old tenant's users, groups, journal or invite links", async () => {
    const { tenant: old, token } = await populated()
    expect((await inviteStatus(lookup(), token)).kind).toBe('open')
    expect(Object.keys(await rowsUnder(old.key))).toEqual(
      expect.arrayContaining([
        'users',
        'user_emails',
        'groups',
        'group_members',
        'invites',
        'audit_events',
        'tenant_counts',
      ]),
    )

    await commands.delete!.run(cli(), { id: old.id }, { confirm: old.id })
    expect((await old.fetch('/Users')).status).toBe(401)
    expect(await env.TENANTS.get(`${ERASURE_PREFIX}${old.key}`)).not.toBeNull()

    const { doc, secrets } = await createTenant(cli(), { id: old.id, appUrl: 'https://new.example.com' })
    expect(doc.key).not.toBe(old.key)
    const basic = `Basic ${btoa(`${secrets.username}:${secrets.password}`)}`
    const get = (path: string) => SELF.fetch(`${old.baseUrl}${path}`, { headers: { authorization: basic } })
    expect(((await (await get('/Users')).json()) as { totalResults: number }).totalResults).toBe(0)
    expect(((await (await get('/Groups')).json()) as { totalResults: number }).totalResults).toBe(0)
    expect(
      ((await (await get('/Users?filter=userName eq "ada@example.com"')).json()) as { totalResults: number })
        .totalResults,
    ).toBe(0)
    // The old link names the old key: dead, and the new tenant's rows are not touched by it.
    expect(await inviteStatus(lookup(), token)).toMatchObject({ kind: 'dead', reason: 'unknown' })
    // The old rows are still there (grace period) but under the old key only.
    expect(await rowsUnder(old.key)).not.toEqual({})
  })

  it('the cron erases a deleted tenant after the grace period, and only it; purge does it at once', async () => {
    const { tenant: gone } = await populated()
    const { tenant: kept } = await populated()
    const keptBefore = await rowsUnder(kept.key)
    await commands.delete!.run(cli(new Date('2026-01-01T00:00:00Z')), { id: gone.id }, { confirm: gone.id })

    const scopeAt = (at: string) => systemScope(env, { requestId: 'cron', now: () => new Date(at) })
    expect((await eraseDueTenants(scopeAt('2026-01-20T00:00:00Z'), env.TENANTS, 30)).erased).toEqual([])
    expect(await rowsUnder(gone.key)).not.toEqual({})
    expect((await eraseDueTenants(scopeAt('2026-02-01T00:00:00Z'), env.TENANTS, 30)).erased).toEqual([gone.key])
    expect(await rowsUnder(gone.key)).toEqual({})
    expect(await env.TENANTS.get(`${ERASURE_PREFIX}${gone.key}`)).toBeNull()
    expect(await rowsUnder(kept.key)).toEqual(keptBefore)

    const { tenant: purged } = await populated()
    await expect(commands.purge!.run(cli(), { id: purged.id }, { confirm: purged.id })).rejects.toThrow(/not deleted/)
    await commands.delete!.run(cli(), { id: purged.id }, { confirm: purged.id })
    await expect(commands.purge!.run(cli(), { id: purged.id }, {})).rejects.toThrow(/--confirm/)
    const result = await commands.purge!.run(cli(), { id: purged.id }, { confirm: purged.id })
    expect((result.json.erased as { rows: number }[])[0]!.rows).toBeGreaterThan(5)
    expect(await rowsUnder(purged.key)).toEqual({})
    expect(await rowsUnder(kept.key)).toEqual(keptBefore)
  })
})
