/**
 * The support CLI's credential lifecycle against real `wrangler kv` (local, temporary directory):
 * rotate keeps the old credentials, revoke removes exactly one, disable/enable flip the status.
 */
import { describe, expect, test } from 'vitest'
import { parseBearerToken, sha256Hex } from '../../src/tenants/secrets.ts'
import { secretHash } from '../../src/tenants/credentials.ts'
import { useCli } from './cli-harness.ts'

const { cli, raw } = useCli()

describe('rotate, revoke, disable, enable (real wrangler kv, local)', () => {
  let created: Record<string, string>
  let rotated: Record<string, any>

  test('rotate prints a new pair and names the old credentials', async () => {
    const create = await cli('create', 'beta', '--json', '--name', 'Beta')
    expect(create.code, create.stderr).toBe(0)
    created = create.json
    const run = await cli('rotate', 'beta', '--json')
    expect(run.code, run.stderr).toBe(0)
    rotated = run.json
    expect(rotated).toMatchObject({ tenantId: 'beta', baseUrl: 'http://127.0.0.1:8787/scim/v2/beta' })
    expect(rotated.username).not.toBe(created.username)
    expect(rotated.previousCredentials).toEqual([
      created.username,
      parseBearerToken(created.bearerToken!)!.credentialId,
    ])
  })

  test('revoke removes exactly the named credential', async () => {
    const run = await cli('revoke', 'beta', created.username!, '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toEqual({ tenantId: 'beta', revoked: created.username, kind: 'basic', remaining: 3 })
  })

  test('disable shows in list; list prints no hashes or secrets', async () => {
    expect((await cli('disable', 'beta', '--json')).json).toEqual({
      tenantId: 'beta',
      status: 'disabled',
      changed: true,
    })
    const run = await cli('list', '--json')
    expect(run.json.tenants).toEqual([
      { tenantId: 'beta', name: 'Beta', status: 'disabled', createdAt: expect.any(String), credentials: 3 },
    ])
    expect(run.stdout).not.toMatch(/[0-9a-f]{64}/)
    expect(run.stdout).not.toContain(created.password)
  })

  test('enable flips it back; KV holds the old bearer (unchanged) and the rotated pair', async () => {
    expect((await cli('enable', 'beta', '--json')).json).toMatchObject({ status: 'active', changed: true })
    const doc = (await raw('beta'))!
    expect(doc.status).toBe('active')
    const oldBearer = parseBearerToken(created.bearerToken!)!.credentialId
    expect(doc.credentials.map((c) => c.id)).toEqual([
      oldBearer,
      rotated.username,
      parseBearerToken(rotated.bearerToken)!.credentialId,
    ])
    expect(secretHash(doc.credentials[1])).toBe(await sha256Hex(rotated.password))
    expect(JSON.stringify(doc)).not.toContain(rotated.password)
  })
})
