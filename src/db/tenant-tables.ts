/**
 * The registry of tenant-owned tables: every table whose rows belong to one tenant (a `tenant_id`
 * column holding the tenant key). Erasing a tenant walks it; a test fails when a table with a tenant
 * column is missing here.
 */
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core'
import {
  auditEvents,
  catalogEntries,
  credentialUse,
  events,
  groupMembers,
  groups,
  invites,
  pageMarks,
  tenantCounts,
  usedAssertions,
  userAttributeValues,
  userEmails,
  users,
  webhookDeliveries,
  webhookState,
} from './schema.ts'

/** Children before parents, so an erasure cut short never leaves a row whose parent is gone first. */
export const TENANT_TABLES: readonly SQLiteTable[] = [
  webhookDeliveries,
  webhookState,
  events,
  groupMembers,
  userEmails,
  userAttributeValues,
  invites,
  pageMarks,
  auditEvents,
  credentialUse,
  usedAssertions,
  catalogEntries,
  groups,
  users,
  tenantCounts,
]

/** The SQL names of the tenant-owned tables, in erasure order. */
export function tenantTableNames(): string[] {
  return TENANT_TABLES.map((t) => getTableConfig(t).name)
}
