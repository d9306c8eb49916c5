/** The Worker's bindings, typed once (shared/DESIGN.md "Bindings"). */
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
  /** Seconds a tenant document stays cached in the isolate (default 30; 0 in tests, src/auth/tenant-cache.ts). */
  TENANT_CACHE_SECONDS?: string
  /** Days the provisioning journal keeps entries (default 90, src/maintenance.ts). */
  JOURNAL_RETENTION_DAYS?: string
  /** What the invite email and page call the product (default: the host of the tenant's appUrl). */
  APP_NAME?: string
  /** Secret that invite link tokens are derived from; APP_API_KEY when unset (src/invites/token.ts). */
  INVITE_TOKEN_KEY?: string
}

/** The body of a message on the INVITES queue. */
export interface InviteMessage {
  v: 1
  tenantId: string
  inviteId: string
}
