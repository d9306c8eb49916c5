/**
 * The scope of one unit of work (an HTTP request, a Directory RPC call, a queue message, a cron run):
 * everything below the routes takes it first, so no call site passes the database, tenant, clock,
 * outbox and journal one by one. One factory builds it (src/runtime/scopes.ts).
 */
import type { SQL } from 'drizzle-orm'
import type { Db } from '../d1/client.ts'
import type { Statement } from '../d1/batch.ts'
import type { ResourceTypeDef } from '../scim/schemas/types.ts'
import type { TenantDocument } from '../tenants/document.ts'

/**
 * Who acts: an IdP credential, the app (an app key's id, or `directory` for the RPC entrypoint, which a
 * service binding reaches without a key), support (CLI through the app API), or the Worker itself.
 */
export type Actor =
  | { kind: 'idp'; credentialId: string }
  | {
      kind: 'app'
      keyId: string /** Set when support acts through the app API (the CLI's `--as`). */
      operator?: string
    }
  | { kind: 'support' }
  | { kind: 'system'; task: 'queue' | 'cron' | 'invite-page' }

/** Where a change announces the invites it wrote, once its batch committed. */
export interface InviteOutbox {
  /** Enqueues one message per invite; never throws (the cron sweep re-sends what failed to enqueue). */
  announce(inviteIds: string[]): Promise<void>
}

/** Where a change announces that it committed events, so webhooks deliver them at once. */
export interface EventOutbox {
  /** Wakes the tenant's webhook deliveries; never throws (the cron wakes what a failed send missed). */
  announce(): Promise<void>
}

/** The outboxes of a scope. */
export interface Outboxes {
  invites: InviteOutbox
  events: EventOutbox
}

/** A change as the journal records it. */
export interface JournalChange {
  action: 'create' | 'replace' | 'update' | 'delete' | 'reinvite'
  resourceType: 'User' | 'Group'
  resourceId: string
  /** What the change was asked (a SCIM body), summarised without values. */
  body?: unknown
  /** The condition under which the change applies, evaluated where the entry sits in the batch. */
  guard?: SQL
}

/** Anything else the journal records about this unit of work: an invite's progress, a support action. */
export interface JournalNote {
  /** Lower case words joined by `-`, the family first: `invite-sent`, `support-set`. */
  action: string
  resourceType?: 'User' | 'Group'
  resourceId?: string
  /** `ok` (the default) or `error ...`. */
  outcome?: string
  /** What happened, in words, without personal values. */
  summary?: string
  detail?: string
  guard?: SQL
}

/** The provisioning journal of this unit of work (src/db/journal.ts). */
export interface Journal {
  /** The entry of a change, as a statement of the change's own batch: both commit or neither. */
  entry(change: JournalChange): Statement
  /** The entries of many changes, as one statement (a bulk request's creates). */
  entries(changes: Omit<JournalChange, 'guard'>[]): Statement
  /** An entry that is not a SCIM change, as a statement (of a batch, under `guard`). */
  note(note: JournalNote): Statement
  /** Many notes, as one statement. */
  notes(notes: Omit<JournalNote, 'guard'>[]): Statement
  /** The journal of one operation of this request (a /Bulk operation): its own method and path. */
  forOperation(origin: { method: string; path: string; okStatus?: number }): Journal
  /** True once an entry committed with its change. */
  readonly committed: boolean
}

/** Everything a tenant's work needs. */
export interface Scope {
  /** The tenant's database. */
  readonly db: Db
  readonly tenant: TenantDocument
  /**
   * What the tenant's rows are stored under (their `tenant_id`): a key minted with the tenant, so a
   * tenant made later under a freed id never sees an old tenant's rows (src/tenants/document.ts).
   */
  readonly tenantKey: string
  /** The tenant's SCIM Base URL, `{publicUrl}/scim/v2/{tenantId}`, no trailing slash. */
  readonly baseUrl: string
  /** The Worker's public origin, no trailing slash. */
  readonly publicUrl: string
  readonly actor: Actor
  /** The tenant's User resource type: the core schemas and the attributes it declared (src/scim/schemas/extension.ts). */
  readonly userType: ResourceTypeDef
  /** The id that logs and the journal carry (X-Request-Id for HTTP). */
  readonly requestId: string
  readonly outbox: Outboxes
  readonly journal: Journal
  /** The clock; tests pass a fake one. */
  now(): Date
}

/** Work that is not one tenant's (the cron sweep across tenants, the invite link lookup). */
export interface SystemScope {
  readonly db: Db
  readonly publicUrl: string
  readonly requestId: string
  now(): Date
}
