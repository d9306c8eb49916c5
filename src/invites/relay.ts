/**
 * The outbox relay for SCIM writes: after a successful POST, PUT or PATCH on /Users, the invites
 * that the request wrote (in the user's batch) are sent to INVITES. The SCIM routes stay as they
 * are, and a relay that fails (or a Worker that dies first) only delays the mail until the sweep.
 */
import { createMiddleware } from 'hono/factory'
import { log } from '../observability/log.ts'
import type { AppEnv } from '../routes/context.ts'
import { inviteOutbox } from './runtime.ts'
import { freshInvites } from './store.ts'

export const relayInvites = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'DELETE') return next()
  const since = new Date()
  await next()
  if (c.res.status >= 300 || !c.var.tenant) return
  try {
    const ids = await freshInvites(c.var.db, c.var.tenant.id, since)
    await inviteOutbox(c.env).announce(c.var.tenant.id, ids)
  } catch (error) {
    log('error', 'invite_relay_failed', { requestId: c.get('requestId'), tenantId: c.var.tenant.id, message: (error as Error).message })
  }
})
