import { describe, expect, it } from 'vitest'
import {
  accessToken,
  addClient,
  ASSERTION_TYPE,
  assertion,
  endpointOf,
  keyPair,
  registerIssuer,
  tokenRequest,
} from '../oauth/helpers.ts'
import { replay, type Replay } from '../helpers/replay.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

const recordings = import.meta.glob<Replay>('../fixtures/entra/*.json', { eager: true, import: 'default' })

/** The recording with every request authorized by `authorization`. */
function authorizedBy(recording: Replay, authorization: string): Replay {
  return { ...recording, steps: recording.steps.map((s) => ({ ...s, headers: { ...s.headers, authorization } })) }
}

/** A token got the way Entra's workload identity federation gets it: an issuer-signed assertion, `scope=scim`. */
async function federatedToken(tenant: TestTenant): Promise<string> {
  const key = await keyPair('RS256')
  const { issuer } = await registerIssuer([key.jwk])
  const subject = `/eid1/c/pub/t/${crypto.randomUUID()}/a/${crypto.randomUUID()}/scim-edge`
  const audience = `api://${tenant.id}-scim`
  const { clientId } = await addClient(tenant, { auth: { method: 'federated', issuer, subject, audience } })
  const jwt = await assertion(
    { ...key, kid: key.jwk.kid },
    { iss: issuer, sub: subject, aud: audience, jti: undefined },
  )
  const res = await tokenRequest(tenant.id, {
    grant_type: 'client_credentials',
    client_id: clientId,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: jwt,
    scope: 'scim',
  })
  const body = (await res.json()) as { access_token?: string }
  if (res.status !== 200 || !body.access_token) throw new Error(`no token from ${endpointOf(tenant.id)}: ${res.status}`)
  return body.access_token
}

describe('Entra ID replays (bearer token, both dialects)', () => {
  for (const [file, recording] of Object.entries(recordings)) {
    it(`${file.replace('../fixtures/', '')}: ${recording.description}`, async () => {
      const tenant = await newTenant()
      // Entra sends the Secret Token as a bearer token; Basic auth is unsupported there.
      await replay(tenant, authorizedBy(recording, tenant.bearer))
    })
  }
})

describe('Entra ID replays with an OAuth 2.0 access token', () => {
  for (const [file, recording] of Object.entries(recordings)) {
    const name = file.replace('../fixtures/', '')
    it(`${name}: client credentials (client_secret_basic)`, async () => {
      const tenant = await newTenant()
      const { clientId, secret } = await addClient(tenant)
      const token = await accessToken(tenant.id, clientId, secret!, 'scim.readwrite')
      await replay(tenant, authorizedBy(recording, `Bearer ${token}`))
    })
    it(`${name}: workload identity federation`, async () => {
      const tenant = await newTenant()
      await replay(tenant, authorizedBy(recording, `Bearer ${await federatedToken(tenant)}`))
    })
  }
})

describe('Entra ID soft delete, when the old userName was taken meanwhile', () => {
  it('the restore is a 409 naming the userName; the soft-deleted user keeps its state, and restores once the name is free', async () => {
    const tenant = await newTenant()
    const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
    const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
    const post = async (userName: string) =>
      (await (
        await tenant.fetch('/Users', {
          method: 'POST',
          headers: { authorization: tenant.bearer },
          json: { schemas: [USER], userName },
        })
      ).json()) as { id: string }
    const patch = (id: string, Operations: unknown[]) =>
      tenant.fetch(`/Users/${id}`, {
        method: 'PATCH',
        headers: { authorization: tenant.bearer },
        json: { schemas: [PATCH], Operations },
      })
    const adele = await post('AdeleV@contoso.com')
    await patch(adele.id, [{ op: 'Replace', path: 'active', value: 'False' }])
    await patch(adele.id, [{ op: 'Replace', path: 'userName', value: '8c6a2f7eAdeleV@contoso.com' }])
    const newcomer = await post('adelev@contoso.com')
    const restore = [
      { op: 'Replace', path: 'userName', value: 'AdeleV@contoso.com' },
      { op: 'Replace', path: 'active', value: 'True' },
    ]
    const refused = await patch(adele.id, restore)
    expect(refused.status).toBe(409)
    const error = (await refused.json()) as { scimType: string; detail: string }
    expect(error.scimType).toBe('uniqueness')
    expect(error.detail).toContain('AdeleV@contoso.com')
    // Nothing of the refused PATCH applied: still soft-deleted, still under the rewritten name.
    const still = (await (
      await tenant.fetch(`/Users/${adele.id}`, { headers: { authorization: tenant.bearer } })
    ).json()) as Record<string, unknown>
    expect(still).toMatchObject({ userName: '8c6a2f7eAdeleV@contoso.com', active: false })
    // Once the other user is gone, the same restore succeeds: the 409 lasts only while the name is held.
    expect(
      (await tenant.fetch(`/Users/${newcomer.id}`, { method: 'DELETE', headers: { authorization: tenant.bearer } }))
        .status,
    ).toBe(204)
    const restored = await patch(adele.id, restore)
    expect(restored.status).toBe(200)
    expect(await restored.json()).toMatchObject({ userName: 'AdeleV@contoso.com', active: true })
  })
})
