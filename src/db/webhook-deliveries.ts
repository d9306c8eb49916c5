/**
 * The webhook deliveries module: the only writer of `webhook_state` and `webhook_deliveries`. A
 * webhook's new events become pending deliveries (fan-out, guarded by its cursor); a consumer claims
 * the oldest pending delivery of each order key (a person, a group) that is due, sends them, and
 * records the outcome. So a webhook sees one person's events in order while other people's go on.
 */
import { sql } from 'drizzle-orm'
import { batch, readRows, runWrite, statement } from '../d1/batch.ts'
import type { Scope, SystemScope } from '../scope/scope.ts'
import { journalStatement } from './journal.ts'

type Tenant = Pick<Scope, 'db' | 'tenantKey'>

/** A webhook's progress, as support sees it. */
export interface WebhookProgress {
  webhookId: string
  cursor: number
  failingSince: string | null
  disabledAt: string | null
  lastSuccessAt: string | null
  pending: number
  dead: number
  delivered: number
}

/** A delivery a consumer holds and now sends. */
export interface ClaimedDelivery {
  seq: number
  attempts: number
}

/** What one send came to. */
export type DeliveryOutcome =
  | { seq: number; ok: true; status: number }
  | { seq: number; ok: false; status: number | null; error: string; retryAt?: Date }

/**
 * The webhook's state row, made on first use with the cursor at the last event before the webhook
 * existed (it receives what happens after it was made). Returns the state.
 */
export async function webhookState(
  scope: Tenant,
  webhook: { id: string; createdAt: string },
): Promise<{ cursor: number; disabledAt: string | null; failingSince: string | null }> {
  const b = batch(scope.db)
  b.add(
    statement(sql`INSERT OR IGNORE INTO webhook_state (tenant_id, webhook_id, cursor)
      SELECT ${scope.tenantKey}, ${webhook.id}, coalesce((SELECT max(seq) FROM events WHERE tenant_id = ${scope.tenantKey} AND at < ${webhook.createdAt}), 0)`),
  )
  const state = b.first(
    statement(sql`SELECT cursor, disabled_at AS disabledAt, failing_since AS failingSince FROM webhook_state
      WHERE tenant_id = ${scope.tenantKey} AND webhook_id = ${webhook.id}`),
    (row) => row as { cursor: number; disabledAt: string | null; failingSince: string | null },
  )
  return (await b.run()).get(state)!
}

/**
 * Turns the events after the webhook's cursor (up to `limit` of them) into pending deliveries of the
 * types it wants, and moves the cursor past them, in one batch guarded by the cursor read: two
 * consumers never fan out the same events twice. Returns how many events it passed.
 */
export async function fanOut(
  scope: Tenant & Pick<Scope, 'now'>,
  webhook: { id: string; cursor: number; types: string[] },
  limit = 1000,
): Promise<number> {
  const key = scope.tenantKey
  const upTo = sql`(SELECT coalesce(max(seq), ${webhook.cursor}) FROM (SELECT seq FROM events WHERE tenant_id = ${key} AND seq > ${webhook.cursor} ORDER BY seq LIMIT ${limit}))`
  const guard = sql`EXISTS (SELECT 1 FROM webhook_state WHERE tenant_id = ${key} AND webhook_id = ${webhook.id} AND cursor = ${webhook.cursor})`
  const b = batch(scope.db)
  b.add(
    statement(sql`INSERT OR IGNORE INTO webhook_deliveries (tenant_id, webhook_id, seq, order_key, state, next_at)
      SELECT ${key}, ${webhook.id}, e.seq, e.resource_id, 'pending', ${scope.now().toISOString()} FROM events e
      WHERE e.tenant_id = ${key} AND e.seq > ${webhook.cursor} AND e.seq <= ${upTo}
        AND e.type IN (SELECT value FROM json_each(${JSON.stringify(webhook.types)})) AND ${guard}`),
  )
  const moved = b.changes(
    statement(
      sql`UPDATE webhook_state SET cursor = ${upTo} WHERE tenant_id = ${key} AND webhook_id = ${webhook.id} AND cursor = ${webhook.cursor}`,
    ),
  )
  const cursor = b.first(
    statement(sql`SELECT cursor FROM webhook_state WHERE tenant_id = ${key} AND webhook_id = ${webhook.id}`),
    (row) => row.cursor as number,
  )
  const results = await b.run()
  return results.get(moved) === 1 ? (results.get(cursor) ?? webhook.cursor) - webhook.cursor : 0
}

/**
 * Claims up to `limit` due deliveries, each the oldest pending one of its order key and held by no
 * other consumer, until `leaseUntil`.
 */
export async function claimDue(
  scope: Tenant & Pick<Scope, 'now'>,
  webhookId: string,
  options: { leaseUntil: Date; limit: number },
): Promise<ClaimedDelivery[]> {
  const key = scope.tenantKey
  const now = scope.now().toISOString()
  return readRows<ClaimedDelivery>(
    scope.db,
    statement(sql`UPDATE webhook_deliveries SET lease_until = ${options.leaseUntil.toISOString()}
      WHERE tenant_id = ${key} AND webhook_id = ${webhookId} AND seq IN (
        SELECT d.seq FROM webhook_deliveries d
        WHERE d.tenant_id = ${key} AND d.webhook_id = ${webhookId} AND d.state = 'pending' AND d.next_at <= ${now}
          AND (d.lease_until IS NULL OR d.lease_until < ${now})
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p INDEXED BY webhook_deliveries_pending
            WHERE p.tenant_id = d.tenant_id AND p.webhook_id = d.webhook_id AND p.order_key = d.order_key
              AND p.state = 'pending' AND p.seq < d.seq)
        ORDER BY d.seq LIMIT ${options.limit})
      RETURNING seq, attempts`),
  )
}

/**
 * Records what the sends came to, in one batch: delivered ones are done, failed ones wait until their
 * `retryAt` or, without one, are dead. The webhook's health follows: a success clears `failing_since`;
 * a failure sets it, and a webhook failing for longer than `disableAfter` is disabled and journaled.
 * Returns whether the webhook was disabled now.
 */
export async function recordOutcomes(
  scope: Tenant & Pick<Scope, 'now' | 'requestId'>,
  webhookId: string,
  outcomes: DeliveryOutcome[],
  options: { disableBefore: Date },
): Promise<{ disabled: boolean }> {
  if (!outcomes.length) return { disabled: false }
  const key = scope.tenantKey
  const now = scope.now().toISOString()
  const b = batch(scope.db)
  for (const o of outcomes) {
    const where = sql`tenant_id = ${key} AND webhook_id = ${webhookId} AND seq = ${o.seq} AND state = 'pending'`
    if (o.ok) {
      b.add(
        statement(sql`UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ${now},
          last_status = ${o.status}, last_error = NULL, lease_until = NULL WHERE ${where}`),
      )
    } else {
      const next = o.retryAt
        ? sql`state = 'pending', next_at = ${o.retryAt.toISOString()}`
        : sql`state = 'dead', next_at = ${now}`
      b.add(
        statement(sql`UPDATE webhook_deliveries SET ${next}, attempts = attempts + 1, last_status = ${o.status},
          last_error = ${o.error.slice(0, 300)}, lease_until = NULL WHERE ${where}`),
      )
    }
  }
  const state = sql`tenant_id = ${key} AND webhook_id = ${webhookId}`
  if (outcomes.some((o) => o.ok)) {
    b.add(statement(sql`UPDATE webhook_state SET failing_since = NULL, last_success_at = ${now} WHERE ${state}`))
  }
  if (outcomes.some((o) => !o.ok) && !outcomes.some((o) => o.ok)) {
    b.add(statement(sql`UPDATE webhook_state SET failing_since = coalesce(failing_since, ${now}) WHERE ${state}`))
  }
  const disabled = b.changes(
    statement(sql`UPDATE webhook_state SET disabled_at = ${now}
      WHERE ${state} AND disabled_at IS NULL AND failing_since IS NOT NULL AND failing_since < ${options.disableBefore.toISOString()}`),
  )
  b.add(
    journalStatement(
      key,
      {
        at: now,
        credentialId: null,
        requestId: scope.requestId,
        method: 'WEBHOOK',
        path: webhookId,
        resourceType: null,
        resourceId: null,
        action: 'webhook-disabled',
        outcome: 'disabled',
        summary: `webhook ${webhookId} disabled: every delivery failed since before ${options.disableBefore.toISOString()}`,
      },
      sql`changes() = 1`,
    ),
  )
  return { disabled: (await b.run()).get(disabled) === 1 }
}

/** When the webhook's next pending delivery is due (undefined when none is pending). */
export async function nextDue(scope: Tenant, webhookId: string): Promise<string | undefined> {
  const [row] = await readRows<{ at: string | null }>(
    scope.db,
    statement(sql`SELECT min(max(next_at, coalesce(lease_until, next_at))) AS at FROM webhook_deliveries
      WHERE tenant_id = ${scope.tenantKey} AND webhook_id = ${webhookId} AND state = 'pending'`),
  )
  return row?.at ?? undefined
}

/**
 * Takes the right to schedule the wake-up at `at`: true unless a wake-up at or before `at` is in
 * flight already, so retries never multiply queue messages.
 */
export async function claimWake(scope: Tenant & Pick<Scope, 'now'>, webhookId: string, at: Date): Promise<boolean> {
  // A wake-up due within 2 s counts as arrived: queues deliver delayed messages a little early or late.
  const stale = new Date(scope.now().getTime() + 2000).toISOString()
  return (
    (await runWrite(
      scope.db,
      statement(sql`UPDATE webhook_state SET wake_at = ${at.toISOString()}
        WHERE tenant_id = ${scope.tenantKey} AND webhook_id = ${webhookId}
          AND (wake_at IS NULL OR wake_at <= ${stale} OR wake_at > ${at.toISOString()})`),
    )) === 1
  )
}

/**
 * Drops the state and deliveries of webhooks the tenant document no longer has (revoked), so the cron
 * stops waking the tenant for them. Returns how many rows went.
 */
export async function forgetWebhooks(scope: Tenant, keep: string[]): Promise<number> {
  const kept = sql`(SELECT value FROM json_each(${JSON.stringify(keep)}))`
  const b = batch(scope.db)
  const deliveries = b.changes(
    statement(sql`DELETE FROM webhook_deliveries WHERE tenant_id = ${scope.tenantKey} AND webhook_id NOT IN ${kept}`),
  )
  const states = b.changes(
    statement(sql`DELETE FROM webhook_state WHERE tenant_id = ${scope.tenantKey} AND webhook_id NOT IN ${kept}`),
  )
  const results = await b.run()
  return results.get(deliveries) + results.get(states)
}

/** Support re-enables a disabled webhook: it delivers again, from where it stopped. */
export async function enableWebhook(scope: Tenant, webhookId: string): Promise<boolean> {
  return (
    (await runWrite(
      scope.db,
      statement(sql`UPDATE webhook_state SET disabled_at = NULL, failing_since = NULL
        WHERE tenant_id = ${scope.tenantKey} AND webhook_id = ${webhookId} AND disabled_at IS NOT NULL`),
    )) === 1
  )
}

/** Dead deliveries go back to pending, due now (after the receiver was fixed). Returns how many. */
export async function retryDead(scope: Tenant & Pick<Scope, 'now'>, webhookId: string): Promise<number> {
  return runWrite(
    scope.db,
    statement(sql`UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = ${scope.now().toISOString()}
      WHERE tenant_id = ${scope.tenantKey} AND webhook_id = ${webhookId} AND state = 'dead'`),
  )
}

/** Each webhook's progress, for support. */
export async function webhookProgress(scope: Tenant, webhookIds: string[]): Promise<WebhookProgress[]> {
  if (!webhookIds.length) return []
  return readRows<WebhookProgress>(
    scope.db,
    statement(sql`SELECT j.value AS webhookId, coalesce(s.cursor, 0) AS cursor, s.failing_since AS failingSince,
        s.disabled_at AS disabledAt, s.last_success_at AS lastSuccessAt,
        (SELECT count(*) FROM webhook_deliveries d WHERE d.tenant_id = ${scope.tenantKey} AND d.webhook_id = j.value AND d.state = 'pending') AS pending,
        (SELECT count(*) FROM webhook_deliveries d WHERE d.tenant_id = ${scope.tenantKey} AND d.webhook_id = j.value AND d.state = 'dead') AS dead,
        (SELECT count(*) FROM webhook_deliveries d WHERE d.tenant_id = ${scope.tenantKey} AND d.webhook_id = j.value AND d.state = 'delivered') AS delivered
      FROM json_each(${JSON.stringify(webhookIds)}) j
      LEFT JOIN webhook_state s ON s.tenant_id = ${scope.tenantKey} AND s.webhook_id = j.value`),
  )
}

/**
 * Tenants with webhook work the queue may have missed (a failed send, a consumer that stopped): a
 * cursor behind the newest event, or a pending delivery due. For the cron, across tenants.
 */
export async function tenantsBehind(scope: SystemScope, limit = 100): Promise<string[]> {
  const now = scope.now().toISOString()
  const rows = await readRows<{ tenantKey: string }>(
    scope.db,
    statement(sql`SELECT DISTINCT tenant_id AS tenantKey FROM (
        SELECT s.tenant_id FROM webhook_state s WHERE s.disabled_at IS NULL
          AND s.cursor < (SELECT max(seq) FROM events e WHERE e.tenant_id = s.tenant_id)
        UNION
        SELECT d.tenant_id FROM webhook_deliveries d WHERE d.state = 'pending' AND d.next_at <= ${now}
          AND (d.lease_until IS NULL OR d.lease_until < ${now}))
      LIMIT ${limit}`),
  )
  return rows.map((r) => r.tenantKey)
}

/** Deletes finished deliveries older than `before` (their events go with the retention). */
export async function pruneDeliveries(scope: SystemScope, before: Date, limit = 5000): Promise<number> {
  return runWrite(
    scope.db,
    statement(sql`DELETE FROM webhook_deliveries WHERE rowid IN (SELECT rowid FROM webhook_deliveries
      WHERE state != 'pending' AND next_at < ${before.toISOString()} LIMIT ${limit})`),
  )
}
