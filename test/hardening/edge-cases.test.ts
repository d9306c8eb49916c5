/** Writes and reads at the edges: cross-tenant tokens, checks before writes, ETags of groups, lifecycle corner cases. */
import { SELF, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { getUser } from '../../src/db/users.ts'
import { invitesOfUser } from '../../src/db/invites.ts'
import { inviteToken } from '../../src/invites/token.ts'
import { PATCH, consume, consumerDeps, newSink, userWithInvite } from '../invites/helpers.ts'
import { newTenant } from '../helpers/tenant.ts'
import { scopeOf } from '../helpers/scope.ts'

const app = (tenantId: string, path: string, init: RequestInit = {}) =>
  SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenantId}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${env.TEST_APP_KEY}`, 'content-type': 'application/json' },
  })

describe('edge cases', () => {
  it("the app API never accepts another tenant's invite", async () => {
    const a = await newTenant()
    const b = await newTenant()
    const sink = await newSink()
    const { user, invite, message } = await userWithInvite(a, 'cross@example.com')
    await consume(consumerDeps(sink.url), [message])
    const token = await inviteToken(env.INVITE_TOKEN_KEY!, a.key, invite.id)
    const wrong = await app(b.id, '/invites/accept', { method: 'POST', body: JSON.stringify({ token }) })
    expect(wrong.status).toBe(404)
    expect((await invitesOfUser(scopeOf(a), user.id))[0]!.state).toBe('sent')
    expect((await getUser(scopeOf(a), user.id))!.state).not.toBe('joined')
    const right = await app(a.id, '/invites/accept', { method: 'POST', body: JSON.stringify({ token }) })
    expect(right.status).toBe(200)
    expect((await getUser(scopeOf(a), user.id))!.state).toBe('joined')
  })

  it('a bad attributes parameter is refused before the write, not after it', async () => {
    const tenant = await newTenant()
    const res = await tenant.fetch('/Users?attributes=nope', {
      method: 'POST',
      json: { userName: 'late-400@example.com' },
    })
    expect(res.status).toBe(400)
    const list = (await (await tenant.fetch('/Users?filter=userName%20eq%20%22late-400@example.com%22')).json()) as {
      totalResults: number
    }
    expect(list.totalResults).toBe(0)
    const group = await tenant.fetch('/Groups?excludedAttributes=zzz', {
      method: 'POST',
      json: { displayName: 'Never' },
    })
    expect(group.status).toBe(400)
    expect(((await (await tenant.fetch('/Groups')).json()) as { totalResults: number }).totalResults).toBe(0)
  })

  it("deleting a member changes the group's ETag and lastModified", async () => {
    const tenant = await newTenant()
    const user = (await (
      await tenant.fetch('/Users', { method: 'POST', json: { userName: 'leaver@example.com' } })
    ).json()) as { id: string }
    const group = (await (
      await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'Leavers', members: [{ value: user.id }] } })
    ).json()) as { id: string; meta: { version: string; lastModified: string } }
    expect((await tenant.fetch(`/Users/${user.id}`, { method: 'DELETE' })).status).toBe(204)
    const res = await tenant.fetch(`/Groups/${group.id}`, { headers: { 'if-none-match': group.meta.version } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { members?: unknown[]; meta: { version: string } }
    expect(body.members).toBeUndefined()
    expect(body.meta.version).not.toBe(group.meta.version)
  })

  it('removing or clearing active in a PATCH keeps a deactivated user deactivated, with no new invite', async () => {
    const tenant = await newTenant()
    const { user } = await userWithInvite(tenant, 'stays-off@example.com')
    const patch = (Operations: unknown[]) =>
      tenant.fetch(`/Users/${user.id}`, { method: 'PATCH', json: { schemas: [PATCH], Operations } })
    expect((await patch([{ op: 'replace', path: 'active', value: false }])).status).toBe(200)
    for (const op of [
      { op: 'remove', path: 'active' },
      { op: 'Replace', path: 'active', value: '' },
    ]) {
      const res = await patch([op, { op: 'replace', path: 'nickName', value: String(Math.random()) }])
      expect(((await res.json()) as { active: boolean }).active, JSON.stringify(op)).toBe(false)
    }
    const invites = await invitesOfUser(scopeOf(tenant), user.id)
    expect(invites.filter((i) => i.state === 'pending')).toHaveLength(0)
  })

  it('an over-long or malformed tenant id on the app API is a 404, not a 500', async () => {
    for (const id of ['x'.repeat(600), 'Bad_Tenant']) {
      const res = await app(id, '/access?userName=a')
      expect(res.status).toBe(404)
    }
  })

  it('concurrent group PATCHes without If-Match to different attributes both persist', async () => {
    const tenant = await newTenant()
    const group = (await (
      await tenant.fetch('/Groups', { method: 'POST', json: { displayName: 'Racers' } })
    ).json()) as { id: string }
    const patch = (op: unknown) =>
      tenant.fetch(`/Groups/${group.id}`, { method: 'PATCH', json: { schemas: [PATCH], Operations: [op] } })
    const results = await Promise.all([
      patch({ op: 'replace', path: 'displayName', value: 'Racers renamed' }),
      patch({ op: 'replace', path: 'externalId', value: 'ext-1' }),
    ])
    expect(results.map((r) => r.status)).toEqual([204, 204])
    const current = (await (await tenant.fetch(`/Groups/${group.id}`)).json()) as {
      displayName: string
      externalId: string
    }
    expect(current).toMatchObject({ displayName: 'Racers renamed', externalId: 'ext-1' })
  })
})
