import { describe, expect, it } from 'vitest'
import provisionUsers from '../fixtures/okta/provision-users.json'
import { replay, type Replay } from '../helpers/replay.ts'
import { newTenant } from '../helpers/tenant.ts'
import { accessToken, addClient } from '../oauth/helpers.ts'

const recordings = import.meta.glob<Replay>('../fixtures/okta/*.json', { eager: true, import: 'default' })

describe('Okta replays', () => {
  for (const [file, recording] of Object.entries(recordings)) {
    it(`${file.replace('../fixtures/', '')}: ${recording.description}`, async () => {
      const tenant = await newTenant()
      await replay(tenant, recording)
    })
  }

  it('provisions with the bearer token (header auth) as with Basic', async () => {
    const tenant = await newTenant()
    const recording = provisionUsers as Replay
    const vars = await replay(tenant, {
      ...recording,
      steps: recording.steps.map((s) => ({ ...s, headers: { ...s.headers, authorization: tenant.bearer } })),
    })
    expect(vars.userId).toMatch(/^[0-9a-f-]{36}$/)
  })

  // Okta's OIN listings take header auth or OAuth; an OAuth client's token replays every recording.
  for (const [file, recording] of Object.entries(recordings)) {
    it(`${file.replace('../fixtures/', '')} with an OAuth 2.0 client credentials token`, async () => {
      const tenant = await newTenant()
      const { clientId, secret } = await addClient(tenant)
      const authorization = `Bearer ${await accessToken(tenant.id, clientId, secret!)}`
      await replay(tenant, {
        ...recording,
        steps: recording.steps.map((s) => ({ ...s, headers: { ...s.headers, authorization } })),
      })
    })
  }
})
