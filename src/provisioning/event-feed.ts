/**
 * The pull feed of events and the app's receipts, as the app API and the Directory RPC answer them.
 * `after` is the seq of the last event the app has; the answer's `cursor` is where to go on from, so a
 * reader that keeps asking sees every event once, in order, while changes keep coming.
 */
import { confirmReceipt, readEvent, readEvents } from '../db/events.ts'
import { InvalidValue, NotFound } from '../scim/errors.ts'
import type { Scope } from '../scope/scope.ts'
import type { AppEvent } from '../signals/event.ts'

/** Events per page when the app does not say, and at most. */
export const FEED_DEFAULT_LIMIT = 100
export const FEED_MAX_LIMIT = 1000

/** One page of the feed. */
export interface FeedPage {
  events: AppEvent[]
  /** Pass as `after` to get what follows (the same value when nothing new came). */
  cursor: string
  /** True when the page was full: more may follow at once. */
  more: boolean
}

/** `after`: absent for the oldest kept event, else a seq; anything else is a 400 naming the value. */
function parseCursor(after: string | number | undefined): number {
  if (after === undefined || after === '') return 0
  const n = Number(after)
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidValue(
      `after must be the cursor of an earlier page (a whole number), got "${String(after).slice(0, 40)}"`,
    )
  return n
}

/** `limit` clamped to 1..FEED_MAX_LIMIT, never refused (a non-number means the default). */
function clampLimit(limit: string | number | undefined): number {
  const n = Math.floor(Number(limit))
  if (limit === undefined || limit === '' || !Number.isFinite(n)) return FEED_DEFAULT_LIMIT
  return Math.min(Math.max(n, 1), FEED_MAX_LIMIT)
}

/** The events after `after`, at most `limit`. */
export async function readFeed(
  scope: Scope,
  query: { after?: string | number; limit?: string | number },
): Promise<FeedPage> {
  const after = parseCursor(query.after)
  const limit = clampLimit(query.limit)
  const events = await readEvents(scope, { after, limit })
  return { events, cursor: String(events.at(-1)?.seq ?? after), more: events.length === limit }
}

/**
 * The app confirms that it revoked the sessions and tokens of the person a deactivation or deletion
 * names. Confirming again is harmless (the first receipt stands). Returns the event as it is now.
 */
export async function acknowledgeEvent(scope: Scope, id: string): Promise<AppEvent> {
  const event = await readEvent(scope, id)
  if (!event) throw new NotFound(`No event "${id.slice(0, 64)}" in this tenant (events are kept 30 days by default)`)
  if (!event.receipt)
    throw new InvalidValue(`${event.type} needs no receipt: only user.deactivated and user.deleted are confirmed`)
  const via = scope.actor.kind === 'app' ? `ack:${scope.actor.keyId}` : `ack:${scope.actor.kind}`
  if (!event.receipt.confirmedAt) await confirmReceipt(scope, event, via)
  return (await readEvent(scope, id)) ?? event
}
