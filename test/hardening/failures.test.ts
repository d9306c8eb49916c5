/**
 * Storage failures: a D1 error is a 503 SCIM error with Retry-After, and a write that
 * failed left nothing half-written, because each write is one D1 batch (atomic). Failures are made
 * real by renaming a table in this file's isolated D1 for the duration of one test.
 */
import { env } from 'cloudflare:test'
import { afterEach, describe, expect, it } from 'vitest'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'
import { answer, ENTERPRISE_URN, muteLogs, PATCH_URN, scimErrorProblems } from './scim-assert.ts'

const renamed: string[] = []
let spies: ReturnType<typeof muteLogs> | undefined

/** Makes every statement on `table` fail with "no such table" until the test ends. */
async function breakTable(table: string): Promise<void> {
  await env.DB.exec(`ALTER TABLE ${table} RENAME TO ${table}_broken`)
  renamed.push(table)
}

afterEach(async () => {
  for (const table of renamed.splice(0)) await env.DB.exec(`ALTER TABLE ${table}_broken RENAME TO ${table}`)
  spies?.log.mockRestore()
  spies?.warn.mockRestore()
  spies?.error.mockRestore()
  spies = undefined
})

async function expect503(res: Response): Promise<void> {
  const a = await answer(res)
  expect(a.status, a.text).toBe(503)
  expect(a.headers.get('retry-after')).toMatch(/^[1-9]\d*$/)
  expect(scimErrorProblems(a), a.text).toEqual([])
  expect(a.json.detail).toBe('Storage is temporarily unavailable; nothing was changed. Retry shortly.')
  expect(a.text).not.toMatch(/D1_|SQLITE|no such table|user_emails|group_members/)
}

async function rows(sql: string, ...params: unknown[]): Promise<Record<string, unknown>[]> {
  return (
    await env.DB.prepare(sql)
      .bind(...params)
      .all()
  ).results
}

async function createUser(
  tenant: TestTenant,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, any>> {
  const res = await tenant.fetch('/Users', {
    method: 'POST',
    json: { userName, emails: [{ value: userName, type: 'work' }], ...extra },
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as Record<string, any>
}

describe('a D1 failure is a 503 with Retry-After and nothing half-written', () => {
  it('POST /Users: no users row, no email row, no invite and no count when the email insert fails', async () => {
    const tenant = await newTenant()
    spies = muteLogs()
    await breakTable('user_emails')
    await expect503(
      await tenant.fetch('/Users', {
        method: 'POST',
        json: { userName: 'half@example.com', emails: [{ value: 'half@example.com', type: 'work' }] },
      }),
    )
    expect(await rows('SELECT id FROM users WHERE tenant_id = ?', tenant.key)).toEqual([])
    expect(await rows('SELECT id FROM invites WHERE tenant_id = ?', tenant.key)).toEqual([])
    expect(await rows('SELECT users FROM tenant_counts WHERE tenant_id = ? AND users <> 0', tenant.key)).toEqual([])
    // The failure was journaled as such (the journal itself did not fail).
    expect(
      (await rows('SELECT outcome FROM audit_events WHERE tenant_id = ?', tenant.key)).map((r) => r.outcome),
    ).toEqual(['error 503'])
    // The logs say what failed, without SQL parameters such as the userName.
    const logged = spies.error.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('storage_error'))
    expect(logged.length).toBe(1)
    expect(logged[0]).not.toContain('half@example.com')
    // Once storage is back, the same request succeeds: the retry the 503 asked for.
    for (const table of renamed.splice(0)) await env.DB.exec(`ALTER TABLE ${table}_broken RENAME TO ${table}`)
    await createUser(tenant, 'half@example.com')
  })

  it('PATCH /Users: the user keeps its version, resource and emails when the write fails', async () => {
    const tenant = await newTenant()
    const user = await createUser(tenant, 'keep@example.com', { active: false })
    const before = await rows(
      'SELECT version, resource, active, state FROM users WHERE tenant_id = ? AND id = ?',
      tenant.key,
      user.id,
    )
    spies = muteLogs()
    await breakTable('user_emails')
    await expect503(
      await tenant.fetch(`/Users/${user.id}`, {
        method: 'PATCH',
        json: {
          schemas: [PATCH_URN],
          Operations: [
            {
              op: 'replace',
              value: {
                active: true,
                displayName: 'Changed',
                emails: [{ value: 'new@example.com' }],
                [`${ENTERPRISE_URN}:department`]: 'X',
              },
            },
          ],
        },
      }),
    )
    expect(
      await rows(
        'SELECT version, resource, active, state FROM users WHERE tenant_id = ? AND id = ?',
        tenant.key,
        user.id,
      ),
    ).toEqual(before)
    expect(await rows('SELECT id FROM invites WHERE tenant_id = ?', tenant.key)).toEqual([])
    for (const table of renamed.splice(0)) await env.DB.exec(`ALTER TABLE ${table}_broken RENAME TO ${table}`)
    expect(
      await rows('SELECT value FROM user_emails WHERE tenant_id = ? AND user_id = ?', tenant.key, user.id),
    ).toEqual([{ value: 'keep@example.com' }])
  })

  it('POST /Groups and PATCH members: no group row and no membership when the member insert fails', async () => {
    const tenant = await newTenant()
    const user = await createUser(tenant, 'member@example.com', { active: false })
    const group = (await (
      await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'Existing' } })
    ).json()) as { id: string }
    spies = muteLogs()
    await breakTable('group_members')
    await expect503(
      await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'Half', members: [{ value: user.id }] } }),
    )
    await expect503(
      await tenant.fetch(`/Groups/${group.id}`, {
        method: 'PATCH',
        json: {
          schemas: [PATCH_URN],
          Operations: [
            { op: 'replace', path: 'displayName', value: 'Renamed' },
            { op: 'add', path: 'members', value: [{ value: user.id }] },
          ],
        },
      }),
    )
    expect(
      await rows(
        'SELECT id, version, member_count, display_name FROM groups WHERE tenant_id = ? ORDER BY seq',
        tenant.key,
      ),
    ).toEqual([{ id: group.id, version: 1, member_count: 0, display_name: 'existing' }])
    expect(await rows('SELECT groups FROM tenant_counts WHERE tenant_id = ?', tenant.key)).toEqual([{ groups: 1 }])
  })

  it('DELETE /Users: the user stays live and in its groups when the delete batch fails', async () => {
    const tenant = await newTenant()
    const user = await createUser(tenant, 'stay@example.com', { active: false })
    const group = (await (
      await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'G', members: [{ value: user.id }] } })
    ).json()) as { id: string }
    spies = muteLogs()
    await breakTable('group_members')
    await expect503(await tenant.fetch(`/Users/${user.id}`, { method: 'DELETE' }))
    expect(
      await rows('SELECT deleted_at, state FROM users WHERE tenant_id = ? AND id = ?', tenant.key, user.id),
    ).toEqual([{ deleted_at: null, state: 'deactivated' }])
    expect(await rows('SELECT email FROM users WHERE tenant_id = ? AND id = ?', tenant.key, user.id)).toEqual([
      { email: 'stay@example.com' },
    ])
    expect(
      await rows('SELECT value FROM user_emails WHERE tenant_id = ? AND user_id = ?', tenant.key, user.id),
    ).toEqual([{ value: 'stay@example.com' }])
    expect(await rows('SELECT member_count FROM groups WHERE tenant_id = ? AND id = ?', tenant.key, group.id)).toEqual([
      { member_count: 1 },
    ])
  })

  it('reads fail as 503 too', async () => {
    const tenant = await newTenant()
    spies = muteLogs()
    await breakTable('users')
    // (An unfiltered list of an empty tenant reads only tenant_counts, so the filter makes it read users.)
    await expect503(await tenant.fetch(`/Users?filter=${encodeURIComponent('userName eq "x"')}`))
    await expect503(await tenant.fetch('/Users/some-id'))
  })

  it('a change commits with its journal entry or not at all; a failed request is answered even when the journal is down', async () => {
    const tenant = await newTenant()
    const user = await createUser(tenant, 'journal@example.com', { active: false })
    spies = muteLogs()
    await breakTable('audit_events')
    // The entry is a statement of the change's own batch: no journal, no change (and a 503 to retry).
    await expect503(await tenant.fetch('/Users', { method: 'POST', json: { userName: 'journal-down@example.com' } }))
    await expect503(
      await tenant.fetch(`/Users/${user.id}`, {
        method: 'PATCH',
        json: { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'displayName', value: 'Changed' }] },
      }),
    )
    expect(await rows('SELECT user_name FROM users WHERE tenant_id = ? ORDER BY seq', tenant.key)).toEqual([
      { user_name: 'journal@example.com' },
    ])
    expect(await rows('SELECT display_name FROM users WHERE tenant_id = ? AND id = ?', tenant.key, user.id)).toEqual([
      { display_name: null },
    ])
    // A request that changes nothing is recorded after it was answered; a broken journal never changes that answer.
    spies.error.mockClear()
    const bad = await tenant.fetch('/Users', { method: 'POST', json: { userName: '' } })
    expect(bad.status).toBe(400)
    expect(
      spies.error.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('journal_write_failed')),
    ).toHaveLength(1)
  })

  it('a read that fails after the change was saved says so, and the journal has the change', async () => {
    const tenant = await newTenant()
    spies = muteLogs()
    // POST writes users, emails, counts, invites and the journal; the response then reads memberships for `groups`.
    await breakTable('group_members')
    const res = await tenant.fetch('/Users?attributes=groups', {
      method: 'POST',
      json: { userName: 'saved@example.com' },
    })
    expect(res.status).toBe(503)
    expect(((await res.json()) as { detail: string }).detail).toMatch(
      /after the change was saved; read the resource again/,
    )
    expect(await rows('SELECT user_name FROM users WHERE tenant_id = ?', tenant.key)).toEqual([
      { user_name: 'saved@example.com' },
    ])
    expect(
      (await rows('SELECT outcome FROM audit_events WHERE tenant_id = ? AND action = ?', tenant.key, 'create')).map(
        (r) => r.outcome,
      ),
    ).toEqual(['ok 201'])
  })
})
