/**
 * Support's view of a tenant's webhooks and its levers: progress (pending, delivered, dead, failing
 * since, disabled), a test delivery sent now, and re-enabling a disabled webhook (its dead deliveries
 * are tried again).
 */
import { enableWebhook, retryDead, webhookProgress, type WebhookProgress } from '../db/webhook-deliveries.ts'
import { NotFound } from '../scim/errors.ts'
import type { Scope } from '../scope/scope.ts'
import type { AppEvent } from '../signals/event.ts'
import type { WebhookConfig } from '../tenants/document.ts'
import { sendEvent, type SendContext, type SendResult } from './send.ts'

function webhookOf(scope: Scope, id: string): WebhookConfig {
  const webhook = scope.tenant.webhooks?.find((w) => w.id === id)
  if (!webhook) throw new NotFound(`No webhook "${id.slice(0, 64)}" on tenant ${scope.tenant.id}`)
  return webhook
}

/** Every webhook of the tenant with its delivery progress. */
export async function webhookStatus(scope: Scope): Promise<(WebhookProgress & { url: string })[]> {
  const webhooks = scope.tenant.webhooks ?? []
  const progress = await webhookProgress(
    scope,
    webhooks.map((w) => w.id),
  )
  return progress.map((p) => ({ ...p, url: webhooks.find((w) => w.id === p.webhookId)!.url }))
}

/**
 * Sends a `webhook.test` delivery now, signed like any other (an RFC 9967 SET of a user.updated
 * notice naming no attributes for `set` webhooks), and says what came back. Nothing is stored.
 */
export async function testWebhook(
  scope: Scope,
  id: string,
  ctx: Omit<SendContext, 'baseUrl'>,
): Promise<SendResult & { webhookId: string; url: string }> {
  const webhook = webhookOf(scope, id)
  const event = {
    id: `evt_test_${crypto.randomUUID().replaceAll('-', '')}`,
    seq: 0,
    // SETs have no test event of RFC 9967: a user.updated notice about user "test" naming no attribute.
    type: webhook.format === 'set' ? 'user.updated' : 'webhook.test',
    time: scope.now().toISOString(),
    tenantId: scope.tenant.id,
    actor: { kind: 'support', id: null },
    resource: { type: 'User', id: 'test' },
  } as unknown as AppEvent
  const result = await sendEvent(webhook, event, { ...ctx, baseUrl: scope.baseUrl })
  return { ...result, webhookId: id, url: webhook.url }
}

/** Re-enables a webhook and puts its dead deliveries back in line. */
export async function reenableWebhook(scope: Scope, id: string): Promise<{ enabled: boolean; retried: number }> {
  webhookOf(scope, id)
  const enabled = await enableWebhook(scope, id)
  const retried = await retryDead(scope, id)
  if (enabled || retried) await scope.outbox.events.announce()
  return { enabled, retried }
}
