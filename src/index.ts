import { createApp } from './app.ts'
import { createDb } from './db/client.ts'
import type { Env } from './env.ts'
import { handleInviteBatch } from './invites/consumer.ts'
import { sweepStrandedInvites } from './invites/outbox.ts'
import { consumerDeps } from './invites/runtime.ts'
import { runMaintenance } from './maintenance.ts'

export { Directory } from './directory.ts'

const app = createApp()

export default {
  fetch: app.fetch,
  /** The INVITES consumer (shared/DESIGN.md "Invites"); the dead letter queue has no consumer here. */
  async queue(batch, env) {
    await handleInviteBatch(batch, consumerDeps(env))
  },
  /** The cron sweep: re-enqueues invites whose queue send failed, prunes the journal and page marks. */
  async scheduled(controller, env) {
    const db = createDb(env.DB)
    const now = new Date(controller.scheduledTime)
    await sweepStrandedInvites(db, env.INVITES, now)
    const days = Number(env.JOURNAL_RETENTION_DAYS)
    await runMaintenance(db, now, Number.isFinite(days) && days > 0 ? days : undefined)
  },
} satisfies ExportedHandler<Env, unknown>
