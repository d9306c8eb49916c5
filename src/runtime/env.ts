import type { InviteMessage } from '../invites/message.ts'

export type { InviteMessage }

/** The Worker's bindings, typed once (wrangler.toml declares them; the README's settings table explains them). */
export interface Env {
  DB: D1Database
  TENANTS: KVNamespace
  INVITES: Queue<InviteMessage>
  RATE_LIMITER?: RateLimit
  PUBLIC_URL: string
  MAIL_API_URL: string
  MAIL_PROVIDER: string
  MAIL_FROM: string
  MAIL_API_KEY?: string
  APP_API_KEY?: string
  /** Seconds a tenant document stays cached in the isolate (default 30, at most 60; 0 in tests, src/tenants/load.ts). */
  TENANT_CACHE_SECONDS?: string
  /** Days the provisioning journal keeps entries (default 90, src/maintenance.ts). */
  JOURNAL_RETENTION_DAYS?: string
  /** What the invite email and page call the product (default: the host of the tenant's appUrl). */
  APP_NAME?: string
  /** Secret that invite link tokens are derived from; APP_API_KEY when unset (src/invites/token.ts). */
  INVITE_TOKEN_KEY?: string
}
