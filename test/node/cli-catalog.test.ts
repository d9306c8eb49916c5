/**
 * `entitlement add|list|remove` and `seats` against the Worker served by wrangler dev: what support
 * declares is what the IdP reads at /ResourceTypes and /Licenses, and refusals are clear.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/tenants/cli.ts'
import { APP_API_KEY, startTestWorker, type TestWorker } from './worker-server.ts'

let worker: TestWorker

beforeAll(async () => {
  worker = await startTestWorker([{ appUrl: 'https://app.example.com' }])
}, 120_000)

afterAll(async () => {
  await worker?.close()
})

async function cli(args: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await main([...args, '--public-url', worker.url, '--persist-to', worker.persistTo], {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env: { APP_API_KEY },
  })
  return { code, out: out.join(''), err: err.join('') }
}

function scim(path: string, body?: unknown) {
  const tenant = worker.tenants[0]!
  return fetch(`${worker.url}/scim/v2/${tenant.id}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: tenant.basic, 'content-type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

describe('npm run tenant -- entitlement and seats', () => {
  it('adds a License with a seat limit that the IdP sees and that refuses the second holder', async () => {
    const id = worker.tenants[0]!.id
    const added = await cli([
      'entitlement',
      'add',
      id,
      'License',
      'pro',
      '--name',
      'Pro plan',
      '--seat-limit',
      '1',
      '--json',
    ])
    expect(added.err).toBe('')
    expect(added.code).toBe(0)
    expect(JSON.parse(added.out)).toMatchObject({
      tenantId: id,
      created: true,
      entry: { type: 'License', id: 'pro', displayName: 'Pro plan', endpoint: '/Licenses', seatLimit: 1, seatsUsed: 0 },
    })
    const types = (await (await scim('/ResourceTypes')).json()) as { Resources: { id: string }[] }
    expect(types.Resources.map((t) => t.id)).toContain('License')
    const page = (await (await scim('/Licenses?count=1&startIndex=1')).json()) as { itemsPerPage: number }
    expect(page.itemsPerPage).toBe(1)

    const user = (n: number) => ({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `lic${n}@example.com`,
      entitlements: [{ value: 'pro' }],
    })
    expect((await scim('/Users', user(1))).status).toBe(201)
    const second = await scim('/Users', user(2))
    expect(second.status).toBe(403)
    expect(((await second.json()) as { detail: string }).detail).toBe(
      `seat limit of 1 reached for License pro in tenant ${id}; free a seat or ask the app's owner for more`,
    )

    const list = await cli(['entitlement', 'list', id])
    expect(list.code).toBe(0)
    expect(list.out).toMatch(/License\s+pro\s+Pro plan\s+\/Licenses\s+1 of 1 in use/)
    const removed = await cli(['entitlement', 'remove', id, 'License', 'pro'])
    expect(removed.code).toBe(1)
    expect(removed.err).toMatch(/still granted to 1 user/)
    const bad = await cli(['entitlement', 'add', id, 'Group', 'x', '--name', 'X', '--json'])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.out)).toEqual({ error: expect.stringMatching(/resource type of its own/) })
  })

  it('sets and shows the tenant limit on active users', async () => {
    const id = worker.tenants[0]!.id
    const set = await cli(['seats', id, '--limit', '100', '--json'])
    expect(set.code).toBe(0)
    expect(JSON.parse(set.out)).toEqual({ tenantId: id, seatLimit: 100, seatsUsed: 1 })
    const low = await cli(['seats', id, '--limit', '0'])
    expect(low.code).toBe(1)
    expect(low.err).toMatch(/1 seats in use; a limit of 0 is below that/)
    const shown = await cli(['seats', id])
    expect(shown.out).toMatch(/1 of 100 in use/)
    expect((await cli(['seats', id, '--limit', 'lots'])).code).toBe(2)
  })
})

describe('npm run tenant -- schema', () => {
  it("declares attributes that the tenant's /Schemas shows and its writes are checked against", async () => {
    const id = worker.tenants[0]!.id
    const urn = `urn:ietf:params:scim:schemas:extension:${id}:2.0:User`
    const added = await cli([
      'schema',
      'add',
      id,
      'costCenter',
      '--type',
      'string',
      '--canonical',
      'CC-1,CC-2',
      '--json',
    ])
    expect(added.code, added.err).toBe(0)
    expect(JSON.parse(added.out)).toMatchObject({
      tenantId: id,
      schema: urn,
      added: { name: 'costCenter', type: 'string', canonicalValues: ['CC-1', 'CC-2'] },
    })
    const level = await cli(['schema', 'add', id, 'level', '--type', 'integer', '--multi', '--json'])
    expect(level.code, level.err).toBe(0)
    expect(JSON.parse(level.out).added).toEqual({ name: 'level', type: 'integer', multiValued: true })
    const again = await cli(['schema', 'add', id, 'CostCenter', '--type', 'string'])
    expect(again.code).toBe(1)
    expect(again.err).toMatch(/declared already/)
    const badType = await cli(['schema', 'add', id, 'x', '--type', 'number', '--json'])
    expect(badType.code).toBe(2)
    expect(JSON.parse(badType.out).error).toMatch(/type must be one of string, boolean/)
    const badName = await cli(['schema', 'add', id, '9lives', '--type', 'string'])
    expect(badName.code).toBe(2)

    const list = await cli(['schema', 'list', id])
    expect(list.out).toMatch(/costCenter \(string, one of CC-1, CC-2\)/)
    expect(list.out).toMatch(/level \(integer, multi-valued\)/)

    const schema = await scim(`/Schemas/${urn}`)
    expect(schema.status).toBe(200)
    expect(((await schema.json()) as { attributes: { name: string }[] }).attributes.map((a) => a.name)).toEqual([
      'costCenter',
      'level',
    ])
    const refused = await scim('/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', urn],
      userName: 'typed@example.com',
      [urn]: { level: ['high'] },
    })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/:level\S* must be an integer, got "high"/)

    const removed = await cli(['schema', 'remove', id, 'level', '--json'])
    expect(removed.code).toBe(0)
    expect(JSON.parse(removed.out).attributes.map((a: { name: string }) => a.name)).toEqual(['costCenter'])
    expect((await cli(['schema', 'remove', id, 'level'])).code).toBe(1)
  })
})
