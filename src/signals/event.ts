/**
 * Events to the app: what changed in a tenant, as the pull feed, webhooks and SETs carry it. An event
 * row is a statement of its change's own batch (src/db/events.ts), so it exists exactly when the
 * change committed. Events carry ids and attribute names, never attribute values.
 */

/** Every event type; `user.deactivated` and `user.deleted` need the app's receipt. */
export const EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.deleted',
  'user.joined',
  'group.created',
  'group.renamed',
  'group.updated',
  'group.deleted',
  'group.members_added',
  'group.members_removed',
] as const

export type EventType = (typeof EVENT_TYPES)[number]

/** Types whose event asks the app to confirm that it revoked the person's sessions and tokens. */
export const RECEIPT_TYPES: ReadonlySet<EventType> = new Set(['user.deactivated', 'user.deleted'])

/** Member ids per `group.members_*` event: a change to 50,000 members is 50 events. */
export const MEMBERS_PER_EVENT = 1000

/** Who made the change, as events name it (never a secret: credential and app key ids only). */
export interface EventActor {
  kind: 'idp' | 'app' | 'support' | 'system'
  /** The IdP credential or OAuth client id, the app key id, or the system task. */
  id: string | null
}

/** The receipt of a deactivation or deletion: when it was due, and when and how the app confirmed it. */
export interface EventReceipt {
  dueAt: string
  confirmedAt: string | null
  /** `webhook:{id}` (a 2xx to its delivery) or `ack:{app key id}`. */
  via: string | null
  /** Not confirmed by dueAt (now, or when it was confirmed late). */
  overdue: boolean
}

/** One event as the app sees it (the feed's entries and the `data` of a webhook). */
export interface AppEvent {
  id: string
  /** The tenant's sequence: gap-free and increasing in commit order; the feed's cursor. */
  seq: number
  type: EventType
  /** When the change committed (ISO 8601). */
  time: string
  tenantId: string
  actor: EventActor
  resource: { type: 'User' | 'Group'; id: string }
  /** Names of the attributes that changed (user.updated, group.updated, reactivated/deactivated). */
  attributes?: string[]
  /** Member ids added or removed (group.members_*), at most MEMBERS_PER_EVENT. */
  members?: string[]
  /** Present on the events that need a receipt. */
  receipt?: EventReceipt
}

/** Whether an event type is matched by a filter such as `user.*`, `group.members_added` or `*`. */
export function matchesEventFilter(type: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))))
}

/** The filter patterns of a comma- or space-separated list; undefined when one names no event type. */
export function parseEventFilter(text: string): { patterns: string[] } | { error: string } {
  const patterns = text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean)
  if (!patterns.length) return { error: 'name at least one event type, such as "user.*" or "user.deactivated"' }
  for (const p of patterns) {
    if (!EVENT_TYPES.some((t) => matchesEventFilter(t, [p])))
      return { error: `"${p.slice(0, 60)}" matches no event type; types are ${EVENT_TYPES.join(', ')}` }
  }
  return { patterns }
}
