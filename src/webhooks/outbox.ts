/**
 * The producer side of webhook deliveries: a change's events are rows of its batch; once it
 * committed, the tenant is named on WEBHOOKS, whose consumer turns new events into deliveries. A
 * failed send only delays them: the cron wakes every webhook that is behind.
 */
import { log } from '../observability/log.ts'
import type { EventOutbox } from '../scope/scope.ts'
import type { TenantDocument } from '../tenants/document.ts'
import type { WebhookMessage } from './message.ts'

/** The events outbox of one tenant; silent when the tenant has no webhook. */
export function webhookOutbox(
  queue: Queue<WebhookMessage> | undefined,
  tenant: TenantDocument,
  tenantKey: string,
): EventOutbox {
  return {
    async announce() {
      if (!queue || !tenant.webhooks?.length) return
      try {
        await queue.send({ v: 1, tenantKey }, { contentType: 'json' })
      } catch (error) {
        log('error', 'webhook_enqueue_failed', { tenantKey, message: (error as Error).message })
      }
    },
  }
}
