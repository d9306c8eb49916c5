/**
 * The security suite: uniform 401s, tenant isolation on every endpoint, and secrets
 * absent from KV values, responses and logs (RFC 7644 §7, README "Storage formats").
 *
 * Logs: the Worker under test runs in the test's isolate (vitest-pool-workers imports its module), so
 * its console is the one vi.spyOn sees; the log checks capture every line written while they run.
 */
import { env, SELF } from 'cloudflare:test'
import { afterEach, describe, expect, it } from 'vitest'
import { tenantDocumentKey } from '../../src/tenants/document.ts'
import { parseBearerToken, sha256Hex } from '../../src/tenants/secrets.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'
import { answer, ENTERPRISE_URN, expectScimError, leaks, muteLogs, PATCH_URN, type Answer } from './scim-assert.ts'

let spies: ReturnType<typeof muteLogs> | undefined
afterEach(() => {
  spies?.log.mockRestore()
  spies?.warn.mockRestore()
  spies?.error.mockRestore()
  spies = undefined
})

/** Headers that differ per request by design. */
const PER_REQUEST = new Set(['x-request-id', 'date'])

function shape(a: Answer) {
  const headers = [...a.headers]
    .filter(([k]) => !PER_REQUEST.has(k.toLowerCase()))
    .sort(([x], [y]) => x.localeCompare(y))
  return { status: a.status, headers, body: a.text }
}

async function post(t: TestTenant, path: string, json: unknown): Promise<Record<string, any>> {
  const res = await t.fetch(path, { method: 'POST', json })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as Record<string, any>
}

describe('authentication failures (RFC 7644 §3.12)', () => {
  it("look exactly the same whatever failed, including another tenant's valid credentials", async () => {
    const tenant = await newTenant()
    const other = await newTenant()
    const disabled = await newTenant({ status: 'disabled' })
    const url = (id: string, path = '/Users') => `${env.PUBLIC_URL}/scim/v2/${id}${path}`
    const basic = (user: string, pass: string) => `Basic ${btoa(`${user}:${pass}`)}`
    const { credentialId: bearerId, secret: bearerSecret } = parseBearerToken(tenant.bearerToken)!
    const attempts: [string, string, RequestInit][] = [
      ['no Authorization', url(tenant.id), {}],
      ['unknown scheme', url(tenant.id), { headers: { authorization: `Digest ${tenant.password}` } }],
      ['empty Basic', url(tenant.id), { headers: { authorization: 'Basic ' } }],
      ['Basic not base64', url(tenant.id), { headers: { authorization: 'Basic %%%' } }],
      ['Basic without colon', url(tenant.id), { headers: { authorization: `Basic ${btoa(tenant.username)}` } }],
      ['wrong password', url(tenant.id), { headers: { authorization: basic(tenant.username, `${tenant.password}x`) } }],
      ['empty password', url(tenant.id), { headers: { authorization: basic(tenant.username, '') } }],
      ['unknown username', url(tenant.id), { headers: { authorization: basic('cnobodyhere23456', tenant.password) } }],
      ['bearer secret as password', url(tenant.id), { headers: { authorization: basic(bearerId, bearerSecret) } }],
      ['malformed bearer', url(tenant.id), { headers: { authorization: 'Bearer abc' } }],
      [
        'wrong bearer secret',
        url(tenant.id),
        { headers: { authorization: `Bearer scim_${bearerId}_${'A'.repeat(43)}` } },
      ],
      [
        'password as bearer',
        url(tenant.id),
        { headers: { authorization: `Bearer scim_${tenant.username}_${tenant.password}` } },
      ],
      ["other tenant's Basic", url(tenant.id), { headers: { authorization: other.basic } }],
      ["other tenant's Bearer", url(tenant.id), { headers: { authorization: other.bearer } }],
      ['own Basic on the other tenant', url(other.id), { headers: { authorization: tenant.basic } }],
      [
        'disabled tenant, wrong password',
        url(disabled.id),
        { headers: { authorization: `Basic ${btoa(`${disabled.username}:wrong`)}` } },
      ],
      ['unknown tenant', url('no-such-tenant'), { headers: { authorization: tenant.basic } }],
      ['malformed tenant id', url('UPPER_case'), { headers: { authorization: tenant.basic } }],
      ['unknown endpoint', url(tenant.id, '/Nope'), { headers: { authorization: other.basic } }],
      ['a group', url(tenant.id, '/Groups/some-id'), { headers: { authorization: other.bearer } }],
      ['discovery', url(tenant.id, '/ServiceProviderConfig'), {}],
      ['/Bulk', url(tenant.id, '/Bulk'), { method: 'POST', headers: { authorization: other.basic } }],
      [
        'POST with a bad body',
        url(tenant.id),
        { method: 'POST', body: '{', headers: { authorization: other.basic, 'content-type': 'text/plain' } },
      ],
      [
        'PATCH',
        url(tenant.id, '/Users/x'),
        {
          method: 'PATCH',
          body: '{}',
          headers: { authorization: other.basic, 'content-type': 'application/scim+json' },
        },
      ],
      ['DELETE', url(tenant.id, '/Users/x'), { method: 'DELETE', headers: { authorization: other.bearer } }],
    ]
    spies = muteLogs()
    const shapes = []
    for (const [name, target, init] of attempts) {
      const a = await answer(await SELF.fetch(target, init))
      expect(a.status, name).toBe(401)
      expect(a.json, name).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '401',
        detail: 'Authentication failed: send the Basic or Bearer credentials issued for this Base URL.',
      })
      expect(a.headers.get('www-authenticate'), name).toContain('Basic')
      shapes.push([name, shape(a)] as const)
    }
    for (const [name, s] of shapes) expect(s, name).toEqual(shapes[0]![1])
    // The valid credentials still work, so the 401s above are about the credentials alone.
    expect((await tenant.fetch('/Users')).status).toBe(200)
    expect((await tenant.fetch('/Users', { headers: { authorization: tenant.bearer } })).status).toBe(200)
  })

  it("apply to the app API too: a tenant's SCIM credentials are not the app key, and every failure looks the same", async () => {
    const tenant = await newTenant()
    const first = shape(
      await answer(await SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenant.id}/users/x`, { headers: {} })),
    )
    // The app API names what it wants (an app key), not the IdP's credentials.
    expect(JSON.stringify(first)).toMatch(/app key/)
    const scim401 = first
    for (const authorization of [tenant.basic, tenant.bearer, 'Bearer wrong-key', `Bearer ${env.TEST_APP_KEY}x`, '']) {
      const a = await answer(
        await SELF.fetch(`${env.PUBLIC_URL}/app/v1/${tenant.id}/users/x`, {
          headers: authorization ? { authorization } : {},
        }),
      )
      expect(a.status).toBe(401)
      expect(shape(a)).toEqual(scim401)
    }
  })
})

describe('tenant isolation', () => {
  /** Two tenants with the same userName and group name; B's user is in B's group. */
  async function twoTenants() {
    const a = await newTenant()
    const b = await newTenant()
    const userA = await post(a, '/Users', { userName: 'same@example.com', displayName: 'A person', active: false })
    const userB = await post(b, '/Users', {
      userName: 'same@example.com',
      displayName: 'B person',
      externalId: 'only-in-b',
      active: false,
      [ENTERPRISE_URN]: { manager: { value: 'm' } },
    })
    const groupA = await post(a, '/Groups', { displayName: 'Staff', members: [{ value: userA.id }] })
    const groupB = await post(b, '/Groups', {
      displayName: 'Staff',
      externalId: 'b-group',
      members: [{ value: userB.id }],
    })
    return { a, b, userA, userB, groupA, groupB }
  }

  async function snapshot(t: TestTenant, path: string): Promise<unknown> {
    const res = await answer(await t.fetch(path))
    return { status: res.status, etag: res.headers.get('etag'), body: res.json }
  }

  it("another tenant's user and group ids are 404 for GET, PUT, PATCH and DELETE, and stay untouched", async () => {
    const { a, b, userB, groupB } = await twoTenants()
    const before = [
      await snapshot(b, `/Users/${userB.id}`),
      await snapshot(b, `/Groups/${groupB.id}`),
      await snapshot(b, '/Users'),
      await snapshot(b, '/Groups'),
    ]
    const patch = { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'displayName', value: 'hijacked' }] }
    const calls: [string, string, RequestInit & { json?: unknown }][] = [
      ['GET', `/Users/${userB.id}`, {}],
      ['PUT', `/Users/${userB.id}`, { json: { userName: 'hijacked@example.com' } }],
      ['PATCH', `/Users/${userB.id}`, { json: patch }],
      ['DELETE', `/Users/${userB.id}`, {}],
      ['GET', `/Groups/${groupB.id}`, {}],
      ['PUT', `/Groups/${groupB.id}`, { json: { displayName: 'hijacked' } }],
      ['PATCH', `/Groups/${groupB.id}`, { json: patch }],
      [
        'PATCH',
        `/Groups/${groupB.id}`,
        { json: { schemas: [PATCH_URN], Operations: [{ op: 'remove', path: 'members' }] } },
      ],
      ['DELETE', `/Groups/${groupB.id}`, {}],
    ]
    for (const [method, path, init] of calls) {
      const res = await a.fetch(path, { method, ...init })
      await expectScimError(res, 404, undefined, /not found in this tenant/)
      // Also with If-Match and If-None-Match: preconditions never reveal a foreign resource.
      const conditional = await a.fetch(path, {
        method,
        ...init,
        headers: { 'if-match': 'W/"1"', 'if-none-match': 'W/"1"' },
      })
      expect(conditional.status, `${method} ${path} conditional`).toBe(404)
    }
    expect([
      await snapshot(b, `/Users/${userB.id}`),
      await snapshot(b, `/Groups/${groupB.id}`),
      await snapshot(b, '/Users'),
      await snapshot(b, '/Groups'),
    ]).toEqual(before)
  })

  it("filters, searches and lists never match another tenant's rows", async () => {
    const { a, userA, userB, groupA, groupB } = await twoTenants()
    const filters = [
      `id eq "${userB.id}"`,
      'externalId eq "only-in-b"',
      'displayName eq "B person"',
      `groups.value eq "${groupB.id}"`,
      `${ENTERPRISE_URN}:manager.value eq "m"`,
      `id eq "${userB.id}" or id eq "${userA.id}"`,
    ]
    for (const filter of filters) {
      for (const res of [
        await a.fetch(`/Users?filter=${encodeURIComponent(filter)}`),
        await a.fetch('/Users/.search', { method: 'POST', json: { filter } }),
      ]) {
        const body = (await res.json()) as { Resources: { id: string }[] }
        expect(res.status, filter).toBe(200)
        expect(
          body.Resources.map((r) => r.id).filter((id) => id !== userA.id),
          filter,
        ).toEqual([])
      }
    }
    for (const filter of [
      `id eq "${groupB.id}"`,
      'externalId eq "b-group"',
      `members.value eq "${userB.id}"`,
      `members[value eq "${userB.id}"]`,
    ]) {
      const body = (await (await a.fetch(`/Groups?filter=${encodeURIComponent(filter)}`)).json()) as {
        totalResults: number
      }
      expect(body.totalResults, filter).toBe(0)
    }
    const users = (await (await a.fetch('/Users')).json()) as { totalResults: number; Resources: { id: string }[] }
    expect(users.Resources.map((r) => r.id)).toEqual([userA.id])
    expect(users.totalResults).toBe(1)
    const groups = (await (await a.fetch('/Groups')).json()) as {
      Resources: { id: string; members: { value: string }[] }[]
    }
    expect(groups.Resources.map((g) => [g.id, g.members.map((m) => m.value)])).toEqual([[groupA.id, [userA.id]]])
  })

  it("another tenant's user as a member is 400 invalidValue on POST, PUT and PATCH, and nothing is written", async () => {
    const { a, userA, userB, groupA } = await twoTenants()
    const before = await snapshot(a, `/Groups/${groupA.id}`)
    await expectScimError(
      await a.fetch('/Groups', { method: 'POST', json: { displayName: 'Intruders', members: [{ value: userB.id }] } }),
      400,
      'invalidValue',
      new RegExp(`members: no user with id "${userB.id}" in this tenant`),
    )
    expect(
      ((await (await a.fetch('/Groups?filter=displayName eq "Intruders"')).json()) as { totalResults: number })
        .totalResults,
    ).toBe(0)
    await expectScimError(
      await a.fetch(`/Groups/${groupA.id}`, {
        method: 'PUT',
        json: { displayName: 'Staff', members: [{ value: userA.id }, { value: userB.id }] },
      }),
      400,
      'invalidValue',
      /no user with id/,
    )
    for (const Operations of [
      [{ op: 'add', path: 'members', value: [{ value: userB.id }] }],
      [{ op: 'replace', path: 'members', value: [{ value: userB.id }] }],
      [{ op: 'Add', value: { members: [{ value: userB.id }] } }],
      [
        { op: 'replace', path: 'displayName', value: 'Renamed' },
        { op: 'add', path: 'members', value: [{ value: userB.id }] },
      ],
    ]) {
      await expectScimError(
        await a.fetch(`/Groups/${groupA.id}`, { method: 'PATCH', json: { schemas: [PATCH_URN], Operations } }),
        400,
        'invalidValue',
        /no user with id/,
      )
    }
    // A foreign id in a remove is a no-op, never a way to touch the other tenant.
    expect(
      (
        await a.fetch(`/Groups/${groupA.id}`, {
          method: 'PATCH',
          json: { schemas: [PATCH_URN], Operations: [{ op: 'remove', path: `members[value eq "${userB.id}"]` }] },
        })
      ).status,
    ).toBe(204)
    const after = (await snapshot(a, `/Groups/${groupA.id}`)) as { body: { members: { value: string }[] } }
    expect(after.body.members.map((m) => m.value)).toEqual([userA.id])
    expect({ ...after, etag: undefined, body: { ...after.body, meta: undefined } }).toEqual({
      ...(before as object),
      etag: undefined,
      body: { ...(before as { body: object }).body, meta: undefined },
    })
  })

  it("a user's groups and a manager reference never show another tenant's data", async () => {
    const { a, b, userA, userB, groupA } = await twoTenants()
    // A points its user's manager at B's user id: stored as given (a reference, not a lookup), and B's data never appears.
    const patched = await a.fetch(`/Users/${userA.id}`, {
      method: 'PATCH',
      json: {
        schemas: [PATCH_URN],
        Operations: [{ op: 'add', path: `${ENTERPRISE_URN}:manager`, value: { value: userB.id } }],
      },
    })
    expect(patched.status).toBe(200)
    const seenByA = await answer(await a.fetch(`/Users/${userA.id}`))
    const groupsOfA = await answer(await a.fetch(`/Users/${userA.id}?attributes=groups`))
    expect(groupsOfA.json.groups.map((g: { value: string }) => g.value)).toEqual([groupA.id])
    expect(seenByA.json[ENTERPRISE_URN].manager.displayName).toBeUndefined()
    expect(seenByA.text).not.toContain('B person')
    const listed = await answer(await a.fetch('/Users?attributes=groups'))
    expect(listed.json.Resources[0].groups.map((g: { value: string }) => g.value)).toEqual([groupA.id])
    const seenByB = await answer(await b.fetch(`/Users/${userB.id}`))
    const groupsOfB = await answer(await b.fetch(`/Users/${userB.id}?attributes=groups`))
    expect((groupsOfB.json.groups ?? []).map((g: { value: string }) => g.value)).not.toContain(groupA.id)
    expect(seenByB.text).not.toContain(userA.id)
  })

  it('the app API is scoped by the tenant in its URL', async () => {
    const { a, userB } = await twoTenants()
    const headers = { authorization: `Bearer ${env.TEST_APP_KEY}` }
    const res = await SELF.fetch(`${env.PUBLIC_URL}/app/v1/${a.id}/users/${userB.id}`, { headers })
    expect(res.status).toBe(404)
    const access = (await (
      await SELF.fetch(`${env.PUBLIC_URL}/app/v1/${a.id}/access?userName=same@example.com`, { headers })
    ).json()) as { userId: string }
    expect(access.userId).not.toBe(userB.id)
  })
})

describe('secrets', () => {
  it('KV holds only the SHA-256 hex of each secret, never the secret', async () => {
    const tenant = await newTenant()
    const raw = (await env.TENANTS.get(tenantDocumentKey(tenant.id)))!
    // The secret is base64url, so it may itself contain "_".
    const bearerSecret = parseBearerToken(tenant.bearerToken)!.secret
    expect(raw).not.toContain(tenant.password)
    expect(raw).not.toContain(bearerSecret)
    const doc = JSON.parse(raw) as { credentials: { kind: string; secretSha256: string }[] }
    for (const credential of doc.credentials) {
      expect(Object.keys(credential).sort()).toEqual(
        credential.kind === 'basic'
          ? ['createdAt', 'id', 'kind', 'secretSha256', 'username']
          : ['createdAt', 'id', 'kind', 'secretSha256'],
      )
      expect(credential.secretSha256).toMatch(/^[0-9a-f]{64}$/)
    }
    expect(doc.credentials.map((c) => c.secretSha256).sort()).toEqual(
      [await sha256Hex(tenant.password), await sha256Hex(bearerSecret)].sort(),
    )
  })

  it('no response and no log line carries a secret, a hash, a password, SQL or a stack trace', async () => {
    const tenant = await newTenant()
    const raw = JSON.parse((await env.TENANTS.get(tenantDocumentKey(tenant.id)))!) as {
      credentials: { secretSha256: string }[]
    }
    // The secret is base64url, so it may itself contain "_".
    const bearerSecret = parseBearerToken(tenant.bearerToken)!.secret
    const forbidden = [
      tenant.password,
      bearerSecret,
      ...raw.credentials.map((c) => c.secretSha256),
      'secretSha256',
      'hunter2-secret',
    ]
    // Personal data may appear in responses, never in logs (ids only).
    const personal = ['private.person@example.com', 'Private Person']
    spies = muteLogs()
    const texts: Answer[] = []
    const send = async (path: string, init?: RequestInit & { json?: unknown }) => {
      const a = await answer(await tenant.fetch(path, init))
      texts.push(a)
      return a
    }
    const created = await send('/Users', {
      method: 'POST',
      json: {
        userName: personal[0],
        displayName: personal[1],
        password: 'hunter2-secret',
        emails: [{ value: personal[0] }],
      },
    })
    expect(created.status).toBe(201)
    const id = created.json.id as string
    await send(`/Users/${id}`, { method: 'PUT', json: { userName: personal[0], password: 'hunter2-secret' } })
    await send(`/Users/${id}`, {
      method: 'PATCH',
      json: {
        schemas: [PATCH_URN],
        Operations: [
          { op: 'replace', path: 'password', value: 'hunter2-secret' },
          { op: 'add', value: { password: 'hunter2-secret' } },
        ],
      },
    })
    await send(`/Users/${id}?attributes=password`)
    await send(`/Users?filter=${encodeURIComponent(`userName eq "${personal[0]}"`)}&attributes=password,userName`)
    await send(`/Users?filter=${encodeURIComponent('password eq "hunter2-secret"')}`)
    await send('/Users', { method: 'POST', json: { userName: personal[0], password: 'hunter2-secret' } }) // 409
    await send('/Users', {
      method: 'POST',
      body: '{"userName": "x", "password": "hunter2-secret"',
      headers: { 'content-type': 'application/scim+json' },
    })
    await send(`/Users/${id}`, {
      method: 'PATCH',
      json: {
        schemas: [PATCH_URN],
        Operations: [{ op: 'replace', path: 'emails[value eq "hunter2-secret"]', value: 'x' }],
      },
    })
    await send('/ServiceProviderConfig')
    await send('/Schemas')
    await send('/ResourceTypes')
    await send('/Users', { headers: { authorization: `Basic ${btoa(`${tenant.username}:hunter2-secret`)}` } })
    await send('/Users', { headers: { authorization: `Bearer ${tenant.bearerToken}x` } })
    await send('/Users', { headers: { authorization: `Basic ${btoa(`${tenant.username}:${tenant.password}`)}x` } })
    for (const a of texts) {
      for (const secret of forbidden) expect(a.text, `a response contains ${secret}`).not.toContain(secret)
      expect(a.json?.password).toBeUndefined()
      if (a.status >= 400) expect(leaks(a.text), a.text).toBe(false)
      for (const [k, v] of a.headers) for (const secret of forbidden) expect(`${k}: ${v}`).not.toContain(secret)
    }
    const lines = [...spies.log.mock.calls, ...spies.warn.mock.calls, ...spies.error.mock.calls].map((args) =>
      args.map(String).join(' '),
    )
    expect(lines.length).toBeGreaterThanOrEqual(texts.length)
    for (const line of lines) {
      expect(() => JSON.parse(line), line).not.toThrow()
      expect(JSON.parse(line).requestId ?? JSON.parse(line).messageId, line).toBeTruthy()
      for (const secret of [...forbidden, ...personal, tenant.bearerToken])
        expect(line, `a log line contains ${secret}`).not.toContain(secret)
    }
  })
})
