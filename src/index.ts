import { createApp } from './app.ts'
import { createDb } from './db/client.ts'
import type { Env } from './env.ts'
import { handleInviteBatch } from './invites/consumer.ts'
import { sweepStrandedInvites } from './invites/outbox.ts'
import { consumerDeps } from './invites/runtime.ts'

export { Directory } from './directory.ts'

const app = createApp()

export default {
  fetch: app.fetch,
  /** The INVITES consumer (shared/DESIGN.md "Invites"); the dead letter queue has no consumer here. */
  async queue(batch, env) {
    await handleInviteBatch(batch, consumerDeps(env))
  },
  /** The cron sweep: re-enqueues invites whose queue send failed. */
  async scheduled(controller, env) {
    await sweepStrandedInvites(createDb(env.DB), env.INVITES, new Date(controller.scheduledTime))
  },
} satisfies ExportedHandler<Env, unknown>
