import { describe, it } from 'vitest'
import { replay, type Replay } from '../helpers/replay.ts'
import { newTenant } from '../helpers/tenant.ts'

const recordings = import.meta.glob<Replay>('../fixtures/entra/*.json', { eager: true, import: 'default' })

describe('Entra ID replays (bearer token, both dialects)', () => {
  for (const [file, recording] of Object.entries(recordings)) {
    it(`${file.replace('../fixtures/', '')}: ${recording.description}`, async () => {
      const tenant = await newTenant()
      // Entra sends the Secret Token as a bearer token; Basic auth is unsupported there.
      await replay(tenant, {
        ...recording,
        steps: recording.steps.map((s) => ({ ...s, headers: { ...s.headers, authorization: tenant.bearer } })),
      })
    })
  }
})
