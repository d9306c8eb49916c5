/**
 * Outboxes that hold what a request's writes announce and send it once at the end: a /Bulk request
 * of hundreds of changes then makes one invite send and one webhook wake-up, not one each (a
 * Worker invocation's subrequests are counted). Nothing is lost if the flush never happens: the
 * cron re-sends invites nobody took and wakes webhooks that are behind.
 */
import type { Outboxes } from '../scope/scope.ts'

export interface HeldOutboxes {
  readonly outbox: Outboxes
  /** Sends what was held: every invite id in one announce, the events wake-up once. */
  flush(): Promise<void>
}

/** Holds announces made to `outbox` until `flush`. */
export function holdOutboxes(outbox: Outboxes): HeldOutboxes {
  const invites: string[] = []
  let events = false
  return {
    outbox: {
      invites: { announce: async (ids) => void invites.push(...ids) },
      events: {
        announce: async () => {
          events = true
        },
      },
    },
    async flush() {
      const ids = invites.splice(0)
      if (ids.length) await outbox.invites.announce(ids)
      if (events) await outbox.events.announce()
      events = false
    },
  }
}
