/**
 * Security Event Tokens of events (src/signals/set.ts): signed with ES256 and EdDSA, verified as
 * `secevent+jwt` for their issuer and audience, with RFC 9967 event URIs, `sub_id`, `jti`, `toe` and
 * `txn`; notice events name attributes but carry no values, full events carry the resource.
 */
import { decodeProtectedHeader, generateKeyPair, type JWTPayload, jwtVerify } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AppEvent, EventType } from '../../src/signals/event.ts'
import { EVENT_TYPES } from '../../src/signals/event.ts'
import {
  eventUris,
  SCIM_EVENT,
  SET_CONTENT_TYPE,
  SET_EVENT_URIS,
  securityEventToken,
  setEvents,
  USER_JOINED_EVENT,
} from '../../src/signals/set.ts'

const ISSUER = 'https://scim.example.com'
const AUDIENCE = 'https://app.example.com/scim-events'
const BASE_URL = 'https://scim.example.com/scim/v2/acme'
const USER_ID = '2b2f880a-f667-4ac2-84ba-e9381673d462'
const GROUP_ID = '176f397e-c4c4-4b94-b2cf-cb759780b8c2'

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>
const keys: Record<'ES256' | 'EdDSA', KeyPair> = {} as never

beforeAll(async () => {
  keys.ES256 = await generateKeyPair('ES256', { extractable: true })
  keys.EdDSA = await generateKeyPair('EdDSA', { extractable: true })
})

function appEvent(type: EventType, extra: Partial<AppEvent> = {}): AppEvent {
  return {
    id: `evt_${type.replace('.', '_')}_01`,
    seq: 42,
    type,
    time: '2026-05-20T10:11:12.345Z',
    tenantId: 'acme',
    actor: { kind: 'idp', id: 'cred_1' },
    resource: type.startsWith('group.') ? { type: 'Group', id: GROUP_ID } : { type: 'User', id: USER_ID },
    ...extra,
  }
}

/** Signs the event's SET with `alg` and verifies it as a receiver would; returns header and claims. */
async function roundTrip(
  event: AppEvent,
  alg: 'ES256' | 'EdDSA' = 'ES256',
  more: { full?: Record<string, unknown>; txn?: string; now?: Date } = {},
) {
  const token = await securityEventToken(event, {
    issuer: ISSUER,
    audience: AUDIENCE,
    baseUrl: BASE_URL,
    signer: { kid: `kid-${alg}`, alg, key: keys[alg].privateKey },
    ...more,
  })
  const { payload, protectedHeader } = await jwtVerify(token, keys[alg].publicKey, {
    typ: 'secevent+jwt',
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: [alg],
  })
  return { token, header: protectedHeader, claims: payload as JWTPayload & Record<string, unknown> }
}

function events(claims: Record<string, unknown>): Record<string, Record<string, unknown>> {
  return claims.events as Record<string, Record<string, unknown>>
}

describe('securityEventToken', () => {
  it('exports the SET media type', () => {
    expect(SET_CONTENT_TYPE).toBe('application/secevent+jwt')
  })

  for (const alg of ['ES256', 'EdDSA'] as const) {
    it(`signs with ${alg}: header typ, alg, kid; iss, aud, iat, jti, toe, txn, sub_id`, async () => {
      const now = new Date('2026-05-20T10:11:20Z')
      const { token, header, claims } = await roundTrip(
        appEvent('user.updated', { attributes: ['name.familyName'] }),
        alg,
        { now },
      )
      expect(token.split('.')).toHaveLength(3)
      expect(header).toEqual({ alg, kid: `kid-${alg}`, typ: 'secevent+jwt' })
      expect(decodeProtectedHeader(token).typ).toBe('secevent+jwt')
      expect(claims.iss).toBe(ISSUER)
      expect(claims.aud).toBe(AUDIENCE)
      expect(claims.iat).toBe(Math.floor(now.getTime() / 1000))
      expect(claims.jti).toBe('evt_user_updated_01')
      expect(claims.toe).toBe(Math.floor(Date.parse('2026-05-20T10:11:12Z') / 1000))
      expect(claims.txn).toBe('evt_user_updated_01')
      expect(claims.sub_id).toEqual({ format: 'scim', uri: `/Users/${USER_ID}` })
      expect(claims.scim_base_url).toBe(BASE_URL)
      // RFC 9967 §2.1: never `sub`; nothing that expires the SET.
      expect(claims).not.toHaveProperty('sub')
      expect(claims).not.toHaveProperty('exp')
      expect(events(claims)).toEqual({ [SCIM_EVENT.putNotice]: { attributes: ['name.familyName'] } })
    })
  }

  it('is refused by a receiver expecting another audience, issuer or typ, or with another key', async () => {
    const { token } = await roundTrip(appEvent('user.deleted'))
    await expect(jwtVerify(token, keys.ES256.publicKey, { audience: 'https://other.example' })).rejects.toThrow()
    await expect(jwtVerify(token, keys.ES256.publicKey, { issuer: 'https://other.example' })).rejects.toThrow()
    await expect(jwtVerify(token, keys.ES256.publicKey, { typ: 'at+jwt' })).rejects.toThrow()
    const other = await generateKeyPair('ES256')
    await expect(jwtVerify(token, other.publicKey)).rejects.toThrow()
  })

  it('uses the given txn, so the SETs of one change share it while their jti differ', async () => {
    const a = await roundTrip(appEvent('group.members_added', { id: 'evt_a', members: ['u1'] }), 'EdDSA', {
      txn: 'batch_7',
    })
    const b = await roundTrip(appEvent('group.members_added', { id: 'evt_b', members: ['u2'] }), 'EdDSA', {
      txn: 'batch_7',
    })
    expect([a.claims.txn, b.claims.txn]).toEqual(['batch_7', 'batch_7'])
    expect([a.claims.jti, b.claims.jti]).toEqual(['evt_a', 'evt_b'])
  })

  it('user.created: create notice naming the id and attributes, no values', async () => {
    const { claims } = await roundTrip(appEvent('user.created', { attributes: ['userName', 'emails'] }))
    expect(events(claims)).toEqual({ [SCIM_EVENT.createNotice]: { attributes: ['id', 'userName', 'emails'] } })
    expect(JSON.stringify(claims)).not.toContain('@')
  })

  it('user.created with the resource: create full carrying it as data, externalId in sub_id', async () => {
    const full = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: USER_ID,
      externalId: 'jdoe-idp',
      userName: 'jdoe@example.com',
      active: true,
    }
    const { claims } = await roundTrip(appEvent('user.created', { attributes: ['userName'] }), 'EdDSA', { full })
    expect(events(claims)).toEqual({ [SCIM_EVENT.createFull]: { data: full } })
    expect(claims.sub_id).toEqual({ format: 'scim', uri: `/Users/${USER_ID}`, externalId: 'jdoe-idp' })
  })

  it('user.updated with the resource: put full, exactly one of data and attributes', async () => {
    const full = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: USER_ID, userName: 'j@example.com' }
    const { claims } = await roundTrip(appEvent('user.updated', { attributes: ['userName'] }), 'ES256', { full })
    const payload = events(claims)[SCIM_EVENT.putFull]
    expect(Object.keys(events(claims))).toEqual([SCIM_EVENT.putFull])
    expect(payload?.data).toEqual(full)
    expect(payload).not.toHaveProperty('attributes')
    // No externalId in the resource: sub_id names the path only.
    expect(claims.sub_id).toEqual({ format: 'scim', uri: `/Users/${USER_ID}` })
  })

  it('user.deactivated: the deactivate event with a put notice of what changed', async () => {
    const { claims } = await roundTrip(appEvent('user.deactivated', { attributes: ['active'] }))
    expect(events(claims)).toEqual({
      [SCIM_EVENT.deactivate]: {},
      [SCIM_EVENT.putNotice]: { attributes: ['active'] },
    })
  })

  it('user.reactivated without attribute names: the activate event alone', async () => {
    const { claims } = await roundTrip(appEvent('user.reactivated'), 'EdDSA')
    expect(events(claims)).toEqual({ [SCIM_EVENT.activate]: {} })
  })

  it('user.deleted and group.deleted: the delete event, no payload, even with a resource given', async () => {
    const user = await roundTrip(appEvent('user.deleted'), 'ES256', { full: { id: USER_ID } })
    expect(events(user.claims)).toEqual({ [SCIM_EVENT.delete]: {} })
    const group = await roundTrip(appEvent('group.deleted'))
    expect(events(group.claims)).toEqual({ [SCIM_EVENT.delete]: {} })
    expect(group.claims.sub_id).toEqual({ format: 'scim', uri: `/Groups/${GROUP_ID}` })
  })

  it("user.joined: scim-edge's own event URI, outside the IETF namespace", async () => {
    const { claims } = await roundTrip(appEvent('user.joined'))
    expect(events(claims)).toEqual({ [USER_JOINED_EVENT]: {} })
    expect(USER_JOINED_EVENT.startsWith('urn:ietf:')).toBe(false)
  })

  it('group.renamed: a put notice naming displayName even when the event lists nothing', async () => {
    const { claims } = await roundTrip(appEvent('group.renamed'))
    expect(events(claims)).toEqual({ [SCIM_EVENT.putNotice]: { attributes: ['displayName'] } })
  })

  it('group.members_added/removed: a patch notice naming members, without the member ids', async () => {
    const members = ['aaaaaaaa-0000-0000-0000-000000000001', 'aaaaaaaa-0000-0000-0000-000000000002']
    for (const type of ['group.members_added', 'group.members_removed'] as const) {
      const { claims } = await roundTrip(appEvent(type, { members }))
      expect(events(claims)).toEqual({ [SCIM_EVENT.patchNotice]: { attributes: ['members'] } })
      expect(JSON.stringify(claims)).not.toContain(members[0])
    }
  })

  it('group.members_added/removed in full mode: patch full with a PatchOp of the member ids', async () => {
    const members = ['m-1', 'm"2']
    const added = await roundTrip(appEvent('group.members_added', { members }), 'EdDSA', { full: { id: GROUP_ID } })
    expect(events(added.claims)).toEqual({
      [SCIM_EVENT.patchFull]: {
        data: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'add', path: 'members', value: [{ value: 'm-1' }, { value: 'm"2' }] }],
        },
      },
    })
    const removed = await roundTrip(appEvent('group.members_removed', { members }), 'EdDSA', { full: {} })
    const data = events(removed.claims)[SCIM_EVENT.patchFull]?.data as { Operations: unknown[] }
    expect(data.Operations).toEqual([
      { op: 'remove', path: 'members[value eq "m-1"]' },
      { op: 'remove', path: 'members[value eq "m\\"2"]' },
    ])
  })

  it('refuses an event without a valid time', async () => {
    await expect(
      securityEventToken(appEvent('user.created', { time: 'yesterday' }), {
        issuer: ISSUER,
        audience: AUDIENCE,
        baseUrl: BASE_URL,
        signer: { kid: 'k', alg: 'ES256', key: keys.ES256.privateKey },
      }),
    ).rejects.toThrow(/valid time/)
  })
})

describe('eventUris', () => {
  it('maps every event type to RFC 9967 URIs (or the joined URI), all of them listed', () => {
    const expected: Record<EventType, string[]> = {
      'user.created': [SCIM_EVENT.createNotice],
      'user.updated': [SCIM_EVENT.putNotice],
      'user.deactivated': [SCIM_EVENT.deactivate],
      'user.reactivated': [SCIM_EVENT.activate],
      'user.deleted': [SCIM_EVENT.delete],
      'user.joined': [USER_JOINED_EVENT],
      'group.created': [SCIM_EVENT.createNotice],
      'group.renamed': [SCIM_EVENT.putNotice],
      'group.updated': [SCIM_EVENT.putNotice],
      'group.deleted': [SCIM_EVENT.delete],
      'group.members_added': [SCIM_EVENT.patchNotice],
      'group.members_removed': [SCIM_EVENT.patchNotice],
    }
    for (const type of EVENT_TYPES) expect(eventUris(type), type).toEqual(expected[type])
    for (const type of EVENT_TYPES) for (const uri of eventUris(type, true)) expect(SET_EVENT_URIS).toContain(uri)
  })

  it('full mode switches create and put to their full URIs', () => {
    expect(eventUris('user.created', true)).toEqual(['urn:ietf:params:scim:event:prov:create:full'])
    expect(eventUris('group.updated', true)).toEqual(['urn:ietf:params:scim:event:prov:put:full'])
    expect(eventUris('user.deactivated', true)).toEqual([
      'urn:ietf:params:scim:event:prov:deactivate',
      'urn:ietf:params:scim:event:prov:put:full',
    ])
    expect(eventUris('user.deleted', true)).toEqual(['urn:ietf:params:scim:event:prov:delete'])
  })

  it('spells the RFC 9967 URIs', () => {
    expect(Object.values(SCIM_EVENT).sort()).toEqual(
      [
        'activate',
        'create:full',
        'create:notice',
        'deactivate',
        'delete',
        'patch:full',
        'patch:notice',
        'put:full',
        'put:notice',
      ].map((s) => `urn:ietf:params:scim:event:prov:${s}`),
    )
  })

  it('notice payloads name attributes only: every value is a list of strings or nothing', () => {
    for (const type of EVENT_TYPES) {
      const payloads = Object.values(setEvents(appEvent(type, { attributes: ['title'], members: ['m-1'] })))
      for (const p of payloads) {
        expect(p).not.toHaveProperty('data')
        for (const value of Object.values(p)) expect(value).toEqual(expect.arrayContaining([expect.any(String)]))
      }
    }
  })
})
