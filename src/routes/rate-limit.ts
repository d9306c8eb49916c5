import { createMiddleware } from 'hono/factory'
import type { Context } from 'hono'
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

/** A 429 that says what was limited and when to come back. */
export function tooManyRequests(what: string, seconds = RETRY_AFTER_SECONDS): ScimError {
  return new ScimError(429, `Too many requests ${what}; retry after ${seconds} seconds`, undefined, {
    'Retry-After': String(seconds),
  })
}

/**
 * Counts one request under `key` with the rate limit binding named `binding`; false once over the limit.
 * A binding that wrangler.toml does not declare fails closed: a 503 naming it, never an unlimited service.
 */
export async function withinLimit(env: unknown, binding: string, key: string): Promise<boolean> {
  const limiter = (env as Record<string, RateLimit | undefined>)[binding]
  if (!limiter || typeof limiter.limit !== 'function') {
    log('error', 'rate_limit_binding_missing', { binding })
    throw new ScimError(
      503,
      `The rate limit binding ${binding} is not configured; declare it in wrangler.toml ([[ratelimits]] name = "${binding}")`,
    )
  }
  return (await limiter.limit({ key })).success
}

/** The client's address as Cloudflare reports it; `local` when there is none (wrangler dev, tests). */
export function clientAddress(c: Context): string {
  return (c.req.header('cf-connecting-ip') ?? 'local').slice(0, 64)
}

/**
 * Per-tenant rate limiting with the Workers rate limit binding of the tenant's tier, keyed by tenant id.
 * The standard tier (wrangler.toml) allows 500 requests per 10 s, twice Entra's 25 requests/s rule, which
 * has no 429 handling (docs/idp-quirks.md#rate-limits). Tier "off" is not limited.
 */
export const rateLimit = createMiddleware<ScopedEnv>(async (c, next) => {
  const tenant = c.var.scope.tenant
  const tier = tenant.settings.rateLimitTier ?? 'standard'
  if (tier !== 'off' && !(await withinLimit(c.env, limiterBinding(tier), tenant.id))) {
    log('warn', 'rate_limited', { requestId: c.get('requestId'), tenantId: tenant.id, tier })
    throw tooManyRequests('for this tenant')
  }
  await next()
})
