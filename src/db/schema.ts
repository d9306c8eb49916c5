/**
 * D1 tables (README "Storage formats"). Every table has tenant_id first in its primary key and indexes.
 * Text columns of caseExact:false attributes hold the comparison form (src/scim/resource/canonical.ts); the
 * `resource` JSON holds the values as sent and is the truth for everything else.
 */
import { sql } from 'drizzle-orm'
import { blob, check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/** The lifecycle states a user row can be in (their rules: src/lifecycle/state.ts). */
export type UserState = 'provisioned' | 'invited' | 'joined' | 'deactivated' | 'deleted'

/** The states of an invite row: pending -> sent | failed | void; sent -> accepted | void. */
export type InviteState = 'pending' | 'sent' | 'failed' | 'void' | 'accepted'

export const users = sqliteTable(
  'users',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    /** Per-tenant insertion order: the stable key that pagination seeks on. */
    seq: integer('seq').notNull(),
    userName: text('user_name').notNull(),
    externalId: text('external_id'),
    displayName: text('display_name'),
    givenName: text('given_name'),
    familyName: text('family_name'),
    email: text('email'),
    employeeNumber: text('employee_number'),
    department: text('department'),
    managerId: text('manager_id'),
    active: integer('active', { mode: 'boolean' }).notNull(),
    state: text('state').notNull(),
    /** The lifecycle state to restore on reactivation. */
    stateBeforeDeactivation: text('state_before_deactivation'),
    source: text('source').notNull(),
    version: integer('version').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    deletedAt: text('deleted_at'),
    resource: text('resource').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('users_tenant_user_name').on(t.tenantId, t.userName).where(sql`deleted_at IS NULL`),
    uniqueIndex('users_tenant_seq').on(t.tenantId, t.seq),
    index('users_tenant_external_id').on(t.tenantId, t.externalId),
    index('users_tenant_email').on(t.tenantId, t.email),
    index('users_tenant_updated_at').on(t.tenantId, t.updatedAt),
  ],
)

/**
 * The values of a tenant's declared User attributes (src/scim/schemas/extension.ts), one row per
 * value, so a filter on one reads the rows it matches instead of every user's JSON. `value` has no
 * type affinity: strings (canonicalName() unless caseExact), numbers, 0/1 for booleans and
 * toISOString() for dateTimes are stored and compared as they are.
 */
export const userAttributeValues = sqliteTable(
  'user_attribute_values',
  {
    tenantId: text('tenant_id').notNull(),
    userId: text('user_id').notNull(),
    attr: text('attr').notNull(),
    value: blob('value').notNull(),
  },
  (t) => [
    index('user_attribute_values_lookup').on(t.tenantId, t.attr, t.value),
    index('user_attribute_values_user').on(t.tenantId, t.userId),
  ],
)

export const userEmails = sqliteTable(
  'user_emails',
  {
    tenantId: text('tenant_id').notNull(),
    userId: text('user_id').notNull(),
    value: text('value').notNull(),
    type: text('type').notNull().default(''),
    primary: integer('is_primary', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId, t.value, t.type] }),
    index('user_emails_tenant_value').on(t.tenantId, t.value),
  ],
)

export const groups = sqliteTable(
  'groups',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    seq: integer('seq').notNull(),
    displayName: text('display_name').notNull(),
    externalId: text('external_id'),
    memberCount: integer('member_count').notNull().default(0),
    source: text('source').notNull(),
    version: integer('version').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    resource: text('resource').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('groups_tenant_display_name').on(t.tenantId, t.displayName),
    uniqueIndex('groups_tenant_seq').on(t.tenantId, t.seq),
    index('groups_tenant_external_id').on(t.tenantId, t.externalId),
  ],
)

export const groupMembers = sqliteTable(
  'group_members',
  {
    tenantId: text('tenant_id').notNull(),
    groupId: text('group_id').notNull(),
    memberId: text('member_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.groupId, t.memberId] }),
    index('group_members_tenant_member').on(t.tenantId, t.memberId),
  ],
)

/** Kept counts so that totalResults never counts a whole table. */
export const tenantCounts = sqliteTable('tenant_counts', {
  tenantId: text('tenant_id').primaryKey(),
  users: integer('users').notNull().default(0),
  groups: integer('groups').notNull().default(0),
})

export const invites = sqliteTable(
  'invites',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    userId: text('user_id').notNull(),
    /** SHA-256 of the link's token; set by the consumer when it renders the mail (the token itself is never stored). */
    tokenHash: text('token_hash'),
    /** pending -> sent | failed | void; sent -> accepted | void. */
    state: text('state').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: text('created_at').notNull(),
    /** A consumer holds the invite until then, so two deliveries of one invite never send at once. */
    leaseUntil: text('lease_until'),
    sentAt: text('sent_at'),
    /** Set when the mail is accepted: sentAt + the tenant's inviteTtlDays. */
    expiresAt: text('expires_at'),
    acceptedAt: text('accepted_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('invites_token_hash').on(t.tokenHash),
    index('invites_tenant_user').on(t.tenantId, t.userId),
    index('invites_state_created').on(t.state, t.createdAt),
  ],
)

export const auditEvents = sqliteTable(
  'audit_events',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    at: text('at').notNull(),
    credentialId: text('credential_id'),
    requestId: text('request_id'),
    method: text('method').notNull(),
    path: text('path').notNull(),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    action: text('action').notNull(),
    outcome: text('outcome').notNull(),
    summary: text('summary'),
    /** Who acted, for people: `idp:{credential}`, `app:{key}`, `support:{operator}`, `system:{task}`. */
    actor: text('actor'),
    /** A failed request's scimType and detail, values redacted. */
    detail: text('detail'),
    /** How many times this entry happened (failed authentications are one entry per minute, credential and reason). */
    repeats: integer('repeats').notNull().default(1),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('audit_events_tenant_at').on(t.tenantId, t.at),
    index('audit_events_tenant_resource').on(t.tenantId, t.resourceId),
  ],
)

/**
 * Where sequential index pages ended, so the next page is a keyset seek instead of an OFFSET scan:
 * "position N of this query is the row with seq S" (RFC 7644 §3.4.2.4 index pagination kept flat).
 * `total` caches a filtered query's count for the pages that follow the first.
 */
export const pageMarks = sqliteTable(
  'page_marks',
  {
    tenantId: text('tenant_id').notNull(),
    queryKey: text('query_key').notNull(),
    position: integer('position').notNull(),
    seq: integer('seq').notNull(),
    total: integer('total').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.queryKey, t.position] })],
)

/**
 * The day each credential was last seen working (a successful SCIM request or token grant), for
 * support's `show`. Written at most once per credential, isolate and day, never on every request.
 */
export const credentialUse = sqliteTable(
  'credential_use',
  {
    tenantId: text('tenant_id').notNull(),
    credentialId: text('credential_id').notNull(),
    /** `YYYY-MM-DD` (UTC). */
    usedOn: text('used_on').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.credentialId] })],
)

/**
 * The `jti` of every JWT client assertion the token endpoint accepted, until that assertion expires:
 * a second use of the same `jti` by the same issuer is a replay and is refused (RFC 7523 §3).
 */
export const usedAssertions = sqliteTable(
  'used_assertions',
  {
    tenantId: text('tenant_id').notNull(),
    issuer: text('issuer').notNull(),
    jti: text('jti').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.issuer, t.jti] }), index('used_assertions_expires').on(t.expiresAt)],
)

/**
 * What changed, for the app (src/signals/event.ts): one row per event, written in its change's batch.
 * `seq` is the tenant's gap-free sequence (the feed's cursor); `order_key` is the resource whose events
 * must reach a webhook in order. Deactivations and deletions carry `receipt_due_at` until the app
 * confirms them (`confirmed_at`, `confirmed_via`).
 */
export const events = sqliteTable(
  'events',
  {
    tenantId: text('tenant_id').notNull(),
    seq: integer('seq').notNull(),
    id: text('id').notNull(),
    at: text('at').notNull(),
    type: text('type').notNull(),
    actorKind: text('actor_kind').notNull(),
    actorId: text('actor_id'),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    /** `{ attributes?, members? }` as JSON: names and ids, never values. */
    data: text('data'),
    receiptDueAt: text('receipt_due_at'),
    confirmedAt: text('confirmed_at'),
    confirmedVia: text('confirmed_via'),
    /** Set once the cron journaled that the receipt is overdue. */
    overdueAt: text('overdue_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.seq] }),
    uniqueIndex('events_tenant_id').on(t.tenantId, t.id),
    index('events_tenant_at').on(t.tenantId, t.at),
    index('events_receipt_due').on(t.receiptDueAt).where(sql`confirmed_at IS NULL AND overdue_at IS NULL`),
  ],
)

/**
 * Each webhook's progress through its tenant's events: `cursor` is the last event seq turned into
 * deliveries; `failing_since` the first failure after the last success; `disabled_at` when it failed
 * for too long (support re-enables it).
 */
export const webhookState = sqliteTable(
  'webhook_state',
  {
    tenantId: text('tenant_id').notNull(),
    webhookId: text('webhook_id').notNull(),
    cursor: integer('cursor').notNull(),
    failingSince: text('failing_since'),
    disabledAt: text('disabled_at'),
    lastSuccessAt: text('last_success_at'),
    /** When a delayed queue message will wake this webhook's retries; at most one is in flight. */
    wakeAt: text('wake_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.webhookId] })],
)

/**
 * One event to one webhook: pending until a 2xx (delivered) or until the retries ran out (dead).
 * Only the oldest pending delivery of an `order_key` is sent, so a webhook sees a person's events in
 * order; a consumer holds the ones it sends until `lease_until`.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    tenantId: text('tenant_id').notNull(),
    webhookId: text('webhook_id').notNull(),
    seq: integer('seq').notNull(),
    orderKey: text('order_key').notNull(),
    state: text('state').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAt: text('next_at').notNull(),
    leaseUntil: text('lease_until'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    deliveredAt: text('delivered_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.webhookId, t.seq] }),
    index('webhook_deliveries_pending').on(t.tenantId, t.webhookId, t.orderKey, t.seq).where(sql`state = 'pending'`),
    index('webhook_deliveries_due').on(t.state, t.nextAt),
  ],
)

/**
 * The app's catalogue of roles and entitlements (Okta Identity Governance reads them as resource
 * types: Role, License, Permission, ...), one row per entry, and the tenant's own seat row (type and
 * id `*`). `seats_used` counts the active users holding the entry (every active user, for `*`);
 * `seat_limit` caps it, and the CHECK makes a write that would pass it fail as a whole.
 */
export const catalogEntries = sqliteTable(
  'catalog_entries',
  {
    tenantId: text('tenant_id').notNull(),
    type: text('type').notNull(),
    id: text('id').notNull(),
    seq: integer('seq').notNull(),
    /** canonicalName() of the display name, for filters; `resource` holds it as given. */
    displayName: text('display_name').notNull(),
    seatLimit: integer('seat_limit'),
    seatsUsed: integer('seats_used').notNull().default(0),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    /** `{ displayName, description? }` as given. */
    resource: text('resource').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.type, t.id] }),
    uniqueIndex('catalog_entries_tenant_seq').on(t.tenantId, t.seq),
    check('catalog_seats_within_limit', sql`${t.seatLimit} IS NULL OR ${t.seatsUsed} <= ${t.seatLimit}`),
  ],
)
