/** The lifecycle's effect on invites (shared/DESIGN.md "Lifecycle"), through provisioning, without the queue. */
import { describe, expect, it } from 'vitest'
import { getUser } from '../../src/db/users.ts'
import type { InviteMessage } from '../../src/env.ts'
import { sweepStrandedInvites } from '../../src/invites/outbox.ts'
import { reinvite } from '../../src/invites/reinvite.ts'
import { invitesOfUser, markAccepted } from '../../src/invites/store.ts'
import { createScimUser, deleteScimUser, patchScimUser, replaceScimUser } from '../../src/provisioning/users.ts'
import { newTenant } from '../helpers/tenant.ts'
import { PATCH, USER, consume, consumerDeps, db, newSink } from './helpers.ts'

const setActive = (active: boolean) => ({ schemas: [PATCH], Operations: [{ op: 'replace', value: { active } }] })

async function states(tenantId: string, userId: string) {
  return (await invitesOfUser(db(), tenantId, userId)).map((i) => i.state).sort()
}

function recordingOutbox() {
  const announced: string[] = []
  return { announced, outbox: { announce: async (_t: string, ids: string[]) => void announced.push(...ids) } }
}

describe('invites follow the lifecycle', () => {
  it('an active IdP user is provisioned with one pending invite, written in the same batch, and announced', async () => {
    const tenant = await newTenant()
    const { announced, outbox } = recordingOutbox()
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'new@example.com' }, new Date(), outbox)
    expect(user.state).toBe('provisioned')
    const invites = await invitesOfUser(db(), tenant.id, user.id)
    expect(invites.map((i) => [i.state, i.tokenHash, i.expiresAt])).toEqual([['pending', null, null]])
    expect(announced).toEqual([invites[0]!.id])
  })

  it('a user created with active:false gets no invite until activated', async () => {
    const tenant = await newTenant()
    const { announced, outbox } = recordingOutbox()
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'later@example.com', active: false }, new Date(), outbox)
    expect(user.state).toBe('deactivated')
    expect(await states(tenant.id, user.id)).toEqual([])
    const active = await patchScimUser(db(), tenant.id, user.id, setActive(true), undefined, new Date(), outbox)
    expect(active.state).toBe('provisioned')
    expect(await states(tenant.id, user.id)).toEqual(['pending'])
    expect(announced).toHaveLength(1)
  })

  it('deactivation voids the pending invite; reactivating a person who never joined issues a fresh one', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'ann@example.com' }, new Date())
    const [first] = await invitesOfUser(db(), tenant.id, user.id)
    await consume(consumerDeps(sink.url), [{ v: 1, tenantId: tenant.id, inviteId: first!.id }])
    expect((await getUser(db(), tenant.id, user.id))!.state).toBe('invited')

    const off = await patchScimUser(db(), tenant.id, user.id, setActive(false), undefined, new Date())
    expect(off).toMatchObject({ state: 'deactivated', stateBeforeDeactivation: 'invited' })
    expect(await states(tenant.id, user.id)).toEqual(['void'])

    const { announced, outbox } = recordingOutbox()
    const on = await replaceScimUser(db(), tenant.id, user.id, { schemas: [USER], userName: 'ann@example.com', active: true }, undefined, new Date(), outbox)
    expect(on).toMatchObject({ state: 'provisioned', stateBeforeDeactivation: null })
    expect(await states(tenant.id, user.id)).toEqual(['pending', 'void'])
    expect(announced).toHaveLength(1)
  })

  it('reactivating a person who joined restores joined and sends no invite', async () => {
    const tenant = await newTenant()
    const sink = await newSink()
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'joe@example.com' }, new Date())
    const [invite] = await invitesOfUser(db(), tenant.id, user.id)
    await consume(consumerDeps(sink.url), [{ v: 1, tenantId: tenant.id, inviteId: invite!.id }])
    expect(await markAccepted(db(), tenant.id, invite!, new Date())).toBe(true)
    expect((await getUser(db(), tenant.id, user.id))!.state).toBe('joined')

    await patchScimUser(db(), tenant.id, user.id, setActive(false), undefined, new Date())
    const { announced, outbox } = recordingOutbox()
    const back = await patchScimUser(db(), tenant.id, user.id, setActive(true), undefined, new Date(), outbox)
    expect(back.state).toBe('joined')
    expect(await states(tenant.id, user.id)).toEqual(['accepted'])
    expect(announced).toEqual([])
  })

  it('updates that do not change active leave invites alone', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'kim@example.com' }, new Date())
    await patchScimUser(db(), tenant.id, user.id, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Kim' }] }, undefined, new Date())
    expect(await states(tenant.id, user.id)).toEqual(['pending'])
  })

  it('DELETE voids the invites of the tombstone', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'del@example.com' }, new Date())
    await deleteScimUser(db(), tenant.id, user.id, undefined, new Date())
    expect(await states(tenant.id, user.id)).toEqual(['void'])
  })

  it('users created by the app are joined and get no invite', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'own@example.com' }, new Date(), undefined, 'app')
    expect(user.state).toBe('joined')
    expect(await states(tenant.id, user.id)).toEqual([])
  })
})

describe('reinvite', () => {
  it('voids the open invite and queues a fresh one for a person who has not joined', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'Re@Example.com' }, new Date())
    const { announced, outbox } = recordingOutbox()
    const result = await reinvite(db(), tenant.id, { userName: 're@example.com' }, new Date(), outbox)
    expect(result).toEqual({ ok: true, userId: user.id, inviteId: expect.any(String) })
    expect(announced).toEqual([(result as { inviteId: string }).inviteId])
    expect(await states(tenant.id, user.id)).toEqual(['pending', 'void'])
  })

  it('refuses unknown, deactivated and joined people', async () => {
    const tenant = await newTenant()
    const { outbox } = recordingOutbox()
    expect(await reinvite(db(), tenant.id, { userName: 'nobody' }, new Date(), outbox)).toEqual({ ok: false, reason: 'unknown' })
    const off = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'off', active: false }, new Date())
    expect(await reinvite(db(), tenant.id, { userName: 'off' }, new Date(), outbox)).toEqual({ ok: false, reason: 'deactivated', userId: off.id })
    const app = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'app-user' }, new Date(), undefined, 'app')
    expect(await reinvite(db(), tenant.id, { userName: 'app-user' }, new Date(), outbox)).toEqual({ ok: false, reason: 'joined', userId: app.id })
  })
})

describe('sweep', () => {
  it('re-enqueues invites that stayed pending and untouched because their queue send failed', async () => {
    const tenant = await newTenant()
    const created = new Date(Date.now() - 3600_000)
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'stranded@example.com' }, created)
    const [invite] = await invitesOfUser(db(), tenant.id, user.id)
    const sent: InviteMessage[] = []
    const queue = { sendBatch: async (msgs: { body: InviteMessage }[]) => void sent.push(...msgs.map((m) => m.body)) } as unknown as Queue<InviteMessage>
    await sweepStrandedInvites(db(), queue, new Date(), 100)
    expect(sent).toContainEqual({ v: 1, tenantId: tenant.id, inviteId: invite!.id })

    // Once a consumer took it (attempts > 0), the sweep leaves it to the queue's retries.
    await consume(consumerDeps((await newSink()).url), [{ v: 1, tenantId: tenant.id, inviteId: invite!.id }])
    sent.length = 0
    await sweepStrandedInvites(db(), queue, new Date(), 100)
    expect(sent.filter((m) => m.inviteId === invite!.id)).toEqual([])
  })

  it('leaves invites younger than two minutes to the message that is on its way', async () => {
    const tenant = await newTenant()
    const user = await createScimUser(db(), tenant.id, { schemas: [USER], userName: 'fresh@example.com' }, new Date())
    const [invite] = await invitesOfUser(db(), tenant.id, user.id)
    const sent: InviteMessage[] = []
    const queue = { sendBatch: async (msgs: { body: InviteMessage }[]) => void sent.push(...msgs.map((m) => m.body)) } as unknown as Queue<InviteMessage>
    await sweepStrandedInvites(db(), queue, new Date(), 100)
    expect(sent.filter((m) => m.inviteId === invite!.id)).toEqual([])
  })
})
