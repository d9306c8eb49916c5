/**
 * The requests each workload sends. Generators are deterministic (seeded PRNG), so two runs send
 * the same sequence; ids come from the seeded tenants.
 */
import type { Req } from './load.ts'
import { userBody, type SeededTenant } from './seed.ts'
import { URN } from '../src/scim/urns.ts'

export const PATCH_OP = URN.patchOp
const JSON_HEADERS = { 'content-type': 'application/scim+json', accept: 'application/scim+json' }

/** mulberry32: a small seeded PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pick = <T>(list: T[], random: () => number): T => list[Math.floor(random() * list.length)]!

function scim(t: SeededTenant, method: Req['method'], path: string, body?: unknown): Req {
  const req: Req = {
    method,
    path: `/scim/v2/${t.id}${path}`,
    headers: { authorization: t.authorization, accept: 'application/scim+json' },
  }
  if (body !== undefined) {
    req.headers = { ...req.headers, ...JSON_HEADERS }
    req.body = JSON.stringify(body)
  }
  return req
}

export const userNameFilter = (userName: string) => `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`

/** The bodies the issue names. */
export const deactivateBody = { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }
export const addMembersBody = (ids: string[]) => ({
  schemas: [PATCH_OP],
  Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }],
})

export const requests = {
  limit: (t: SeededTenant, userId: string): Req => ({ method: 'GET', path: `/u/${t.id}/${userId}`, headers: {} }),
  getUser: (t: SeededTenant, userId: string) => scim(t, 'GET', `/Users/${userId}`),
  /** The same GET with another Authorization header (the static bearer token, an OAuth access token). */
  getUserAs: (t: SeededTenant, userId: string, authorization: string): Req => {
    const req = scim(t, 'GET', `/Users/${userId}`)
    return { ...req, headers: { ...req.headers, authorization } }
  },
  /** The client credentials grant at the tenant's token endpoint, client_secret_basic (RFC 6749 §4.4, §2.3.1). */
  token: (t: SeededTenant): Req => ({
    method: 'POST',
    path: `/oauth/${t.id}/token`,
    headers: {
      authorization: t.oauthClient.basic,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: 'grant_type=client_credentials',
  }),
  filterUser: (t: SeededTenant, seq: number) => scim(t, 'GET', userNameFilter(`user${seq}@example.com`)),
  createUser: (t: SeededTenant, userName: string, seq: number) => scim(t, 'POST', '/Users', userBody(seq, userName)),
  deactivate: (t: SeededTenant, userId: string) => scim(t, 'PATCH', `/Users/${userId}`, deactivateBody),
  listGroups: (t: SeededTenant) => scim(t, 'GET', '/Groups?excludedAttributes=members'),
  importPage: (t: SeededTenant, startIndex: number, count: number) =>
    scim(t, 'GET', `/Users?startIndex=${startIndex}&count=${count}`),
  addMembers: (t: SeededTenant, groupId: string, ids: string[]) =>
    scim(t, 'PATCH', `/Groups/${groupId}`, addMembersBody(ids)),
  removeMembers: (t: SeededTenant, groupId: string, ids: string[]) =>
    scim(t, 'PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: 'members', value: ids.map((value) => ({ value })) }],
    }),
  // The contention workload (bench/contention.ts).
  addEmail: (t: SeededTenant, userId: string, email: { value: string; type: string }) =>
    scim(t, 'PATCH', `/Users/${userId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'emails', value: [email] }],
    }),
  setActive: (t: SeededTenant, userId: string, active: boolean) =>
    scim(t, 'PATCH', `/Users/${userId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'active', value: active }],
    }),
  renameGroup: (t: SeededTenant, groupId: string, displayName: string) =>
    scim(t, 'PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'displayName', value: displayName }],
    }),
  getGroup: (t: SeededTenant, groupId: string) => scim(t, 'GET', `/Groups/${groupId}`),
}

/** The mix of the Okta-like workload, in percent (README "Mixed workload"). */
export const MIX = [
  ['filter userName eq (existence check before create)', 30],
  ['GET /Users/{id}', 25],
  ['POST /Users', 10],
  ['PUT /Users/{id} (profile push)', 10],
  ['PATCH /Users/{id} active', 5],
  ['GET /Groups?filter=displayName eq', 5],
  ['PATCH /Groups/{id} add or remove one member', 10],
  ['GET /Users?startIndex&count=100 (import page)', 5],
] as const

/**
 * An Okta-like stream over several tenants: tenants take turns (so each gets rate/tenants requests a
 * second), the operation is drawn from MIX. `run` makes created userNames unique across runs.
 */
export function mixedStream(
  tenants: SeededTenant[],
  usersPerTenant: number,
  run: string,
  random: () => number,
): () => Req {
  let turn = 0
  let created = 0
  return () => {
    const t = tenants[turn++ % tenants.length]!
    const seq = 1 + Math.floor(random() * usersPerTenant)
    const userId = t.userIds[seq - 1]!
    let roll = random() * 100
    let kind = 0
    while (kind < MIX.length - 1 && roll >= MIX[kind]![1]) roll -= MIX[kind++]![1]
    switch (kind) {
      case 0: // Okta asks before it creates; a third of the names are not there yet.
        return scim(
          t,
          'GET',
          userNameFilter(random() < 0.67 ? `user${seq}@example.com` : `absent-${run}-${seq}@example.com`),
        )
      case 1:
        return scim(t, 'GET', `/Users/${userId}`)
      case 2:
        created++
        return scim(t, 'POST', '/Users', userBody(usersPerTenant + created, `mixed-${run}-${created}@example.com`))
      case 3:
        return scim(t, 'PUT', `/Users/${userId}`, { ...userBody(seq), title: `Title ${Math.floor(random() * 1000)}` })
      case 4:
        return scim(t, 'PATCH', `/Users/${userId}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', value: { active: random() < 0.5 } }],
        })
      case 5:
        return scim(
          t,
          'GET',
          `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "Group ${1 + Math.floor(random() * t.groupIds.length)}"`)}`,
        )
      case 6: {
        const op = random() < 0.5 ? 'add' : 'remove'
        const groupId = pick(t.groupIds, random)
        const body =
          op === 'add'
            ? addMembersBody([userId])
            : { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${userId}"]` }] }
        return scim(t, 'PATCH', `/Groups/${groupId}`, body)
      }
      default:
        return scim(t, 'GET', `/Users?startIndex=${1 + Math.floor(random() * usersPerTenant)}&count=100`)
    }
  }
}
