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

/** Seconds between webhook delivery attempts: 11 retries over about 32 hours. */
export const DEFAULT_WEBHOOK_RETRY_SECONDS = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800, 28800]

/** How webhook deliveries behave (WEBHOOK_TIMEOUT_MS, WEBHOOK_RETRY_SECONDS, WEBHOOK_DISABLE_AFTER_HOURS). */
export interface WebhookSettings {
  timeoutMs: number
  retrySeconds: number[]
  disableAfterHours: number
}

export function webhookSettings(
  env: Pick<Env, 'WEBHOOK_TIMEOUT_MS' | 'WEBHOOK_RETRY_SECONDS' | 'WEBHOOK_DISABLE_AFTER_HOURS'>,
): WebhookSettings {
  const timeout = Number(env.WEBHOOK_TIMEOUT_MS)
  const retries = (env.WEBHOOK_RETRY_SECONDS ?? '')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isFinite(n) && n >= 0)
  const hours = Number(env.WEBHOOK_DISABLE_AFTER_HOURS)
  return {
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? Math.min(timeout, 30_000) : 10_000,
    retrySeconds: retries.length ? retries : DEFAULT_WEBHOOK_RETRY_SECONDS,
    disableAfterHours: Number.isFinite(hours) && hours > 0 ? hours : 72,
  }
}

/** Days events are kept for the feed when EVENT_RETENTION_DAYS is not set. */
export const DEFAULT_EVENT_RETENTION_DAYS = 30

export function eventRetentionDays(env: Pick<Env, 'EVENT_RETENTION_DAYS'>): number {
  const days = Number(env.EVENT_RETENTION_DAYS)
  return Number.isFinite(days) && days > 0 ? days : DEFAULT_EVENT_RETENTION_DAYS
}
