/** What the Worker needs to run safely and does not have: missing secrets and rate limit bindings. */
import { parseSigningKeys, SigningKeysInvalid } from '../oauth/signing-keys.ts'
import type { Env } from './env.ts'

/** Bindings every deployment needs; each one missing makes what it guards answer 503 (fail closed). */
const REQUIRED_LIMITERS = [
  'RATE_LIMITER',
  'APP_RATE_LIMITER',
  'AUTH_FAILURES_BY_ADDRESS',
  'AUTH_FAILURES_BY_TENANT',
  'INVITE_RATE_LIMITER',
] as const

/** One line per missing piece, naming it and what stops working without it. */
export function readinessWarnings(env: Env): string[] {
  const warnings: string[] = []
  const bindings = env as unknown as Record<string, unknown>
  for (const name of REQUIRED_LIMITERS) {
    if (!bindings[name]) warnings.push(`rate limit binding ${name} is missing: what it limits answers 503`)
  }
  if (!env.INVITE_TOKEN_KEY) warnings.push('INVITE_TOKEN_KEY is not set: no invite mail is sent until it is')
  if (!env.OAUTH_SIGNING_KEYS) warnings.push('OAUTH_SIGNING_KEYS is not set: the OAuth token endpoint answers 503')
  else {
    try {
      parseSigningKeys(env.OAUTH_SIGNING_KEYS)
    } catch (error) {
      if (!(error instanceof SigningKeysInvalid)) throw error
      warnings.push(`${error.message}: the OAuth token endpoint fails`)
    }
  }
  if (!env.MAIL_API_KEY) warnings.push('MAIL_API_KEY is not set: the mail API will refuse invite mails')
  return warnings
}
