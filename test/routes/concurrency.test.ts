import { describe, expect, it } from 'vitest'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'

/** Concurrent requests per round, and rounds per test (README: concurrent writes are serialised, none lost). */
const CONCURRENT = 20
const ROUNDS = 5

interface Answer {
  request: string
  status: number
  body: string
  json?: Record<string, any>
}

/** Sends every request at once (Promise.all) and reads every answer whole. */
async function fireAll(requests: { label: string; send: () => Promise<Response> }[]): Promise<Answer[]> {
  return Promise.all(
    requests.map(async ({ label, send }) => {
      const res = await send()
      const body = await res.text()
      let json: Record<string, any> | undefined
      try {
        json = body ? (JSON.parse(body) as Record<string, any>) : undefined
      } catch {
        json = undefined
      }
      return { request: label, status: res.status, body, json }
    }),
  )
}

/** The answers that are not 2xx, as `request → status body`, so a failure message shows what came back. */
function notOk(answers: Answer[]): string[] {
  return answers
    .filter((a) => a.status < 200 || a.status > 299)
    .map((a) => `${a.request} → ${a.status} ${a.body.slice(0, 300)}`)
}

function userBody(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: [USER],
    userName,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: userName, type: 'work', primary: true }],
    ...extra,
  }
}

async function createUser(tenant: TestTenant, userName: string): Promise<Record<string, any>> {
  const res = await tenant.fetch('/Users', { method: 'POST', json: userBody(userName) })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as Record<string, any>
}

async function createGroup(tenant: TestTenant, displayName: string): Promise<Record<string, any>> {
  const res = await tenant.fetch('/Groups', { method: 'POST', json: { schemas: [GROUP], displayName } })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as Record<string, any>
}

async function read(tenant: TestTenant, path: string): Promise<Record<string, any>> {
  const res = await tenant.fetch(path)
  const text = await res.text()
  expect(res.status, text).toBe(200)
  return JSON.parse(text) as Record<string, any>
}

function patch(
  tenant: TestTenant,
  path: string,
  operation: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return tenant.fetch(path, { method: 'PATCH', headers, json: { schemas: [PATCH], Operations: [operation] } })
}

/** `W/"7"` → 7. */
function versionOf(etag: string | undefined): number {
  const match = /^W\/"(\d+)"$/.exec(etag ?? '')
  expect(match, `ETag ${etag} is not W/"N"`).not.toBeNull()
  return Number(match![1])
}

describe('concurrent writes without If-Match', () => {
  it(`${CONCURRENT} concurrent PATCHes to one user without If-Match all succeed and every change persists (${ROUNDS} rounds)`, async () => {
    const tenant = await newTenant()
    for (let round = 1; round <= ROUNDS; round++) {
      const userName = `contended${round}@example.com`
      const user = await createUser(tenant, userName)
      const path = `/Users/${user.id}`
      const adds = Array.from({ length: CONCURRENT - 1 }, (_, i) => ({ value: `n${i}@example.com`, type: `other${i}` }))
      const answers = await fireAll([
        ...adds.map((email, i) => ({
          label: `PATCH add email ${i}`,
          send: () => patch(tenant, path, { op: 'add', path: 'emails', value: [email] }),
        })),
        {
          label: 'PATCH active=false',
          send: () => patch(tenant, path, { op: 'replace', path: 'active', value: false }),
        },
      ])
      expect.soft(notOk(answers), `round ${round}: answers that are not 2xx`).toEqual([])

      const final = await read(tenant, path)
      const emails = ((final.emails ?? []) as { value: string; type?: string }[])
        .map((e) => `${e.value} (${e.type})`)
        .sort()
      const expected = [`${userName} (work)`, ...adds.map((e) => `${e.value} (${e.type})`)].sort()
      expect.soft(emails, `round ${round}: emails of the user after the concurrent PATCHes`).toEqual(expected)
      expect.soft(final.active, `round ${round}: active after the concurrent PATCHes`).toBe(false)
    }
  })

  it(`${CONCURRENT} concurrent PATCHes to one group without If-Match (members added, one rename) all answer 204 and every change persists (${ROUNDS} rounds)`, async () => {
    const tenant = await newTenant()
    const members: string[] = []
    for (let i = 0; i < CONCURRENT - 1; i++)
      members.push((await createUser(tenant, `member${i}@example.com`)).id as string)
    for (let round = 1; round <= ROUNDS; round++) {
      const group = await createGroup(tenant, `Contended ${round}`)
      const path = `/Groups/${group.id}`
      const renamed = `Renamed ${round}`
      const answers = await fireAll([
        ...members.map((value, i) => ({
          label: `PATCH add member ${i}`,
          send: () => patch(tenant, path, { op: 'add', path: 'members', value: [{ value }] }),
        })),
        {
          label: 'PATCH rename',
          send: () => patch(tenant, path, { op: 'replace', path: 'displayName', value: renamed }),
        },
      ])
      expect.soft(notOk(answers), `round ${round}: answers that are not 2xx`).toEqual([])
      expect
        .soft(
          answers.map((a) => a.status).filter((s) => s !== 204),
          `round ${round}: group PATCH answers other than 204`,
        )
        .toEqual([])

      const final = await read(tenant, path)
      expect
        .soft(
          ((final.members ?? []) as { value: string }[]).map((m) => m.value).sort(),
          `round ${round}: members after the concurrent PATCHes`,
        )
        .toEqual([...members].sort())
      expect.soft(final.displayName, `round ${round}: displayName after the concurrent PATCHes`).toBe(renamed)
    }
  })

  it('10 concurrent PUTs to one user without If-Match all succeed, each is its own version, and the last write is what is stored', async () => {
    const tenant = await newTenant()
    const userName = 'put-race@example.com'
    const created = await createUser(tenant, userName)
    const initial = versionOf(created.meta.version)
    const path = `/Users/${created.id}`
    const answers = await fireAll(
      Array.from({ length: 10 }, (_, i) => ({
        label: `PUT displayName Writer ${i}`,
        send: () => tenant.fetch(path, { method: 'PUT', json: userBody(userName, { displayName: `Writer ${i}` }) }),
      })),
    )
    expect
      .soft(
        answers.filter((a) => a.status === 412).map((a) => `${a.request} → ${a.status} ${a.body.slice(0, 300)}`),
        'PUTs answered 412',
      )
      .toEqual([])
    expect.soft(notOk(answers), 'PUTs not answered 2xx').toEqual([])

    const applied = answers.filter((a) => a.status >= 200 && a.status <= 299)
    const versions = applied.map((a) => versionOf(a.json?.meta?.version))
    // Every PUT applied as its own version: initial+1 .. initial+10, each once.
    expect
      .soft(
        [...versions].sort((a, b) => a - b),
        'versions the PUTs answered with',
      )
      .toEqual(Array.from({ length: 10 }, (_, i) => initial + 1 + i))
    const final = await read(tenant, path)
    expect.soft(versionOf(final.meta.version), 'stored version').toBe(initial + 10)
    // The last write wins: what is stored is what the PUT with the highest version answered.
    const last = applied[versions.indexOf(Math.max(...versions))]!
    expect(final.displayName).toBe(last.json!.displayName)
    expect(final).toEqual(last.json)
  })
})

describe('concurrent writes with If-Match', () => {
  it('a second PATCH with the If-Match the first one made stale gets 412 and changes nothing', async () => {
    const tenant = await newTenant()
    const created = await createUser(tenant, 'stale@example.com')
    const path = `/Users/${created.id}`
    const ifMatch = { 'if-match': created.meta.version as string }
    const first = await patch(tenant, path, { op: 'replace', path: 'nickName', value: 'first' }, ifMatch)
    expect(first.status, await first.clone().text()).toBe(200)
    expect(first.headers.get('etag')).toBe(`W/"${versionOf(created.meta.version) + 1}"`)

    const second = await patch(tenant, path, { op: 'replace', path: 'nickName', value: 'second' }, ifMatch)
    const text = await second.text()
    expect(second.status, text).toBe(412)
    const error = JSON.parse(text) as Record<string, any>
    expect(error.schemas).toEqual([ERROR])
    expect(error.status).toBe('412')
    expect(error.scimType).toBeUndefined()
    expect(error.detail).toEqual(expect.any(String))

    const final = await read(tenant, path)
    expect(final.nickName).toBe('first')
    expect(final.meta.version).toBe(first.headers.get('etag'))
  })
})
