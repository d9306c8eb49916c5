/**
 * Group writes (RFC 7644 §3.3, §3.5, §3.6). Members never enter the stored resource: they live in
 * group_members and change as set operations, so a 50,000-member group is never loaded to be patched.
 */
import type { Db } from '../db/client.ts'
import type { Audit } from '../db/journal.ts'
import { newId } from '../db/ids.ts'
import { createGroup, deleteGroup, getGroup, getGroupForChange, updateGroup, type GroupRecord, type MemberChange } from '../db/groups.ts'
import { InvalidValue, NotFound, PreconditionFailed } from '../scim/errors.ts'
import { applyPatch } from '../scim/patch/apply.ts'
import { splitMemberOperations } from '../scim/patch/members.ts'
import { parsePatchRequest } from '../scim/patch/parse.ts'
import { ifMatchVersion } from '../scim/preconditions.ts'
import { jsonEqual } from '../scim/resource/equal.ts'
import { checkBodyId, normalizeResource } from '../scim/resource/normalize.ts'
import type { Json } from '../scim/resource/values.ts'
import { groupResourceType } from '../scim/schemas/index.ts'

/** 404 for a group id that does not name a group of this tenant. */
export function groupNotFound(id: string): NotFound {
  return new NotFound(`Group "${id.slice(0, 100)}" not found in this tenant`)
}

/** Reads a group (without members) or throws 404. */
export async function requireGroup(db: Db, tenantId: string, id: string): Promise<GroupRecord> {
  const group = await getGroup(db, tenantId, id)
  if (!group) throw groupNotFound(id)
  return group
}

/** Splits a normalised group into its stored attributes and its member ids. */
function splitMembers(resource: Json): { resource: Json; memberIds: string[] } {
  const { members, ...rest } = resource
  const memberIds = Array.isArray(members) ? (members as Json[]).map((m) => m.value).filter((v): v is string => typeof v === 'string') : []
  return { resource: rest, memberIds: [...new Set(memberIds)] }
}

/** Unknown or other-tenant member ids are 400 invalidValue naming them; nothing is written. */
function checkMembers(unknown: string[]): void {
  if (unknown.length) {
    const shown = unknown.slice(0, 5).map((id) => `"${id.slice(0, 64)}"`).join(', ')
    throw new InvalidValue(`members: no user with id ${shown}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''} in this tenant; nothing was changed`)
  }
}

/** POST /Groups. */
export async function createScimGroup(
  db: Db,
  tenantId: string,
  body: unknown,
  now: Date,
  source: 'scim' | 'app' = 'scim',
  audit?: Audit,
): Promise<GroupRecord> {
  const { resource, memberIds } = splitMembers(normalizeResource(groupResourceType, body))
  checkMembers((await getGroupForChange(db, tenantId, undefined, memberIds)).unknown)
  return createGroup(db, tenantId, { id: newId(), resource, memberIds, source }, now, audit)
}

/**
 * Reads the group (and checks the members it adds, in the same round trip), computes its next
 * attributes and writes them with the membership change; returns the group as written. With If-Match
 * the client's version must hold (412 otherwise). Without it, a write that changes attributes is
 * guarded by the version it read and recomputed on the fresh group when it lost a race, so two
 * concurrent renames or PATCHes never overwrite each other; membership-only changes are set operations
 * and need no guard (RFC 7644 §3.14).
 */
async function writeGroup(
  db: Db,
  tenantId: string,
  id: string,
  ifMatch: string | undefined,
  now: Date,
  change: { members?: MemberChange; resource: (current: GroupRecord) => Json | undefined },
  audit?: Audit,
): Promise<GroupRecord> {
  const addIds = change.members ? (change.members.mode === 'replace' ? change.members.ids : change.members.add) : []
  const delta = change.members?.mode === 'delta' ? change.members : undefined
  for (let attempt = 0; ; attempt++) {
    // Members are checked on the first attempt; a user deleted later is skipped by the insert itself.
    // A delta also asks which of its ids are members now: adding present members and removing absent
    // ones changes nothing, and then nothing is written (Okta re-sends memberships on Push Now).
    const read = await getGroupForChange(db, tenantId, id, attempt === 0 ? addIds : [], delta ? [...delta.add, ...delta.remove] : [])
    if (!read.group) throw groupNotFound(id)
    const current = read.group
    const pinned = ifMatchVersion(ifMatch, current.version)
    const resource = change.resource(current)
    const changedResource = resource && !jsonEqual(resource, current.resource) ? resource : undefined
    checkMembers(read.unknown)
    const unchanged = delta && delta.add.every((m) => read.present.has(m)) && !delta.remove.some((m) => read.present.has(m))
    const members = unchanged ? undefined : change.members
    if (!changedResource && !members) return current
    const expectedVersion = pinned ?? (changedResource ? current.version : undefined)
    const written = await updateGroup(db, tenantId, id, { resource: changedResource, members, expectedVersion }, now, audit)
    if (written) return written
    if (!(await getGroup(db, tenantId, id))) throw groupNotFound(id)
    if (ifMatch !== undefined || attempt >= 4) throw new PreconditionFailed(`Group ${id} was changed by another request; read it again and retry`)
  }
}

/** PUT /Groups/{id}: full replace, members included (RFC 7644 §3.5.1). */
export async function replaceScimGroup(
  db: Db,
  tenantId: string,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
  now: Date,
  audit?: Audit,
): Promise<GroupRecord> {
  checkBodyId(body, id)
  const { resource, memberIds } = splitMembers(normalizeResource(groupResourceType, body))
  return writeGroup(db, tenantId, id, ifMatch, now, { resource: () => resource, members: { mode: 'replace', ids: memberIds } }, audit)
}

/** PATCH /Groups/{id}: attribute operations through the PATCH engine, member operations as set algebra. */
export async function patchScimGroup(
  db: Db,
  tenantId: string,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
  now: Date,
  audit?: Audit,
): Promise<GroupRecord> {
  const ops = parsePatchRequest(groupResourceType, body)
  const { other, members } = splitMemberOperations(ops)
  return writeGroup(db, tenantId, id, ifMatch, now, {
    resource: (current) => (other.length ? applyPatch(groupResourceType, current.resource, other).resource : undefined),
    members: members.mode === 'delta' && !members.add.length && !members.remove.length ? undefined : members,
  }, audit)
}

/** DELETE /Groups/{id}: the group goes; its users stay. */
export async function deleteScimGroup(db: Db, tenantId: string, id: string, ifMatch: string | undefined, audit?: Audit): Promise<void> {
  const current = await requireGroup(db, tenantId, id)
  const expected = ifMatchVersion(ifMatch, current.version)
  if (await deleteGroup(db, tenantId, id, expected, audit)) return
  if (expected !== undefined && (await getGroup(db, tenantId, id))) throw new PreconditionFailed(`Group ${id} changed since If-Match was read`)
  throw groupNotFound(id)
}
