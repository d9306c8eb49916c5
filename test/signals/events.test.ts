/**
 * Events: written in the change's own batch (none for a change that failed or changed nothing), the
 * pull feed (`/app/v1/{tenant}/events`) in sequence order without gaps or repeats under concurrent
 * writes, member events chunked, receipts by ack and overdue flags from the cron, and the journal.
 */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { runMaintenance } from '../../src/maintenance.ts'
import { createScimUser } from '../../src/provisioning/users.ts'
import { MEMBERS_PER_EVENT, type AppEvent } from '../../src/signals/event.ts'
import { scopeOf, systemScopeAt } from '../helpers/scope.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const KEY = { authorization: `Bearer ${env.TEST_APP_KEY}` }

function app(tenantId: string, path: string, init: RequestInit = {}) {
  return SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenantId}${path}`, { headers: KEY, ...init })
}

async function feed(tenantId: string, query = ''): Promise<{ events: AppEvent[]; cursor: string; more: boolean }> {
  const res = await app(tenantId, `/events${query}`)
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}

/** Every event of the tenant, page by page. */
async function allEvents(tenantId: string, limit = 1000): Promise<AppEvent[]> {
  const out: AppEvent[] = []
  let cursor = ''
  for (;;) {
    const page = await feed(tenantId, `?after=${cursor}&limit=${limit}`)
    out.push(...page.events)
    if (!page.more) return out
    cursor = page.cursor
  }
}

async function createUser(tenant: TestTenant, userName: string, extra: Record<string, unknown> = {}) {
  const res = await tenant.fetch('/Users', { method: 'POST', json: { schemas: [USER], userName, ...extra } })
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { id: string }).id
}

/** A PATCH; users answer 200 with the resource, groups 204 (what Okta expects). */
async function patch(tenant: TestTenant, path: string, Operations: unknown[]) {
  const res = await tenant.fetch(path, { method: 'PATCH', json: { schemas: [PATCH], Operations } })
  expect([200, 204], await res.clone().text()).toContain(res.status)
  return res
}

describe('events of user changes', () => {
  it('created, updated (names only), deactivated, reactivated, deleted — in order, gap-free, with the actor', async () => {
    const tenant = await newTenant()
    const id = await createUser(tenant, 'ada@example.com', { name: { givenName: 'Ada' }, title: 'Engineer' })
    await patch(tenant, `/Users/${id}`, [{ op: 'replace', path: 'title', value: 'CTO' }])
    await patch(tenant, `/Users/${id}`, [{ op: 'replace', path: 'active', value: false }])
    // A no-op PATCH changes nothing and tells nothing.
    await patch(tenant, `/Users/${id}`, [{ op: 'replace', path: 'active', value: false }])
    await patch(tenant, `/Users/${id}`, [{ op: 'replace', path: 'active', value: true }])
    expect((await tenant.fetch(`/Users/${id}`, { method: 'DELETE' })).status).toBe(204)

    const events = await allEvents(tenant.id)
    expect(events.map((e) => e.type)).toEqual([
      'user.created',
      'user.updated',
      'user.deactivated',
      'user.reactivated',
      'user.deleted',
    ])
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
    for (const e of events) {
      expect(e).toMatchObject({ tenantId: tenant.id, resource: { type: 'User', id } })
      expect(e.id).toMatch(/^evt_[0-9a-f]{24}$/)
      expect(e.actor).toEqual({ kind: 'idp', id: tenant.doc.credentials[0]!.id })
    }
    expect(events[1]!.attributes).toEqual(['title'])
    expect(events[2]!.attributes).toEqual(['active'])
    // Names, never values.
    expect(JSON.stringify(events)).not.toMatch(/CTO|Engineer|ada@example\.com/)
    expect(events[2]!.receipt).toMatchObject({ confirmedAt: null, via: null, overdue: false })
    expect(events[4]!.receipt).toBeDefined()
    expect(events[0]!.receipt).toBeUndefined()
    expect(Date.parse(events[2]!.receipt!.dueAt) - Date.parse(events[2]!.time)).toBe(5 * 60_000)
  })

  it('a change that fails in D1 (a userName taken) leaves neither the change nor an event', async () => {
    const tenant = await newTenant()
    await createUser(tenant, 'dup@example.com')
    const res = await tenant.fetch('/Users', { method: 'POST', json: { schemas: [USER], userName: 'DUP@example.com' } })
    expect(res.status).toBe(409)
    const events = await allEvents(tenant.id)
    expect(events.map((e) => e.type)).toEqual(['user.created'])
    const users = (await (await tenant.fetch('/Users')).json()) as { totalResults: number }
    expect(users.totalResults).toBe(1)
  })

  it('a user made by the app carries the app key as actor', async () => {
    const tenant = await newTenant()
    const res = await app(tenant.id, '/users', {
      method: 'POST',
      headers: { ...KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ userName: 'app-made@example.com' }),
    })
    expect(res.status).toBe(201)
    const [event] = (await feed(tenant.id)).events
    expect(event).toMatchObject({ type: 'user.created', actor: { kind: 'app', id: 'atestappkey23456' } })
  })
})

describe('events of group changes', () => {
  it('created with members, renamed, members added and removed (only real changes), replaced, deleted', async () => {
    const tenant = await newTenant()
    const [a, b, c] = [
      await createUser(tenant, 'a@example.com'),
      await createUser(tenant, 'b@example.com'),
      await createUser(tenant, 'c@example.com'),
    ]
    const created = await tenant.fetch('/Groups', {
      method: 'POST',
      json: { schemas: [GROUP], displayName: 'Eng', members: [{ value: a }] },
    })
    expect(created.status).toBe(201)
    const gid = ((await created.json()) as { id: string }).id
    const path = `/Groups/${gid}`
    await patch(tenant, path, [{ op: 'replace', path: 'displayName', value: 'Engineering' }])
    // a is a member already: only b is added.
    await patch(tenant, path, [{ op: 'add', path: 'members', value: [{ value: a }, { value: b }] }])
    // Okta re-sends the same membership: nothing changes, nothing is told.
    await patch(tenant, path, [{ op: 'add', path: 'members', value: [{ value: b }] }])
    await patch(tenant, path, [{ op: 'remove', path: `members[value eq "${a}"]` }])
    const put = await tenant.fetch(path, {
      method: 'PUT',
      json: { schemas: [GROUP], displayName: 'Engineering', members: [{ value: c }] },
    })
    expect(put.status).toBe(200)
    expect((await tenant.fetch(path, { method: 'DELETE' })).status).toBe(204)

    const events = (await allEvents(tenant.id)).filter((e) => e.resource.type === 'Group')
    expect(events.map((e) => [e.type, e.members ?? e.attributes ?? null])).toEqual([
      ['group.created', null],
      ['group.members_added', [a]],
      ['group.renamed', ['displayName']],
      ['group.members_added', [b]],
      ['group.members_removed', [a]],
      ['group.members_added', [c]],
      ['group.members_removed', [b]],
      ['group.deleted', null],
    ])
    for (const e of events) expect(e.resource).toEqual({ type: 'Group', id: gid })
  })

  it(`members added to a big group come in events of ${MEMBERS_PER_EVENT} ids, all of them once`, async () => {
    const tenant = await newTenant()
    const scope = scopeOf(tenant)
    const ids: string[] = []
    for (let i = 0; i < MEMBERS_PER_EVENT + 150; i += 50) {
      const made = await Promise.all(
        Array.from({ length: Math.min(50, MEMBERS_PER_EVENT + 150 - i) }, (_, j) =>
          createScimUser(scope, { schemas: [USER], userName: `m${i + j}@example.com` }),
        ),
      )
      ids.push(...made.map((u) => u.id))
    }
    const created = await tenant.fetch('/Groups', { method: 'POST', json: { schemas: [GROUP], displayName: 'All' } })
    const gid = ((await created.json()) as { id: string }).id
    await patch(tenant, `/Groups/${gid}`, [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }])
    const added = (await allEvents(tenant.id)).filter((e) => e.type === 'group.members_added')
    expect(added.map((e) => e.members!.length)).toEqual([MEMBERS_PER_EVENT, 150])
    expect(new Set(added.flatMap((e) => e.members!))).toEqual(new Set(ids))
    const seqs = added.map((e) => e.seq)
    expect(seqs[1]).toBe(seqs[0]! + 1)
  }, 60_000)
})

describe('the feed', () => {
  it('pages by cursor with no gap and no repeat while writes keep coming', async () => {
    const tenant = await newTenant()
    const seen: AppEvent[] = []
    let cursor = ''
    let writing = true
    const writes = (async () => {
      for (let round = 0; round < 8; round++) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => createUser(tenant, `w${round}-${i}@example.com`)))
      }
      writing = false
    })()
    while (writing || seen.length < 80) {
      const page = await feed(tenant.id, `?after=${cursor}&limit=7`)
      seen.push(...page.events)
      cursor = page.cursor
      if (!writing && !page.more && seen.length >= 80) break
    }
    await writes
    seen.push(...(await feed(tenant.id, `?after=${cursor}`)).events)
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1))
  }, 60_000)

  it('clamps limit, keeps the cursor when nothing is new, and refuses a cursor that is not one', async () => {
    const tenant = await newTenant()
    for (let i = 0; i < 3; i++) await createUser(tenant, `l${i}@example.com`)
    expect((await feed(tenant.id, '?limit=0')).events).toHaveLength(1)
    expect((await feed(tenant.id, '?limit=5000')).events).toHaveLength(3)
    expect((await feed(tenant.id, '?limit=lots')).events).toHaveLength(3)
    expect(await feed(tenant.id, '?after=3')).toEqual({ events: [], cursor: '3', more: false })
    const empty = await newTenant()
    expect(await feed(empty.id)).toEqual({ events: [], cursor: '0', more: false })
    for (const bad of ['-1', 'abc', '1.5']) {
      const res = await app(tenant.id, `/events?after=${bad}`)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ scimType: 'invalidValue', detail: expect.stringMatching(/after/) })
    }
    expect((await app(tenant.id, '/events', { headers: {} })).status).toBe(401)
  })
})

describe('receipts', () => {
  it('an ack confirms a deactivation once, journals it, and is refused for events that need none', async () => {
    const tenant = await newTenant()
    const id = await createUser(tenant, 'leaver@example.com')
    await patch(tenant, `/Users/${id}`, [{ op: 'replace', path: 'active', value: false }])
    const [created, deactivated] = (await feed(tenant.id)).events
    const ack = await app(tenant.id, `/events/${deactivated!.id}/ack`, { method: 'POST' })
    expect(ack.status).toBe(200)
    const confirmed = (await ack.json()) as AppEvent
    expect(confirmed.receipt).toMatchObject({ via: 'ack:atestappkey23456', overdue: false })
    expect(confirmed.receipt!.confirmedAt).toEqual(expect.any(String))
    // Again: the first receipt stands.
    const again = (await (
      await app(tenant.id, `/events/${deactivated!.id}/ack`, { method: 'POST' })
    ).json()) as AppEvent
    expect(again.receipt!.confirmedAt).toBe(confirmed.receipt!.confirmedAt)

    const refused = await app(tenant.id, `/events/${created!.id}/ack`, { method: 'POST' })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ detail: expect.stringMatching(/needs no receipt/) })
    expect((await app(tenant.id, '/events/evt_nope/ack', { method: 'POST' })).status).toBe(404)

    const journal = (await (await app(tenant.id, '/journal')).json()) as {
      entries: { action: string; resourceId: string; summary: string }[]
    }
    const receipts = journal.entries.filter((e) => e.action === 'confirm')
    expect(receipts).toHaveLength(1)
    expect(receipts[0]).toMatchObject({ resourceId: id })
    expect(receipts[0]!.summary).toMatch(/^user\.deactivated at \S+, app confirmed at \S+ \(\+[\d.]+ (ms|s)\) via ack:/)
  })

  it('one not confirmed in time is flagged by the cron, in the journal and the feed', async () => {
    const tenant = await newTenant()
    const id = await createUser(tenant, 'late@example.com')
    expect((await tenant.fetch(`/Users/${id}`, { method: 'DELETE' })).status).toBe(204)
    const later = new Date(Date.now() + 6 * 60_000)
    const result = await runMaintenance(systemScopeAt(later))
    expect(result.overdue).toBeGreaterThanOrEqual(1)
    // Flagged once.
    expect((await runMaintenance(systemScopeAt(later))).overdue).toBe(0)
    const journal = (await (await app(tenant.id, '/journal')).json()) as {
      entries: { action: string; outcome: string; summary: string }[]
    }
    expect(journal.entries.find((e) => e.action === 'receipt-overdue')).toMatchObject({
      outcome: 'overdue',
      summary: expect.stringMatching(/^user\.deleted at .*has not confirmed/),
    })
    const deleted = (await feed(tenant.id)).events.find((e) => e.type === 'user.deleted')!
    expect(deleted.receipt!.confirmedAt).toBeNull()
    // A late ack is still taken, and says it was late.
    const ack = (await (await app(tenant.id, `/events/${deleted.id}/ack`, { method: 'POST' })).json()) as AppEvent
    expect(ack.receipt!.confirmedAt).toEqual(expect.any(String))
  })
})
