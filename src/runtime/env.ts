import type { InviteMessage } from '../invites/message.ts'
import type { DeadDelivery, WebhookMessage } from '../webhooks/message.ts'

export type { InviteMessage, WebhookMessage }

/** The Worker's bindings, typed once (wrangler.toml declares them; the README's settings table explains them). */
export interface Env {
  DB: D1Database
  TENANTS: KVNamespace
  INVITES: Queue<InviteMessage>
  /** Tenants with events to deliver to webhooks (src/webhooks/). */
  WEBHOOKS?: Queue<WebhookMessage>
  /** Deliveries that ran out of retries. */
  WEBHOOKS_DLQ?: Queue<DeadDelivery>
  RATE_LIMITER?: RateLimit
  /** Requests per app key and tenant (the app API). */
  APP_RATE_LIMITER?: RateLimit
  /** Failed authentications per client address, and per tenant, before a lockout (src/auth/lockout.ts). */
  AUTH_FAILURES_BY_ADDRESS?: RateLimit
  AUTH_FAILURES_BY_TENANT?: RateLimit
  /** Requests per client address on the invite page. */
  INVITE_RATE_LIMITER?: RateLimit
  /** Days a deleted tenant's rows are kept before the cron erases them (default 30, src/tenants/erasures.ts). */
  TENANT_ERASURE_DAYS?: string
  PUBLIC_URL: string
  MAIL_API_URL: string
  MAIL_PROVIDER: string
  MAIL_FROM: string
  MAIL_API_KEY?: string
  /** Seconds a tenant document stays cached in the isolate (default 30, at most 60; 0 in tests, src/tenants/load.ts). */
  TENANT_CACHE_SECONDS?: string
  /** Days the provisioning journal keeps entries (default 90, src/maintenance.ts). */
  JOURNAL_RETENTION_DAYS?: string
  /** What the invite email and page call the product (default: the host of the tenant's appUrl). */
  APP_NAME?: string
  /** Secret that invite link tokens are derived from (src/invites/token.ts); required: without it no invite is sent. */
  INVITE_TOKEN_KEY?: string
  /**
   * The OAuth token signing keys: a JWK set of ES256 or EdDSA private keys, the first one signing
   * (src/oauth/signing-keys.ts); without it the token endpoint answers 503 and no access token passes.
   */
  OAUTH_SIGNING_KEYS?: string
  /** Days events are kept for the feed (default 30). */
  EVENT_RETENTION_DAYS?: string
  /** Milliseconds a webhook has to answer (default 10000). */
  WEBHOOK_TIMEOUT_MS?: string
  /** Seconds between delivery attempts, comma-separated (default covers more than 24 hours). */
  WEBHOOK_RETRY_SECONDS?: string
  /** Hours a webhook may fail without a success before it is disabled (default 72). */
  WEBHOOK_DISABLE_AFTER_HOURS?: string
}
