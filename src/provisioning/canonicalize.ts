/**
 * Brings a tenant's rows written before the canonical comparison form (src/scim/resource/canonical.ts)
 * to it: comparison columns are rewritten, rows that would collide are reported, never merged.
 */
import { recanonicalizeGroups } from '../db/groups.ts'
import { recanonicalizeUsers } from '../db/users.ts'
import type { Scope } from '../scope/scope.ts'

export async function canonicalizeTenant(scope: Scope) {
  const users = await recanonicalizeUsers(scope)
  const groups = await recanonicalizeGroups(scope)
  return { users, groups }
}
