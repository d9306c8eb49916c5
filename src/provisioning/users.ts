/**
 * User writes as the IdP asks for them (RFC 7644 §3.3, §3.5, §3.6): normalise, apply the lifecycle,
 * persist once. Routes stay thin; the app-facing API, the Directory RPC and reinvites use the same
 * operations. Each write is one batch: the user, its invites and its journal entry commit together.
 */
import type { Statement } from '../d1/batch.ts'
import { moveSeats, releaseSeats, seatDeltas } from '../db/catalog.ts'
import { eventStatement } from '../db/events.ts'
import { newId } from '../db/ids.ts'
import { insertInvite, voidInvites } from '../db/invites.ts'
import { memberLeavesGroups } from '../db/groups.ts'
import { dropUserMemberships } from '../db/members.ts'
import { createUser, deleteUser, getUser, updateUser, type UserRecord, type UserWrite } from '../db/users.ts'
import { creation, transition, type InviteEffect } from '../lifecycle/state.ts'
import { NotFound, PreconditionFailed } from '../scim/errors.ts'
import { applyPatch } from '../scim/patch/apply.ts'
import { parsePatchRequest } from '../scim/patch/parse.ts'
import { ifMatchVersion, pinsVersion } from '../scim/preconditions.ts'
import { jsonEqual } from '../scim/resource/equal.ts'
import { checkBodyId, normalizeResource } from '../scim/resource/normalize.ts'
import type { JournalChange, Scope } from '../scope/scope.ts'
import { userChangeEvent } from './change-events.ts'
import { checkGrants, seatError } from './grants.ts'
import { guardedWrite, LOST } from './guarded-write.ts'

export type { UserRecord }

/** The attributes that name grants (src/provisioning/grants.ts). */
function grantsOf(resource: UserRecord['resource']): unknown[] {
  return [resource.roles, resource.entitlements]
}

/** The live user with this id, or undefined. */
export { getUser }

/** 404 for a user id that does not name a live user of this tenant. */
export function userNotFound(id: string): NotFound {
  return new NotFound(`User "${id.slice(0, 100)}" not found in this tenant`)
}

/** Reads a live user or throws 404. */
export async function requireUser(scope: Scope, id: string): Promise<UserRecord> {
  const user = await getUser(scope, id)
  if (!user) throw userNotFound(id)
  return user
}

/** Users made by the app (API or RPC) are `app` users, joined already; everyone else's come from the IdP. */
function sourceOf(scope: Scope): 'scim' | 'app' {
  return scope.actor.kind === 'app' ? 'app' : 'scim'
}

/**
 * POST /Users: a new user; `active` defaults to true. An active IdP user gets an invite row in the
 * same batch, then the scope's outbox announces it (if that fails, the cron sweep sends it later).
 */
export async function createScimUser(scope: Scope, body: unknown): Promise<UserRecord> {
  const resource = normalizeResource(scope.userType, body)
  resource.active ??= true
  await checkGrants(scope, resource)
  const seats = seatDeltas([], [resource])
  const source = sourceOf(scope)
  const { invite, ...lifecycle } = creation(resource.active as boolean, source)
  const id = newId()
  const inviteId = invite === 'issue' ? newId() : undefined
  const joined: Statement[] = [
    scope.journal.entry({ action: 'create', resourceType: 'User', resourceId: id, body }),
    eventStatement(scope, { type: 'user.created', resourceType: 'User', resourceId: id }),
  ]
  if (inviteId) joined.push(...insertInvite(scope, { id: inviteId, userId: id }))
  joined.push(...moveSeats(scope, seats))
  const record = await createUser(scope, { id, resource, ...lifecycle, source, joined }).catch(async (error) => {
    throw await seatError(scope, error, seats)
  })
  if (inviteId) await scope.outbox.invites.announce([inviteId])
  await scope.outbox.events.announce()
  return record
}

/** What a user write does, computed from the user as read. */
export interface UserPlan {
  write: UserWrite
  invite: InviteEffect
  /** Why open invites are voided (issue and void). */
  voidReason?: string
  journal: Pick<JournalChange, 'action' | 'body'>
}

/**
 * Reads the user, plans its next state (undefined: nothing to change) and writes it guarded by the
 * version read, retried on a lost race (src/provisioning/guarded-write.ts). Returns the user as it is
 * now and the invite the write issued, which is announced once the batch committed.
 */
export async function writeUser(
  scope: Scope,
  id: string,
  change: { ifMatch?: string; plan(current: UserRecord): UserPlan | undefined },
): Promise<{ record: UserRecord; inviteId?: string }> {
  const result = await guardedWrite<{ record: UserRecord; inviteId?: string; event?: boolean }>(
    { what: `User ${id}`, pinned: pinsVersion(change.ifMatch) },
    async () => {
      const current = await requireUser(scope, id)
      ifMatchVersion(change.ifMatch, current.version)
      const plan = change.plan(current)
      if (!plan) return { done: { record: current } }
      const next = plan.write.resource
      // Grants already held stay valid when the catalogue changes later; new ones must be in it.
      if (!jsonEqual(grantsOf(next), grantsOf(current.resource))) await checkGrants(scope, next)
      const seats = seatDeltas([current.resource], [next])
      const inviteId = plan.invite === 'issue' ? newId() : undefined
      const event = userChangeEvent(id, current.resource, next)
      const record = await updateUser(scope, {
        current,
        next: plan.write,
        joined: (guard) => {
          const out = [scope.journal.entry({ ...plan.journal, resourceType: 'User', resourceId: id, guard })]
          if (event) out.push(eventStatement(scope, event, guard))
          if (plan.invite !== 'none')
            out.push(...voidInvites(scope, { userId: id, reason: plan.voidReason ?? 'user deactivated', guard }))
          if (inviteId) out.push(...insertInvite(scope, { id: inviteId, userId: id }, guard))
          out.push(...moveSeats(scope, seats, guard))
          return out
        },
      }).catch(async (error) => {
        throw await seatError(scope, error, seats)
      })
      return record ? { done: { record, inviteId, event: Boolean(event) } } : LOST
    },
  )
  if (result.inviteId) await scope.outbox.invites.announce([result.inviteId])
  if (result.event) await scope.outbox.events.announce()
  return result
}

/** The plan of a write that sets a new resource: the lifecycle follows `active`. */
function resourcePlan(current: UserRecord, resource: UserWrite['resource'], journal: UserPlan['journal']): UserPlan {
  const { invite, ...lifecycle } = transition(current, resource.active !== false)
  return {
    write: { resource, ...lifecycle },
    invite,
    voidReason: invite === 'issue' ? 'superseded by a new invite' : 'user deactivated',
    journal,
  }
}

/**
 * PUT /Users/{id}: full replace (RFC 7644 §3.5.1). Read-only attributes are ignored; an `id` in the body
 * that differs from the URL is a 400; an omitted `active` keeps the current value (a PUT never
 * deactivates by omission).
 */
export async function replaceScimUser(scope: Scope, id: string, body: unknown, ifMatch?: string): Promise<UserRecord> {
  checkBodyId(body, id)
  const resource = normalizeResource(scope.userType, body)
  const { record } = await writeUser(scope, id, {
    ifMatch,
    plan(current) {
      const next = { ...resource, active: resource.active ?? current.resource.active ?? true }
      return jsonEqual(next, current.resource) ? undefined : resourcePlan(current, next, { action: 'replace', body })
    },
  })
  return record
}

/** PATCH /Users/{id}: all operations apply or none (RFC 7644 §3.5.2). */
export async function patchScimUser(scope: Scope, id: string, body: unknown, ifMatch?: string): Promise<UserRecord> {
  const ops = parsePatchRequest(scope.userType, body)
  const { record } = await writeUser(scope, id, {
    ifMatch,
    plan(current) {
      const result = applyPatch(scope.userType, current.resource, ops)
      if (!result.changed) return undefined
      // Removing or clearing `active` keeps the current value, as PUT does: it never reactivates by omission.
      result.resource.active ??= current.resource.active ?? true
      return resourcePlan(current, result.resource, { action: 'update', body })
    },
  })
  return record
}

/**
 * DELETE /Users/{id}: the user becomes a tombstone; in the same batch its groups lose the member and
 * its open invites die (their links stop working at once).
 */
export async function deleteScimUser(scope: Scope, id: string, ifMatch?: string): Promise<void> {
  const current = await requireUser(scope, id)
  const expectedVersion = ifMatchVersion(ifMatch, current.version)
  const deleted = await deleteUser(scope, {
    id,
    expectedVersion,
    joined: (guard) => [
      releaseSeats(scope, [id], guard),
      memberLeavesGroups(scope, id, guard),
      dropUserMemberships(scope, id, guard),
      ...voidInvites(scope, { userId: id, reason: 'user deleted', guard }),
      scope.journal.entry({ action: 'delete', resourceType: 'User', resourceId: id, guard }),
      eventStatement(scope, { type: 'user.deleted', resourceType: 'User', resourceId: id }, guard),
    ],
  })
  if (deleted) return scope.outbox.events.announce()
  if (expectedVersion !== undefined && (await getUser(scope, id)))
    throw new PreconditionFailed(`User ${id} changed since If-Match was read`)
  throw userNotFound(id)
}
