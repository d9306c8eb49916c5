import { createMiddleware } from 'hono/factory'
import { log } from '../observability/log.ts'
import type { ScopedEnv } from './context.ts'
import { ScimError } from '../scim/errors.ts'

/**
 * Seconds a client waits after a 429: the rate limit bindings count over 10-second windows, and Okta
 * honours an integer Retry-After (docs/idp-quirks.md#rate-limits).
 */
export const RETRY_AFTER_SECONDS = 10

/** The rate limit binding of a tier: RATE_LIMITER for "standard", RATE_LIMITER_{TIER} otherwise. */
export function limiterBinding(tier: string): string {
  return tier === 'standard' ? 'RATE_LIMITER' : `RATE_LIMITER_${tier.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`
}

/**
 * Per-tenant rate limiting with the Workers rate limit binding, keyed by tenant id. The standard tier
 * (wrangler.toml) allows 500 requests per 10 s, twice Entra's 25 requests/s rule, which has no 429
 * handling (docs/idp-quirks.md#rate-limits).
 */
export const rateLimit = createMiddleware<ScopedEnv>(async (c, next) => {
  const tenant = c.var.scope.tenant
  const tier = tenant.settings.rateLimitTier ?? 'standard'
  const limiter =
    tier === 'off' ? undefined : (c.env as unknown as Record<string, RateLimit | undefined>)[limiterBinding(tier)]
  if (limiter) {
    const { success } = await limiter.limit({ key: tenant.id })
    if (!success) {
      log('warn', 'rate_limited', { requestId: c.get('requestId'), tenantId: tenant.id, tier })
      throw new ScimError(
        429,
        `Too many requests for this tenant; retry after ${RETRY_AFTER_SECONDS} seconds`,
        undefined,
        {
          'Retry-After': String(RETRY_AFTER_SECONDS),
        },
      )
    }
  }
  await next()
})
