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
  type ClaimedDelivery,
  type DeliveryOutcome,
} from '../db/webhook-deliveries.ts'
import { log } from '../observability/log.ts'
import type { Scope } from '../scope/scope.ts'
import { EVENT_TYPES, matchesEventFilter, type AppEvent } from '../signals/event.ts'
import type { WebhookConfig } from '../tenants/document.ts'
import type { DeadDelivery, WebhookMessage } from './message.ts'
import { SEND_SLOTS, SendSlots } from './send-slots.ts'
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

/** Due deliveries claimed ahead of the free send slots, so a slot that frees does not wait on D1. */
const PREFETCH = 24

/**
 * Fans out and sends for one webhook; returns when its next pending delivery is due, if any.
 * Sends draw on the invocation's send slots. Due deliveries are claimed ahead, up to PREFETCH, and
 * claimed again once fewer than a slot's worth are left; the outcomes of sends that ended are recorded
 * together, in one batch, while the others are still out. So a busy database costs a few round trips
 * per batch of deliveries, not several per delivery, and a receiver that hangs on one request holds
 * one slot, not a whole round. Only the head of each person's or group's deliveries is claimable, and
 * the next one only once that outcome is recorded, which keeps their order.
 */
async function deliverWebhook(
  scope: Scope,
  webhook: WebhookConfig,
  deps: WebhookDeps,
  run: { until: number; slots: SendSlots },
): Promise<string | undefined> {
  const { until, slots } = run
  const state = await webhookState(scope, webhook)
  if (state.disabledAt) return undefined
  const types = webhookTypes(webhook)
  const ctx: SendContext = { ...deps.send, baseUrl: scope.baseUrl }
  const inFlight = new Map<number, Promise<void>>()
  /** Claimed, not yet sent. */
  const ready: { claimed: ClaimedDelivery; event: AppEvent | undefined }[] = []
  /** Sent, outcome not yet recorded. */
  const ended: { claimed: ClaimedDelivery; event: AppEvent | undefined; outcome: DeliveryOutcome }[] = []
  let cursor = state.cursor
  let disabled = false
  let failed = 0
  /** Nothing of this webhook's is out and every slot is held by other webhooks: wait for one. */
  let starved = false

  const send = async (claimed: ClaimedDelivery, event: AppEvent | undefined): Promise<void> => {
    let outcome: DeliveryOutcome
    if (!event) {
      // Pruned before it was delivered: nothing to send, nothing to retry.
      outcome = { seq: claimed.seq, ok: false, status: null, error: 'event no longer kept' }
    } else {
      const result = await sendEvent(webhook, event, ctx)
      outcome = result.ok
        ? { seq: claimed.seq, ok: true, status: result.status }
        : {
            seq: claimed.seq,
            ok: false,
            status: result.status,
            error: result.error,
            retryAt: retryAt(claimed.attempts + 1, deps, scope.now(), result.retryAfterSeconds),
          }
    }
    ended.push({ claimed, event, outcome })
  }

  /** Records the outcomes of the sends that ended, in one batch; then receipts and dead letters. */
  const record = async (): Promise<void> => {
    const done = ended.splice(0)
    if (!done.length) return
    const recorded = await recordOutcomes(
      scope,
      webhook.id,
      done.map((d) => d.outcome),
      { disableBefore: new Date(scope.now().getTime() - deps.disableAfterHours * 3_600_000) },
    )
    if (recorded.disabled) disabled = true
    for (const { claimed, event, outcome } of done) {
      if (outcome.ok && event?.receipt && !event.receipt.confirmedAt)
        await confirmReceipt(scope, event, `webhook:${webhook.id}`)
      if (outcome.ok) continue
      failed++
      if (!outcome.retryAt && event)
        await deps.dead({
          v: 1,
          tenantKey: scope.tenantKey,
          webhookId: webhook.id,
          eventId: event.id,
          seq: outcome.seq,
          type: event.type,
          attempts: claimed.attempts + 1,
          lastError: outcome.error,
        })
    }
  }

  /** Fans out what committed meanwhile and claims ahead when few are left, then fills the free slots. */
  const refill = async (): Promise<void> => {
    starved = false
    if (disabled) ready.length = 0 // their leases run out; a re-enabled webhook claims them again
    const now = scope.now()
    if (!disabled && now.getTime() < until && ready.length < SEND_SLOTS) {
      for (;;) {
        const passed = await fanOut(scope, { id: webhook.id, cursor, types })
        if (!passed) break
        cursor += passed
      }
      const claimed = await claimDue(scope, webhook.id, {
        leaseUntil: new Date(now.getTime() + deps.send.timeoutMs + 30_000),
        limit: PREFETCH - ready.length,
      })
      const events = claimed.length
        ? await readEventsBySeq(
            scope,
            claimed.map((c) => c.seq),
          )
        : new Map<number, AppEvent>()
      for (const c of claimed) ready.push({ claimed: c, event: events.get(c.seq) })
    }
    if (!ready.length) return
    const granted = slots.take(ready.length)
    if (!granted) {
      starved = inFlight.size === 0
      return
    }
    for (const { claimed, event } of ready.splice(0, granted)) {
      inFlight.set(
        claimed.seq,
        send(claimed, event).finally(() => {
          inFlight.delete(claimed.seq)
          slots.give()
        }),
      )
    }
  }

  try {
    await refill()
    while (inFlight.size || starved || ready.length || ended.length) {
      if (inFlight.size && !ended.length) await Promise.race(inFlight.values())
      else if (!inFlight.size && starved) await slots.whenFree()
      await record()
      await refill()
    }
  } finally {
    // On an error, the sends already out still finish and are recorded before the message is retried.
    await Promise.allSettled(inFlight.values())
    await record().catch((error) =>
      log('error', 'webhook_record_failed', { tenantKey: scope.tenantKey, message: (error as Error).message }),
    )
  }
  if (failed) log('warn', 'webhook_failures', { tenantKey: scope.tenantKey, webhookId: webhook.id, failed })
  if (disabled) {
    log('error', 'webhook_disabled', { tenantKey: scope.tenantKey, webhookId: webhook.id })
    return undefined
  }
  const next = await nextDue(scope, webhook.id)
  // One wake-up in flight per webhook: the runs that find one scheduled early enough leave it be.
  const wakeAt = next && new Date(Math.max(Date.parse(next), scope.now().getTime() + 1000))
  return wakeAt && (await claimWake(scope, webhook.id, wakeAt)) ? next : undefined
}

/** Delivers one tenant's events to each of its webhooks, then wakes itself for the next retry. */
export async function deliverTenant(tenantKey: string, deps: WebhookDeps, slots = new SendSlots()): Promise<void> {
  const scope = await deps.scope(tenantKey)
  if (!scope || scope.tenant.status !== 'active') return
  // Revoked webhooks leave nothing behind that would wake the tenant again.
  await forgetWebhooks(
    scope,
    (scope.tenant.webhooks ?? []).map((w) => w.id),
  )
  if (!scope.tenant.webhooks?.length) return
  const until = scope.now().getTime() + (deps.budgetMs ?? 20_000)
  const due = await Promise.all(scope.tenant.webhooks.map((w) => deliverWebhook(scope, w, deps, { until, slots })))
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
  const slots = new SendSlots()
  await Promise.all(
    [...byTenant].map(async ([key, messages]) => {
      try {
        await deliverTenant(key, deps, slots)
        for (const m of messages) m.ack()
      } catch (error) {
        log('error', 'webhook_consumer_failed', { tenantKey: key, message: (error as Error).message })
        for (const m of messages) m.retry({ delaySeconds: Math.min(60, 2 ** m.attempts) })
      }
    }),
  )
}
