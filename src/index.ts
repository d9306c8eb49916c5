import { createApp } from './app.ts'
import { handleInviteBatch } from './invites/consumer.ts'
import { InviteTokenKeyMissing } from './invites/token.ts'
import { log } from './observability/log.ts'
import { runMaintenance } from './maintenance.ts'
import { eraseDueTenants } from './runtime/erasures.ts'
import { erasureDays } from './tenants/erasures.ts'
import type { Env } from './runtime/env.ts'
import { consumerDeps, systemScope, webhookDeps } from './runtime/scopes.ts'
import { handleWebhookBatch } from './webhooks/consumer.ts'
import type { InviteMessage, WebhookMessage } from './runtime/env.ts'
import { eventRetentionDays, journalRetentionDays } from './runtime/settings.ts'

export { Directory } from './directory.ts'

const app = createApp()

export default {
  fetch: app.fetch,
  /** The INVITES and WEBHOOKS consumers; the dead letter queues have no consumer here. */
  async queue(batch, env) {
    if (batch.queue === 'webhooks') {
      await handleWebhookBatch(
        batch as MessageBatch<WebhookMessage>,
        await webhookDeps(env, `queue-${crypto.randomUUID()}`),
      )
      return
    }
    const invites = batch as MessageBatch<InviteMessage>
    let deps: ReturnType<typeof consumerDeps>
    try {
      deps = consumerDeps(env, `queue-${crypto.randomUUID()}`)
    } catch (error) {
      if (!(error instanceof InviteTokenKeyMissing)) throw error
      // Nothing is sent or changed: the messages come back once the secret is set.
      log('error', 'invite_token_key_missing', { messages: batch.messages.length, message: error.message })
      invites.retryAll({ delaySeconds: 300 })
      return
    }
    await handleInviteBatch(invites, deps)
  },
  /** The cron sweep: re-enqueues invites whose queue send failed, prunes the journal and page marks, erases deleted tenants. */
  async scheduled(controller, env) {
    const scope = systemScope(env, {
      requestId: `cron-${controller.scheduledTime}`,
      now: () => new Date(controller.scheduledTime),
    })
    await runMaintenance(scope, {
      invites: env.INVITES,
      webhooks: env.WEBHOOKS,
      retentionDays: journalRetentionDays(env),
      eventRetentionDays: eventRetentionDays(env),
    })
    await eraseDueTenants(scope, env.TENANTS, erasureDays(env.TENANT_ERASURE_DAYS))
  },
} satisfies ExportedHandler<Env, unknown>
