/** The Directory RPC entrypoint answers what the HTTP app API answers. */
import { createExecutionContext, env } from 'cloudflare:test'
import { expect, it } from 'vitest'
import { Directory } from '../../src/directory.ts'
import { newTenant } from '../helpers/tenant.ts'
import { consume, consumerDeps, newSink, userWithInvite } from './helpers.ts'

it('canSignIn, getUser, acceptInvite, createUser and createGroup', async () => {
  const directory = new Directory(createExecutionContext(), env)
  const tenant = await newTenant({ appUrl: 'https://app.example.com/' })
  const sink = await newSink()
  const { user, message } = await userWithInvite(tenant, 'rpc@example.com')
  await consume(consumerDeps(sink.url), [message])
  const token = (await sink.messages())[0]!.link!.split('#').at(-1)!

  expect(await directory.canSignIn(tenant.id, { email: 'RPC@example.com' })).toEqual({
    allowed: false,
    state: 'invited',
    userId: user.id,
  })
  expect(await directory.acceptInvite(token)).toMatchObject({
    accepted: true,
    tenantId: tenant.id,
    appUrl: 'https://app.example.com/',
    user: { id: user.id, state: 'joined' },
  })
  expect(await directory.acceptInvite(token)).toMatchObject({ accepted: true })
  expect(await directory.acceptInvite('nope')).toEqual({ accepted: false, reason: 'unknown' })
  expect(await directory.canSignIn(tenant.id, { userName: 'rpc@example.com' })).toEqual({
    allowed: true,
    state: 'joined',
    userId: user.id,
  })
  expect(await directory.getUser(tenant.id, user.id)).toMatchObject({ userName: 'rpc@example.com', state: 'joined' })
  expect(await directory.getUser(tenant.id, 'missing')).toBeNull()

  const made = await directory.createUser(tenant.id, { userName: 'made-by-app' })
  expect(made).toMatchObject({ state: 'joined', source: 'app' })
  expect(await directory.createGroup(tenant.id, { displayName: 'Team', members: [{ value: made.id }] })).toMatchObject({
    displayName: 'Team',
    memberCount: 1,
  })
  await expect(directory.canSignIn('no-such-tenant', { userName: 'x' })).rejects.toThrow(/No such tenant/)
})

it('events and ackEvent: the feed of the RPC, user.joined once however often the link is accepted', async () => {
  const directory = new Directory(createExecutionContext(), env)
  const tenant = await newTenant()
  const sink = await newSink()
  const { user, message } = await userWithInvite(tenant, 'feed@example.com')
  await consume(consumerDeps(sink.url), [message])
  const token = (await sink.messages())[0]!.link!.split('#').at(-1)!
  await directory.acceptInvite(token)
  await directory.acceptInvite(token)

  const page = await directory.events(tenant.id)
  expect(page.events.map((e) => e.type)).toEqual(['user.created', 'user.joined'])
  expect(page.events[1]).toMatchObject({ resource: { type: 'User', id: user.id }, actor: { kind: 'system' } })
  expect(await directory.events(tenant.id, { after: page.cursor })).toEqual({
    events: [],
    cursor: page.cursor,
    more: false,
  })
  expect((await directory.events(tenant.id, { limit: 1 })).events).toHaveLength(1)
  await expect(directory.events(tenant.id, { after: 'x' })).rejects.toThrow(/after must be the cursor/)
  await expect(directory.ackEvent(tenant.id, page.events[0]!.id)).rejects.toThrow(/needs no receipt/)
  await expect(directory.events('no-such-tenant')).rejects.toThrow(/No such tenant/)
})
