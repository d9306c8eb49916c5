/**
 * Group writes (RFC 7644 §3.3, §3.5, §3.6). Members never enter the stored resource: they live in
 * group_members and change as set operations, so a 50,000-member group is never loaded to be patched.
 */
import type { SQL } from 'drizzle-orm'
import { eventStatement, memberEventsStatement } from '../db/events.ts'
import { newId } from '../db/ids.ts'
import { allMemberIds, memberChangeIds } from '../db/members.ts'
import { createGroup, deleteGroup, getGroup, readGroupForChange, updateGroup, type GroupRecord } from '../db/groups.ts'
import { InvalidValue, NotFound, PreconditionFailed } from '../scim/errors.ts'
import { applyPatch } from '../scim/patch/apply.ts'
import { splitMemberOperations, type MemberChange } from '../scim/patch/members.ts'
import { parsePatchRequest } from '../scim/patch/parse.ts'
import { ifMatchVersion, pinsVersion } from '../scim/preconditions.ts'
import { jsonEqual } from '../scim/resource/equal.ts'
import { checkBodyId, normalizeResource } from '../scim/resource/normalize.ts'
import type { Json } from '../scim/resource/values.ts'
import { groupResourceType } from '../scim/schemas/index.ts'
import type { JournalChange, Scope } from '../scope/scope.ts'
import { groupChangeEvent } from './change-events.ts'
import { guardedWrite, LOST } from './guarded-write.ts'

export type { GroupRecord }

/** 404 for a group id that does not name a group of this tenant. */
export function groupNotFound(id: string): NotFound {
  return new NotFound(`Group "${id.slice(0, 100)}" not found in this tenant`)
}

/** Reads a group (without members) or throws 404. */
export async function requireGroup(scope: Scope, id: string): Promise<GroupRecord> {
  const group = await getGroup(scope, id)
  if (!group) throw groupNotFound(id)
  return group
}

/** Splits a normalised group into its stored attributes and its member ids. */
function splitMembers(resource: Json): { resource: Json; memberIds: string[] } {
  const { members, ...rest } = resource
  const memberIds = Array.isArray(members)
    ? (members as Json[]).map((m) => m.value).filter((v): v is string => typeof v === 'string')
    : []
  return { resource: rest, memberIds: [...new Set(memberIds)] }
}

/** Unknown or other-tenant member ids are 400 invalidValue naming them; nothing is written. */
function checkMembers(unknown: string[]): void {
  if (unknown.length) {
    const shown = unknown
      .slice(0, 5)
      .map((id) => `"${id.slice(0, 64)}"`)
      .join(', ')
    throw new InvalidValue(
      `members: no user with id ${shown}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''} in this tenant; nothing was changed`,
    )
  }
}

/** POST /Groups. Groups made by the app (API or RPC) are `app` groups. */
export async function createScimGroup(scope: Scope, body: unknown): Promise<GroupRecord> {
  const { resource, memberIds } = splitMembers(normalizeResource(groupResourceType, body))
  checkMembers((await readGroupForChange(scope, { newMemberIds: memberIds })).unknown)
  const id = newId()
  // These follow the group's rows in its batch: the members added are the ones it has now.
  const joined = [
    scope.journal.entry({ action: 'create', resourceType: 'Group', resourceId: id, body }),
    eventStatement(scope, { type: 'group.created', resourceType: 'Group', resourceId: id }),
    ...(memberIds.length
      ? [memberEventsStatement(scope, { type: 'group.members_added', groupId: id, ids: allMemberIds(scope, id) })]
      : []),
  ]
  const group = await createGroup(scope, {
    id,
    resource,
    memberIds,
    source: scope.actor.kind === 'app' ? 'app' : 'scim',
    joined,
  })
  await scope.outbox.events.announce()
  return group
}

/** The events of a group write, before its membership statements: attributes, then members added, then removed. */
function groupEvents(
  scope: Scope,
  write: { id: string; before: Json; after?: Json; members?: MemberChange },
  guard: SQL,
) {
  const out = []
  const attributes = write.after && groupChangeEvent(write.id, write.before, write.after)
  if (attributes) out.push(eventStatement(scope, attributes, guard))
  if (write.members) {
    const { added, removed } = memberChangeIds(scope, write.id, write.members)
    if (added)
      out.push(memberEventsStatement(scope, { type: 'group.members_added', groupId: write.id, ids: added }, guard))
    if (removed)
      out.push(memberEventsStatement(scope, { type: 'group.members_removed', groupId: write.id, ids: removed }, guard))
  }
  return out
}

/** What a group write changes: its attributes (computed from the group as read) and its members. */
interface GroupChange {
  ifMatch?: string
  members?: MemberChange
  resource(current: GroupRecord): Json | undefined
  journal: Pick<JournalChange, 'action' | 'body'>
}

/**
 * Reads the group (and checks the members it adds, in the same round trip), computes its next
 * attributes and writes them with the membership change; returns the group as written. A write that
 * changes attributes is guarded by the version it read and recomputed on the fresh group when it lost
 * a race (src/provisioning/guarded-write.ts); membership-only changes are set operations and need no
 * guard unless If-Match pins a version.
 */
async function writeGroup(scope: Scope, id: string, change: GroupChange): Promise<GroupRecord> {
  const members = change.members
  const addIds = members ? (members.mode === 'replace' ? members.ids : members.add) : []
  const delta = members?.mode === 'delta' ? members : undefined
  return guardedWrite({ what: `Group ${id}`, pinned: pinsVersion(change.ifMatch) }, async (attempt) => {
    // Members are checked on the first attempt; a user deleted later is skipped by the insert itself.
    // A delta also asks which of its ids are members now: adding present members and removing absent
    // ones changes nothing, and then nothing is written (Okta re-sends memberships on Push Now).
    const read = await readGroupForChange(scope, {
      id,
      newMemberIds: attempt === 0 ? addIds : [],
      probeMemberIds: delta ? [...delta.add, ...delta.remove] : [],
    })
    if (!read.group) throw groupNotFound(id)
    const current = read.group
    const pinned = ifMatchVersion(change.ifMatch, current.version)
    const resource = change.resource(current)
    const changedResource = resource && !jsonEqual(resource, current.resource) ? resource : undefined
    checkMembers(read.unknown)
    const unchanged =
      delta && delta.add.every((m) => read.present.has(m)) && !delta.remove.some((m) => read.present.has(m))
    const memberChange = unchanged ? undefined : members
    if (!changedResource && !memberChange) return { done: current }
    const written = await updateGroup(scope, {
      id,
      resource: changedResource,
      members: memberChange,
      expectedVersion: pinned ?? (changedResource ? current.version : undefined),
      joined: (guard) => [
        scope.journal.entry({ ...change.journal, resourceType: 'Group', resourceId: id, guard }),
        ...groupEvents(scope, { id, before: current.resource, after: changedResource, members: memberChange }, guard),
      ],
    })
    if (written) {
      await scope.outbox.events.announce()
      return { done: written }
    }
    if (!(await getGroup(scope, id))) throw groupNotFound(id)
    return LOST
  })
}

/** PUT /Groups/{id}: full replace, members included (RFC 7644 §3.5.1). */
export async function replaceScimGroup(
  scope: Scope,
  id: string,
  body: unknown,
  ifMatch?: string,
): Promise<GroupRecord> {
  checkBodyId(body, id)
  const { resource, memberIds } = splitMembers(normalizeResource(groupResourceType, body))
  return writeGroup(scope, id, {
    ifMatch,
    resource: () => resource,
    members: { mode: 'replace', ids: memberIds },
    journal: { action: 'replace', body },
  })
}

/** PATCH /Groups/{id}: attribute operations through the PATCH engine, member operations as set algebra. */
export async function patchScimGroup(scope: Scope, id: string, body: unknown, ifMatch?: string): Promise<GroupRecord> {
  const ops = parsePatchRequest(groupResourceType, body)
  const { other, members } = splitMemberOperations(ops)
  return writeGroup(scope, id, {
    ifMatch,
    resource: (current) => (other.length ? applyPatch(groupResourceType, current.resource, other).resource : undefined),
    members: members.mode === 'delta' && !members.add.length && !members.remove.length ? undefined : members,
    journal: { action: 'update', body },
  })
}

/** DELETE /Groups/{id}: the group goes; its users stay. */
export async function deleteScimGroup(scope: Scope, id: string, ifMatch?: string): Promise<void> {
  const current = await requireGroup(scope, id)
  const expectedVersion = ifMatchVersion(ifMatch, current.version)
  const joined = (guard: SQL) => [
    scope.journal.entry({ action: 'delete', resourceType: 'Group', resourceId: id, guard }),
    eventStatement(scope, { type: 'group.deleted', resourceType: 'Group', resourceId: id }, guard),
  ]
  if (await deleteGroup(scope, { id, expectedVersion, joined })) return scope.outbox.events.announce()
  if (expectedVersion !== undefined && (await getGroup(scope, id)))
    throw new PreconditionFailed(`Group ${id} changed since If-Match was read`)
  throw groupNotFound(id)
}
