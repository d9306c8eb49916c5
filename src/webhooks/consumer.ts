/**
 * The WEBHOOKS consumer: a message names a tenant with events to deliver. For each of the tenant's
 * webhooks it turns new events into deliveries, then sends due deliveries (one per person or group
 * at a time, so each sees its events in order) until none is due or its time is up, records what came
 * of them, confirms receipts, and wakes itself again for the next retry. Retries follow the schedule
 * (about 32 hours by default); a delivery past it is dead and goes to the dead letter queue.
 */
import { confirmReceipt, readEventsBySeq } from '../db/events.ts'
import {
  claimDue,
  claimWake,
  fanOut,
  forgetWebhooks,
  nextDue,
  recordOutcomes,
  webhookState,
  type DeliveryOutcome,
} from '../db/webhook-deliveries.ts'
import { log } from '../observability/log.ts'
import type { Scope } from '../scope/scope.ts'
import { EVENT_TYPES, matchesEventFilter } from '../signals/event.ts'
import type { WebhookConfig } from '../tenants/document.ts'
import type { DeadDelivery, WebhookMessage } from './message.ts'
import { sendEvent, type SendContext } from './send.ts'

/** What the consumer needs, from env (src/runtime/scopes.ts builds it). */
export interface WebhookDeps {
  /** The tenant's scope by its key; undefined when the tenant is gone. */
  scope(tenantKey: string): Promise<Scope | undefined>
  send: Omit<SendContext, 'baseUrl'>
  retrySeconds: number[]
  disableAfterHours: number
  /** Wakes the tenant again after `delaySeconds`. */
  wake(tenantKey: string, delaySeconds: number): Promise<void>
  dead(delivery: DeadDelivery): Promise<void>
  /** How long one message may keep sending. */
  budgetMs?: number
}

/**
 * Deliveries sent at once per webhook: a Worker invocation keeps at most 6 outgoing connections open,
 * and a send queued behind them would spend its timeout waiting.
 */
const CONCURRENCY = 6
/** Queues delay a message by at most 12 hours. */
const MAX_DELAY_SECONDS = 43_200

/** The event types a webhook's patterns select. */
export function webhookTypes(webhook: WebhookConfig): string[] {
  return EVENT_TYPES.filter((t) => matchesEventFilter(t, webhook.events))
}

/** When a failed delivery is tried again, or undefined when it is dead (its retries ran out). */
function retryAt(attempts: number, deps: WebhookDeps, now: Date, retryAfterSeconds?: number): Date | undefined {
  const base = deps.retrySeconds[attempts - 1]
  if (base === undefined) return undefined
  // Jitter, so deliveries that failed together do not come back together; Retry-After is honoured up to an hour.
  const seconds = Math.max(base * (0.9 + Math.random() * 0.2), Math.min(retryAfterSeconds ?? 0, 3600))
  return new Date(now.getTime() + seconds * 1000)
}

/** Fans out and sends for one webhook; returns when its next pending delivery is due, if any. */
async function deliverWebhook(
  scope: Scope,
  webhook: WebhookConfig,
  deps: WebhookDeps,
  until: number,
): Promise<string | undefined> {
  const state = await webhookState(scope, webhook)
  if (state.disabledAt) return undefined
  const types = webhookTypes(webhook)
  const ctx: SendContext = { ...deps.send, baseUrl: scope.baseUrl }
  let cursor = state.cursor
  for (;;) {
    // New events first, on every round, so a long run picks up what committed meanwhile.
    for (;;) {
      const passed = await fanOut(scope, { id: webhook.id, cursor, types })
      if (!passed) break
      cursor += passed
    }
    const now = scope.now()
    if (now.getTime() >= until) break
    const claimed = await claimDue(scope, webhook.id, {
      leaseUntil: new Date(now.getTime() + deps.send.timeoutMs + 30_000),
      limit: CONCURRENCY,
    })
    if (!claimed.length) break
    const events = await readEventsBySeq(
      scope,
      claimed.map((c) => c.seq),
    )
    const outcomes: DeliveryOutcome[] = await Promise.all(
      claimed.map(async (c): Promise<DeliveryOutcome> => {
        const event = events.get(c.seq)
        // Pruned before it was delivered: nothing to send, nothing to retry.
        if (!event) return { seq: c.seq, ok: false, status: null, error: 'event no longer kept' }
        const result = await sendEvent(webhook, event, ctx)
        if (result.ok) return { seq: c.seq, ok: true, status: result.status }
        return {
          seq: c.seq,
          ok: false,
          status: result.status,
          error: result.error,
          retryAt: retryAt(c.attempts + 1, deps, scope.now(), result.retryAfterSeconds),
        }
      }),
    )
    const { disabled } = await recordOutcomes(scope, webhook.id, outcomes, {
      disableBefore: new Date(scope.now().getTime() - deps.disableAfterHours * 3_600_000),
    })
    for (const o of outcomes) {
      const event = events.get(o.seq)
      if (o.ok && event?.receipt && !event.receipt.confirmedAt)
        await confirmReceipt(scope, event, `webhook:${webhook.id}`)
      if (!o.ok && !o.retryAt && event) {
        await deps.dead({
          v: 1,
          tenantKey: scope.tenantKey,
          webhookId: webhook.id,
          eventId: event.id,
          seq: o.seq,
          type: event.type,
          attempts: (claimed.find((c) => c.seq === o.seq)?.attempts ?? 0) + 1,
          lastError: o.error,
        })
      }
    }
    const failed = outcomes.filter((o) => !o.ok).length
    if (failed) log('warn', 'webhook_failures', { tenantKey: scope.tenantKey, webhookId: webhook.id, failed })
    if (disabled) {
      log('error', 'webhook_disabled', { tenantKey: scope.tenantKey, webhookId: webhook.id })
      return undefined
    }
  }
  const next = await nextDue(scope, webhook.id)
  // One wake-up in flight per webhook: the runs that find one scheduled early enough leave it be.
  const wakeAt = next && new Date(Math.max(Date.parse(next), scope.now().getTime() + 1000))
  return wakeAt && (await claimWake(scope, webhook.id, wakeAt)) ? next : undefined
}

/** Delivers one tenant's events to each of its webhooks, then wakes itself for the next retry. */
export async function deliverTenant(tenantKey: string, deps: WebhookDeps): Promise<void> {
  const scope = await deps.scope(tenantKey)
  if (!scope || scope.tenant.status !== 'active') return
  // Revoked webhooks leave nothing behind that would wake the tenant again.
  await forgetWebhooks(
    scope,
    (scope.tenant.webhooks ?? []).map((w) => w.id),
  )
  if (!scope.tenant.webhooks?.length) return
  const until = scope.now().getTime() + (deps.budgetMs ?? 20_000)
  const due = await Promise.all(scope.tenant.webhooks.map((w) => deliverWebhook(scope, w, deps, until)))
  const next = due.filter((d): d is string => Boolean(d)).sort()[0]
  if (next) {
    const delay = Math.ceil((Date.parse(next) - scope.now().getTime()) / 1000)
    await deps.wake(tenantKey, Math.min(Math.max(delay, 0), MAX_DELAY_SECONDS))
  }
}

/** The consumer: each tenant of the batch once; a failed tenant's messages come back (the queue's retry). */
export async function handleWebhookBatch(batch: MessageBatch<WebhookMessage>, deps: WebhookDeps): Promise<void> {
  const byTenant = new Map<string, Message<WebhookMessage>[]>()
  for (const m of batch.messages) {
    const key = m.body?.tenantKey
    if (typeof key !== 'string') {
      m.ack()
      continue
    }
    byTenant.set(key, [...(byTenant.get(key) ?? []), m])
  }
  await Promise.all(
    [...byTenant].map(async ([key, messages]) => {
      try {
        await deliverTenant(key, deps)
        for (const m of messages) m.ack()
      } catch (error) {
        log('error', 'webhook_consumer_failed', { tenantKey: key, message: (error as Error).message })
        for (const m of messages) m.retry({ delaySeconds: Math.min(60, 2 ** m.attempts) })
      }
    }),
  )
}
