import { describe, expect, it } from 'vitest'
import provisionUsers from '../fixtures/okta/provision-users.json'
import { replay, type Replay } from '../helpers/replay.ts'
import { newTenant } from '../helpers/tenant.ts'

describe('Okta replays', () => {
  it('provisions, updates, deactivates, reactivates and imports a user', async () => {
    const tenant = await newTenant()
    const vars = await replay(tenant, provisionUsers as Replay)
    expect(vars.userId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('works the same with the bearer token', async () => {
    const tenant = await newTenant()
    const recording = provisionUsers as Replay
    await replay(tenant, { ...recording, steps: recording.steps.map((s) => ({ ...s, headers: { ...s.headers, authorization: tenant.bearer } })) })
  })
})
