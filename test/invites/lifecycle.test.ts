/** The lifecycle's effect on invites, through provisioning, without the queue. */
import { describe, expect, it } from 'vitest'
import { invitesOfUser, markAccepted } from '../../src/db/invites.ts'
import { getUser } from '../../src/db/users.ts'
import type { InviteMessage } from '../../src/invites/message.ts'
import { sweepStrandedInvites } from '../../src/invites/outbox.ts'
import { reinvite } from '../../src/invites/reinvite.ts'
import { INVITE_ACCEPTED } from '../../src/lifecycle/state.ts'
import { createScimUser, deleteScimUser, patchScimUser, replaceScimUser } from '../../src/provisioning/users.ts'
import { recordingOutbox, scopeOf, systemScopeAt } from '../helpers/scope.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'
import { PATCH, USER, consume, consumerDeps, newSink } from './helpers.ts'

const setActive = (active: boolean) => ({ schemas: [PATCH], Operations: [{ op: 'replace', value: { active } }] })

async function states(tenant: TestTenant, userId: string) {
  return (await invitesOfUser(scopeOf(tenant), userId)).map((i) => i.state).sort()
}

describe('invites follow the lifecycle', () => {
  it('an active IdP user is provisioned with one pending invite, written in the same batch, and announced', async () => {
    const tenant = await newTenant()
    const { announced, outbox } = recordingOutbox()
    const user = await createScimUser(scopeOf(tenant, { outbox }), { schemas: [USER], userName: 'new@example.com' })
    expect(user.state).toBe('provisioned')
    const invites = await invitesOfUser(scopeOf(tenant), user.id)
    expect(invites.map((i) => [i.state, i.tokenHash, i.expiresAt])).toEqual([['pending', null, null]])
    expect(announced).toEqual([invites[0]!.id])
  })

  it('a user created with active:false gets no invite until activated', async () => {
    const tenant = await newTenant()
    const { announced, outbox } = recordingOutbox()
    const user = await createScimUser(scopeOf(tenant, { outbox }), {
      schemas: [USER],
      userName: 'later@example.com',
      active: false,
    })
    expect(user.state).toBe('deactivated')
    expect(await states(tenant, user.id)).toEqual([])
    const active = await patchScimUser(scopeOf(tenant, { outbox }), user.id, setActive(true))
    expect(active.state).toBe('provisioned')
    expect(await states(tenant, user.id)).toEqual(['pending'])
    expect(announced).toHaveLength(1)
  })

  it('deactivation voids the pending invite; reactivating a person who never joined issues a fresh one', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    const user = await createScimUser(scopeOf(tenant), { schemas: [USER], userName: 'ann@example.com' })
    const [first] = await invitesOfUser(scopeOf(tenant), user.id)
    await consume(consumerDeps(sink.url), [{ v: 2, tenantKey: tenant.key, inviteId: first!.id }])
    expect((await getUser(scopeOf(tenant), user.id))!.state).toBe('invited')

    const off = await patchScimUser(scopeOf(tenant), user.id, setActive(false))
    expect(off).toMatchObject({ state: 'deactivated', stateBeforeDeactivation: 'invited' })
    expect(await states(tenant, user.id)).toEqual(['void'])

    const { announced, outbox } = recordingOutbox()
    const on = await replaceScimUser(scopeOf(tenant, { outbox }), user.id, {
      schemas: [USER],
      userName: 'ann@example.com',
      active: true,
    })
    expect(on).toMatchObject({ state: 'provisioned', stateBeforeDeactivation: null })
    expect(await states(tenant, user.id)).toEqual(['pending', 'void'])
    expect(announced).toHaveLength(1)
  })

  it('reactivating a person who joined restores joined and sends no invite', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    const user = await createScimUser(scopeOf(tenant), { schemas: [USER], userName: 'joe@example.com' })
    const [invite] = await invitesOfUser(scopeOf(tenant), user.id)
    await consume(consumerDeps(sink.url), [{ v: 2, tenantKey: tenant.key, inviteId: invite!.id }])
    expect(await markAccepted(scopeOf(tenant), { invite: invite!, user: INVITE_ACCEPTED })).toBe(true)
    expect((await getUser(scopeOf(tenant), user.id))!.state).toBe('joined')

    await patchScimUser(scopeOf(tenant), user.id, setActive(false))
    const { announced, outbox } = recordingOutbox()
    const back = await patchScimUser(scopeOf(tenant, { outbox }), user.id, setActive(true))
    expect(back.state).toBe('joined')
    expect(await states(tenant, user.id)).toEqual(['accepted'])
    expect(announced).toEqual([])
  })

  it('updates that do not change active leave invites alone', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(scopeOf(tenant), { schemas: [USER], userName: 'kim@example.com' })
    await patchScimUser(scopeOf(tenant), user.id, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Kim' }],
    })
    expect(await states(tenant, user.id)).toEqual(['pending'])
  })

  it('DELETE voids the invites of the tombstone', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(scopeOf(tenant), { schemas: [USER], userName: 'del@example.com' })
    await deleteScimUser(scopeOf(tenant), user.id)
    expect(await states(tenant, user.id)).toEqual(['void'])
  })

  it('users created by the app are joined and get no invite', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(scopeOf(tenant, { app: true }), { schemas: [USER], userName: 'own@example.com' })
    expect(user.state).toBe('joined')
    expect(await states(tenant, user.id)).toEqual([])
  })
})

describe('reinvite', () => {
  it('voids the open invite and queues a fresh one for a person who has not joined', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(scopeOf(tenant), { schemas: [USER], userName: 'Re@Example.com' })
    const { announced, outbox } = recordingOutbox()
    const result = await reinvite(scopeOf(tenant, { outbox }), { userName: 're@example.com' })
    expect(result).toEqual({ ok: true, userId: user.id, inviteId: expect.any(String) })
    expect(announced).toEqual([(result as { inviteId: string }).inviteId])
    expect(await states(tenant, user.id)).toEqual(['pending', 'void'])
  })

  it('refuses unknown, deactivated and joined people', async () => {
    const tenant = await newTenant()
    const { outbox } = recordingOutbox()
    expect(await reinvite(scopeOf(tenant, { outbox }), { userName: 'nobody' })).toEqual({
      ok: false,
      reason: 'unknown',
    })
    const off = await createScimUser(scopeOf(tenant), { schemas: [USER], userName: 'off', active: false })
    expect(await reinvite(scopeOf(tenant, { outbox }), { userName: 'off' })).toEqual({
      ok: false,
      reason: 'deactivated',
      userId: off.id,
    })
    const app = await createScimUser(scopeOf(tenant, { app: true }), { schemas: [USER], userName: 'app-user' })
    expect(await reinvite(scopeOf(tenant, { outbox }), { userName: 'app-user' })).toEqual({
      ok: false,
      reason: 'joined',
      userId: app.id,
    })
  })
})

describe('sweep', () => {
  it('re-enqueues invites that stayed pending and untouched because their queue send failed', async () => {
    const tenant = await newTenant()
    const created = new Date(Date.now() - 3600_000)
    const user = await createScimUser(scopeOf(tenant, { now: created }), {
      schemas: [USER],
      userName: 'stranded@example.com',
    })
    const [invite] = await invitesOfUser(scopeOf(tenant), user.id)
    const sent: InviteMessage[] = []
    const queue = {
      sendBatch: async (msgs: { body: InviteMessage }[]) => void sent.push(...msgs.map((m) => m.body)),
    } as unknown as Queue<InviteMessage>
    await sweepStrandedInvites(systemScopeAt(new Date()), queue, 100)
    expect(sent).toContainEqual({ v: 2, tenantKey: tenant.key, inviteId: invite!.id })

    // Once a consumer took it (attempts > 0), the sweep leaves it to the queue's retries.
    await consume(consumerDeps((await newSink()).url), [{ v: 2, tenantKey: tenant.key, inviteId: invite!.id }])
    sent.length = 0
    await sweepStrandedInvites(systemScopeAt(new Date()), queue, 100)
    expect(sent.filter((m) => m.inviteId === invite!.id)).toEqual([])
  })

  it('leaves invites younger than two minutes to the message that is on its way', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(scopeOf(tenant), { schemas: [USER], userName: 'fresh@example.com' })
    const [invite] = await invitesOfUser(scopeOf(tenant), user.id)
    const sent: InviteMessage[] = []
    const queue = {
      sendBatch: async (msgs: { body: InviteMessage }[]) => void sent.push(...msgs.map((m) => m.body)),
    } as unknown as Queue<InviteMessage>
    await sweepStrandedInvites(systemScopeAt(new Date()), queue, 100)
    expect(sent.filter((m) => m.inviteId === invite!.id)).toEqual([])
  })
})
