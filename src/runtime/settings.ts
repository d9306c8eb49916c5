/** The Worker's settings read from env, each in one place (README "Deploying to Cloudflare", settings table). */
import type { TenantDocument } from '../tenants/document.ts'
import type { Env } from './env.ts'

/** `{PUBLIC_URL}` without a trailing slash. */
export function publicUrl(env: Pick<Env, 'PUBLIC_URL'>): string {
  return env.PUBLIC_URL.replace(/\/+$/, '')
}

/** The product name shown in mails and on the invite page: APP_NAME, else the host of the tenant's appUrl. */
export function appName(env: Pick<Env, 'APP_NAME'>, tenant?: TenantDocument): string {
  if (env.APP_NAME) return env.APP_NAME
  try {
    return tenant ? new URL(tenant.appUrl).host : 'the app'
  } catch {
    return 'the app'
  }
}

/** Days the journal keeps entries when JOURNAL_RETENTION_DAYS is not set. */
export const DEFAULT_JOURNAL_RETENTION_DAYS = 90

/** JOURNAL_RETENTION_DAYS as a positive number of days. */
export function journalRetentionDays(env: Pick<Env, 'JOURNAL_RETENTION_DAYS'>): number {
  const days = Number(env.JOURNAL_RETENTION_DAYS)
  return Number.isFinite(days) && days > 0 ? days : DEFAULT_JOURNAL_RETENTION_DAYS
}
