/**
 * Property-based fuzzing of PATCH through the Worker (RFC 7644 §3.5.2): random
 * operations with valid and broken paths, values of every JSON type, odd case and junk, against one
 * seeded user and one seeded group that evolve over the run. Invariants:
 * - never a 5xx; errors are SCIM-shaped;
 * - a 4xx leaves the resource exactly as it was (GET before and after are equal, meta.version included);
 * - a User PATCH does what the pure engine (parsePatchRequest + applyPatch) says: the same error
 *   status, or a 200 whose stored resource is the engine's result;
 * - after a success the resource still reads back with a string userName / displayName, and a
 *   group's members are users of this tenant only.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ScimError } from '../../src/scim/errors.ts'
import { applyPatch } from '../../src/scim/patch/apply.ts'
import { parsePatchRequest } from '../../src/scim/patch/parse.ts'
import { userResourceType } from '../../src/scim/schemas/index.ts'
import type { TestTenant } from '../helpers/tenant.ts'
import {
  answer,
  ENTERPRISE_URN,
  fixedUuids,
  muteLogs,
  PATCH_URN,
  scimErrorProblems,
  unlimitedTenant,
  type Answer,
} from './scim-assert.ts'

const RUNS = { user: 320, group: 200 }
const counts = { user: { ok: 0, error: 0, conflict: 0 }, group: { ok: 0, error: 0 } }

let tenant: TestTenant
let foreign: TestTenant
let userId: string
let groupId: string
let memberIds: string[]
let foreignUserId: string
let mute: ReturnType<typeof muteLogs>

beforeAll(async () => {
  mute = muteLogs()
  const uuids = fixedUuids()
  tenant = await unlimitedTenant()
  foreign = await unlimitedTenant()
  const post = async (t: TestTenant, path: string, json: unknown) => {
    const res = await t.fetch(path, { method: 'POST', json })
    expect(res.status, await res.clone().text()).toBe(201)
    return ((await res.json()) as { id: string }).id
  }
  userId = await post(tenant, '/Users', {
    userName: 'fuzz@example.com',
    name: { givenName: 'Fuzz', familyName: 'Patch' },
    emails: [
      { value: 'fuzz@example.com', type: 'work', primary: true },
      { value: 'f@home.org', type: 'home' },
    ],
    [ENTERPRISE_URN]: { department: 'QA' },
  })
  memberIds = [
    await post(tenant, '/Users', { userName: 'm1@example.com', active: false }),
    await post(tenant, '/Users', { userName: 'm2@example.com', active: false }),
  ]
  foreignUserId = await post(foreign, '/Users', { userName: 'fuzz@example.com', active: false })
  groupId = await post(tenant, '/Groups', { displayName: 'Fuzzers', members: [{ value: memberIds[0] }] })
  uuids.mockRestore()
})

afterAll(() => {
  mute.log.mockRestore()
  mute.warn.mockRestore()
  mute.error.mockRestore()
  console.log(
    `fuzz-patch: ${RUNS.user} user PATCHes (${counts.user.ok} 200, ${counts.user.error} 4xx, ${counts.user.conflict} 409) and ${RUNS.group} group PATCHes (${counts.group.ok} 204, ${counts.group.error} 4xx), each followed by a GET`,
  )
})

// ---- generators ----

const randomCase = (word: string) =>
  fc
    .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    .map((flags) => [...word].map((ch, i) => (flags[i] ? ch.toUpperCase() : ch)).join(''))

const verb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('add', 'replace', 'remove').chain(randomCase) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('move', 'copy', 'test', '', 1, null, true, ['add'], { op: 'add' }) },
)

const USER_PATHS = [
  'userName',
  'displayName',
  'nickName',
  'title',
  'active',
  'externalId',
  'name',
  'name.givenName',
  'name.familyName',
  'name.nope',
  'emails',
  'emails.value',
  'emails.type',
  'emails[type eq "work"]',
  'emails[type eq "work"].value',
  'emails[type eq "home"].primary',
  'emails[value eq "fuzz@example.com"]',
  'emails[primary eq true].value',
  'emails[type eq "other"].value',
  'emails[nope eq "x"]',
  'phoneNumbers',
  'phoneNumbers[type eq "mobile"].value',
  'addresses',
  'addresses[type eq "work"].locality',
  'roles',
  'x509Certificates',
  'groups',
  'id',
  'meta',
  'meta.created',
  'password',
  'schemas',
  'members',
  `${ENTERPRISE_URN}:department`,
  `${ENTERPRISE_URN}:manager`,
  `${ENTERPRISE_URN}:manager.value`,
  `${ENTERPRISE_URN}:manager.displayName`,
  ENTERPRISE_URN,
  'urn:ietf:params:scim:schemas:core:2.0:User:userName',
  'urn:ietf:params:scim:schemas:core:2.0:User',
  'urn:x:nope',
]
const GROUP_PATHS = [
  'displayName',
  'externalId',
  'members',
  'members.value',
  'members[value eq "@ID"]',
  'members[value eq "@ID" or value eq "@ID2"]',
  'members[display eq "x"]',
  'members[value eq "@ID"].display',
  'id',
  'meta',
  'nope',
  'urn:ietf:params:scim:schemas:core:2.0:Group:displayName',
]

const junkPath = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '.',
    '[',
    'emails[',
    'emails[type eq "work"',
    'emails]]',
    'emails[type eq work]',
    'name..givenName',
    'a.b.c',
    '"userName"',
    'emails[type eq "work"].',
    'emails[value co "x"].value.type',
    'emails[emails[type eq "x"]]',
  ),
  fc.constantFrom<unknown>(1, true, ['userName'], { path: 'userName' }),
)

const text = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'x',
      'Ada',
      'fuzz@example.com',
      'FUZZ@EXAMPLE.COM',
      'm1@example.com',
      'work',
      'home',
      'True',
      'false',
      '',
      ' ',
      'Émile',
      '2024-05-01T00:00:00Z',
    ),
  },
  { weight: 3, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(4097), 'é'.repeat(4096)) },
)
const email = fc.record(
  { value: text, type: fc.constantFrom('work', 'home', 'other', 'Work'), primary: fc.boolean(), display: text },
  { requiredKeys: [] },
)

function memberRef(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...memberIds, userId).map((value) => ({ value })) },
    { weight: 2, arbitrary: fc.constantFrom(foreignUserId, 'not-a-user', '', groupId).map((value) => ({ value })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...memberIds)
        .map((value) => ({ value, display: 'x', $ref: 'https://evil.example/Users/1', type: 'Group' })),
    },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(memberIds[0], { id: memberIds[0] }, { value: 1 }, null, {}, []) },
  )
}

function value(group: boolean): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: text },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(true, false, null, 0, 1.5, -1, [], {}) },
    { weight: 2, arbitrary: fc.array(email, { maxLength: 3 }) },
    { weight: 2, arbitrary: email },
    {
      weight: 2,
      arbitrary: fc.record(
        {
          givenName: text,
          familyName: text,
          userName: text,
          displayName: text,
          active: fc.constantFrom<unknown>(true, 'False', 'yes'),
          emails: fc.array(email, { maxLength: 2 }),
          [`name.givenName`]: text,
          [`${ENTERPRISE_URN}:department`]: text,
          id: text,
          meta: fc.constant({ version: 'W/"0"' }),
        },
        { requiredKeys: [] },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        [ENTERPRISE_URN]: fc.record(
          { department: text, manager: fc.oneof(text, fc.record({ value: text }, { requiredKeys: [] })) },
          { requiredKeys: [] },
        ),
      }),
    },
    { weight: group ? 4 : 1, arbitrary: fc.array(memberRef(), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  )
}

function operation(group: boolean): fc.Arbitrary<unknown> {
  const paths = group ? GROUP_PATHS : USER_PATHS
  const path = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom(...paths).map((p) => p.replace('@ID2', memberIds[1]!).replace('@ID', memberIds[0]!)),
    },
    { weight: 1, arbitrary: fc.constantFrom(...paths).chain(randomCase) },
    { weight: 1, arbitrary: junkPath },
  )
  return fc
    .record({
      op: verb,
      path,
      value: value(group),
      keys: fc.constantFrom('rfc', 'rfc', 'rfc', 'upper', 'noPath', 'noValue', 'nullPath'),
    })
    .map(({ op, path, value, keys }) => {
      if (keys === 'noPath') return { op, value }
      if (keys === 'noValue') return { op, path }
      if (keys === 'nullPath') return { op, path: null, value }
      if (keys === 'upper') return { OP: op, Path: path, VALUE: value }
      return { op, path, value }
    })
}

/** Operations whose value fits the path, so a good share of requests succeed and exercise the write. */
function typedOperation(group: boolean): fc.Arbitrary<unknown> {
  const op = fc.constantFrom('add', 'replace', 'Replace', 'Add')
  const name = fc.constantFrom('Ada', 'Bea', 'Émile', 'x y', '')
  if (group) {
    return fc.oneof(
      fc
        .tuple(op, fc.array(memberRef(), { minLength: 1, maxLength: 3 }))
        .map(([o, v]) => ({ op: o, path: 'members', value: v })),
      fc.constantFrom(...memberIds).map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })),
      fc.array(memberRef(), { maxLength: 2 }).map((v) => ({ op: 'Remove', path: 'members', value: v })),
      fc
        .tuple(op, fc.constantFrom('Fuzzers', 'fuzzers', 'Other', 'Ünï'))
        .map(([o, v]) => ({ op: o, path: 'displayName', value: v })),
      fc.tuple(op, name).map(([o, v]) => ({ op: o, value: { externalId: v, displayName: `G ${v}` } })),
    )
  }
  return fc.oneof(
    fc
      .tuple(
        op,
        fc.constantFrom(
          'displayName',
          'nickName',
          'title',
          'name.givenName',
          `${ENTERPRISE_URN}:department`,
          'externalId',
        ),
        name,
      )
      .map(([o, path, v]) => ({ op: o, path, value: v })),
    fc
      .tuple(op, fc.constantFrom<unknown>(true, false, 'True', 'False'))
      .map(([o, v]) => ({ op: o, path: 'active', value: v })),
    fc
      .tuple(op, fc.constantFrom('work', 'home', 'other'), fc.constantFrom('a@x.com', 'B@X.com', 'fuzz@example.com'))
      .map(([o, t, v]) => ({ op: o, path: `emails[type eq "${t}"].value`, value: v })),
    fc
      .tuple(op, fc.array(email, { minLength: 1, maxLength: 2 }))
      .map(([o, v]) => ({ op: o, path: 'emails', value: v })),
    fc
      .constantFrom(
        'emails[type eq "home"]',
        'nickName',
        'title',
        'name.givenName',
        `${ENTERPRISE_URN}:manager`,
        'phoneNumbers',
      )
      .map((path) => ({ op: 'remove', path })),
    fc.tuple(op, name, fc.constantFrom<unknown>(true, 'False')).map(([o, v, active]) => ({
      op: o,
      value: { 'name.familyName': v, active, [`${ENTERPRISE_URN}:employeeNumber`]: v },
    })),
    fc
      .tuple(op, fc.constantFrom('fuzz@example.com', 'Fuzz@Example.com', 'renamed@example.com', 'm1@example.com'))
      .map(([o, v]) => ({ op: o, path: 'userName', value: v })),
    fc
      .tuple(op, fc.constantFrom(...memberIds))
      .map(([o, v]) => ({ op: o, path: `${ENTERPRISE_URN}:manager`, value: [{ value: v }] })),
  )
}

function patchBody(group: boolean): fc.Arbitrary<unknown> {
  const one = fc.oneof({ weight: 3, arbitrary: typedOperation(group) }, { weight: 2, arbitrary: operation(group) })
  const ops = fc.oneof(
    { weight: 3, arbitrary: fc.array(one, { minLength: 1, maxLength: 2 }) },
    { weight: 1, arbitrary: fc.array(one, { minLength: 1, maxLength: 5 }) },
  )
  return fc.oneof(
    { weight: 12, arbitrary: ops.map((Operations) => ({ schemas: [PATCH_URN], Operations })) },
    { weight: 1, arbitrary: ops.map((operations) => ({ operations })) },
    {
      weight: 1,
      arbitrary: ops.map((Operations) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], Operations })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<unknown>(
        { schemas: [PATCH_URN] },
        { schemas: [PATCH_URN], Operations: [] },
        { schemas: [PATCH_URN], Operations: {} },
        [],
        'add',
        null,
        42,
      ),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  )
}

// ---- the properties ----

/** The stored form of a User representation: what applyPatch works on (id, meta and the read-only groups are not stored). */
function stored(representation: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, meta: _meta, groups: _groups, ...rest } = representation
  return rest
}

/** The last GET of each resource: only this suite writes them, so it is the next case's "before" (one request less a case). */
const lastRead = new Map<string, Answer>()

async function read(path: string): Promise<Answer> {
  const a = await answer(await tenant.fetch(path))
  expect(a.status, a.text).toBe(200)
  lastRead.set(path, a)
  return a
}

function expectSame(before: Answer, after: Answer, context: string): void {
  expect(after.json, `${context}\nthe resource changed although the PATCH failed`).toEqual(before.json)
  expect(after.headers.get('etag'), context).toBe(before.headers.get('etag'))
}

async function patchUser(body: unknown): Promise<void> {
  const before = lastRead.get(`/Users/${userId}`) ?? (await read(`/Users/${userId}`))
  const res = await answer(
    await tenant.fetch(`/Users/${userId}`, {
      method: 'PATCH',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/scim+json' },
    }),
  )
  const after = await read(`/Users/${userId}`)
  const context = `PATCH ${JSON.stringify(body).slice(0, 1500)}\n-> ${res.status} ${res.text.slice(0, 500)}`
  expect(res.status, context).toBeLessThan(500)

  // The pure engine's verdict on the same body and resource.
  let engine: { error: ScimError } | { resource: Record<string, unknown>; changed: boolean }
  try {
    const result = applyPatch(userResourceType, stored(before.json), parsePatchRequest(userResourceType, body))
    if (result.changed) result.resource.active ??= true
    engine = result
  } catch (error) {
    if (!(error instanceof ScimError)) throw error
    engine = { error }
  }

  if (res.status >= 400) {
    expect(scimErrorProblems(res), context).toEqual([])
    expectSame(before, after, context)
    if (res.status === 409) {
      counts.user.conflict++
      expect(res.json.scimType, context).toBe('uniqueness')
      expect('resource' in engine && String(engine.resource.userName).toLowerCase(), context).toMatch(
        /^m[12]@example\.com$/,
      )
      return
    }
    counts.user.error++
    expect('error' in engine ? engine.error.status : 'engine accepted it', context).toBe(res.status)
    return
  }
  counts.user.ok++
  expect(res.status, context).toBe(200)
  expect('error' in engine ? `engine says ${engine.error.status}: ${engine.error.message}` : 'ok', context).toBe('ok')
  expect(typeof after.json.userName, context).toBe('string')
  expect(res.json, context).toEqual(after.json)
  if ('resource' in engine) {
    const { schemas: _a, ...want } = engine.resource
    const { schemas: _b, ...got } = stored(after.json)
    expect(got, context).toEqual(engine.changed ? want : (({ schemas: _c, ...rest }) => rest)(stored(before.json)))
    if (!engine.changed) expect(after.headers.get('etag'), context).toBe(before.headers.get('etag'))
  }
}

async function patchGroup(body: unknown): Promise<void> {
  const before = lastRead.get(`/Groups/${groupId}`) ?? (await read(`/Groups/${groupId}`))
  const res = await answer(
    await tenant.fetch(`/Groups/${groupId}`, {
      method: 'PATCH',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/scim+json' },
    }),
  )
  const after = await read(`/Groups/${groupId}`)
  const context = `PATCH ${JSON.stringify(body).slice(0, 1500)}\n-> ${res.status} ${res.text.slice(0, 500)}`
  expect(res.status, context).toBeLessThan(500)
  if (res.status >= 400) {
    counts.group.error++
    expect(scimErrorProblems(res), context).toEqual([])
    expectSame(before, after, context)
    return
  }
  counts.group.ok++
  expect(res.status, context).toBe(204)
  expect(typeof after.json.displayName, context).toBe('string')
  const members = ((after.json.members ?? []) as { value: string }[]).map((m) => m.value)
  for (const id of members)
    expect([...memberIds, userId], `${context}\nmember ${id} is not a user of this tenant`).toContain(id)
  expect(new Set(members).size, context).toBe(members.length)
}

describe('fuzzing PATCH (RFC 7644 §3.5.2)', () => {
  it(`random User PATCHes: no 5xx, all or nothing, and what the PATCH engine says (${RUNS.user} runs)`, async () => {
    await fc.assert(fc.asyncProperty(patchBody(false), patchUser), {
      numRuns: RUNS.user,
      seed: 0x9a7c,
      endOnFailure: true,
    })
  }, 60_000)

  it(`random Group PATCHes: no 5xx, all or nothing, members only from this tenant (${RUNS.group} runs)`, async () => {
    await fc.assert(fc.asyncProperty(patchBody(true), patchGroup), {
      numRuns: RUNS.group,
      seed: 0x9a7d,
      endOnFailure: true,
    })
  }, 60_000)
})
