/** /health names what a deployment lacks (npm start prints it), never a value. */
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { readinessWarnings } from '../../src/runtime/readiness.ts'

describe('readiness', () => {
  it('a complete configuration has no warnings', async () => {
    const res = await SELF.fetch(`${env.PUBLIC_URL}/health`)
    expect(await res.json()).toEqual({ ok: true, warnings: [] })
  })

  it('names each missing rate limit binding and secret', () => {
    const warnings = readinessWarnings({ ...env, APP_RATE_LIMITER: undefined, INVITE_TOKEN_KEY: undefined })
    expect(warnings).toEqual([
      expect.stringMatching(/APP_RATE_LIMITER is missing/),
      expect.stringMatching(/INVITE_TOKEN_KEY is not set/),
    ])
    expect(warnings.join(' ')).not.toContain(env.MAIL_API_KEY!)
  })
})
