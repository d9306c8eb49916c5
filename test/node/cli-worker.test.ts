/**
 * The support commands that go through the running Worker (`group create`, `log`), against the Worker
 * served by wrangler dev (test/node/worker-server.ts).
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

async function cli(args: string[], env: Record<string, string> = { APP_API_KEY }) {
  const out: string[] = []
  const err: string[] = []
  const code = await main([...args, '--public-url', worker.url], {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env,
  })
  return { code, out: out.join(''), err: err.join('') }
}

function scim(path: string, init: RequestInit = {}) {
  const tenant = worker.tenants[0]!
  return fetch(`${worker.url}/scim/v2/${tenant.id}${path}`, {
    ...init,
    headers: {
      authorization: tenant.basic,
      'content-type': 'application/scim+json',
      ...(init.headers as Record<string, string>),
    },
  })
}

describe('npm run tenant -- group create', () => {
  it('creates a group that an Okta import then lists, and refuses a duplicate', async () => {
    const tenant = worker.tenants[0]!
    const created = await cli(['group', 'create', tenant.id, 'Pre-existing Team', '--json'])
    expect(created.err).toBe('')
    expect(created.code).toBe(0)
    const json = JSON.parse(created.out)
    expect(json).toMatchObject({ tenantId: tenant.id, displayName: 'Pre-existing Team', groupId: expect.any(String) })
    const list = (await (await scim('/Groups?startIndex=1&count=100')).json()) as {
      Resources: { id: string; displayName: string }[]
    }
    expect(list.Resources).toContainEqual(
      expect.objectContaining({ id: json.groupId, displayName: 'Pre-existing Team' }),
    )
    const again = await cli(['group', 'create', tenant.id, 'pre-existing team'])
    expect(again.code).toBe(1)
    expect(again.err).toMatch(/already has a group named/)
  })
})

describe('npm run tenant -- log', () => {
  it('answers why a person was deactivated: the journal of their changes, newest first', async () => {
    const tenant = worker.tenants[0]!
    const res = await scim('/Users', {
      method: 'POST',
      body: JSON.stringify({ userName: 'logged@example.com', emails: [{ value: 'logged@example.com' }] }),
    })
    const { id } = (await res.json()) as { id: string }
    await scim(`/Users/${id}`, {
      method: 'PATCH',
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', value: { active: false } }],
      }),
    })
    await scim('/Users', { method: 'POST', body: JSON.stringify({ userName: 'someone.else@example.com' }) })

    const log = await cli(['log', tenant.id, '--user', 'LOGGED@example.com', '--since', '1h', '--json'])
    expect(log.err).toBe('')
    const { entries } = JSON.parse(log.out) as {
      entries: { action: string; outcome: string; resourceId: string; summary: string }[]
    }
    // The SCIM changes newest first; beside them, the invite the create queued and the deactivation withdrew.
    const changes = entries.filter((e) => !e.action.startsWith('invite-'))
    expect(changes.map((e) => [e.action, e.outcome, e.resourceId])).toEqual([
      ['update', 'ok 200', id],
      ['create', 'ok 201', id],
    ])
    expect(changes[0]!.summary).toBe('replace {active=false}')
    expect(
      entries
        .filter((e) => e.action.startsWith('invite-'))
        .map((e) => [e.action, e.outcome, e.resourceId])
        .sort(),
    ).toEqual([
      ['invite-queued', 'ok', id],
      ['invite-withdrawn', 'ok', id],
    ])
    expect(entries).toHaveLength(4)
    const text = await cli(['log', tenant.id, '--limit', '2'])
    expect(text.out.trim().split('\n')).toHaveLength(2)
    expect(text.out).toMatch(/create\s+ok 201\s+User/)
    const bad = await cli(['log', tenant.id, '--since', 'yesterday-ish'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/invalid --since/)
  })
})
