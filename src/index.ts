import { createApp } from './app.ts'
import { handleInviteBatch } from './invites/consumer.ts'
import { runMaintenance } from './maintenance.ts'
import type { Env } from './runtime/env.ts'
import { consumerDeps, systemScope } from './runtime/scopes.ts'
import { journalRetentionDays } from './runtime/settings.ts'

export { Directory } from './directory.ts'

const app = createApp()

export default {
  fetch: app.fetch,
  /** The INVITES consumer; the dead letter queue has no consumer here. */
  async queue(batch, env) {
    await handleInviteBatch(batch, consumerDeps(env, `queue-${crypto.randomUUID()}`))
  },
  /** The cron sweep: re-enqueues invites whose queue send failed, prunes the journal and page marks. */
  async scheduled(controller, env) {
    const scope = systemScope(env, {
      requestId: `cron-${controller.scheduledTime}`,
      now: () => new Date(controller.scheduledTime),
    })
    await runMaintenance(scope, { invites: env.INVITES, retentionDays: journalRetentionDays(env) })
  },
} satisfies ExportedHandler<Env, unknown>
