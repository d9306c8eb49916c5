/**
 * User writes as the IdP asks for them (RFC 7644 §3.3, §3.5, §3.6): normalise, apply the lifecycle,
 * persist once. Routes stay thin; the app-facing API uses the same operations.
 */
import type { Statement } from '../db/batch.ts'
import type { Db } from '../db/client.ts'
import type { Audit } from '../db/journal.ts'
import { newId } from '../db/ids.ts'
import { createUser, deleteUser, getUser, updateUser, type UserRecord } from '../db/users.ts'
import type { InviteOutbox } from '../invites/outbox.ts'
import { afterUserWrite, insertInvite, voidInvites } from '../invites/store.ts'
import { creation, transition } from '../lifecycle/state.ts'
import { ifMatchVersion } from '../scim/preconditions.ts'
import { NotFound, PreconditionFailed } from '../scim/errors.ts'
import { applyPatch } from '../scim/patch/apply.ts'
import { parsePatchRequest } from '../scim/patch/parse.ts'
import { jsonEqual } from '../scim/resource/equal.ts'
import { checkBodyId, normalizeResource } from '../scim/resource/normalize.ts'
import type { Json } from '../scim/resource/values.ts'
import { userResourceType } from '../scim/schemas/index.ts'

/** 404 for a user id that does not name a live user of this tenant. */
export function userNotFound(id: string): NotFound {
  return new NotFound(`User "${id.slice(0, 100)}" not found in this tenant`)
}

/** Reads a live user or throws 404. */
export async function requireUser(db: Db, tenantId: string, id: string): Promise<UserRecord> {
  const user = await getUser(db, tenantId, id)
  if (!user) throw userNotFound(id)
  return user
}

/**
 * POST /Users: a new user; `active` defaults to true. An active IdP user gets an invite row in the
 * same batch, then `outbox` announces it (without an outbox, the cron sweep picks it up later).
 */
export async function createScimUser(
  db: Db,
  tenantId: string,
  body: unknown,
  now: Date,
  outbox?: InviteOutbox,
  source: 'scim' | 'app' = 'scim',
  audit?: Audit,
): Promise<UserRecord> {
  const resource = normalizeResource(userResourceType, body)
  resource.active ??= true
  const { invite, ...lifecycle } = creation(resource.active as boolean, source)
  const id = newId()
  const inviteId = invite === 'issue' ? newId() : undefined
  const extra = inviteId ? [insertInvite(db, tenantId, { id: inviteId, userId: id }, now)] : []
  const record = await createUser(db, tenantId, { id, resource, ...lifecycle, source }, now, extra, audit)
  if (inviteId) await outbox?.announce(tenantId, [inviteId])
  return record
}

/** The invite statements of a lifecycle transition, guarded by the user write they join; and the invite to announce. */
function inviteStatements(db: Db, tenantId: string, current: UserRecord, effect: 'issue' | 'void' | 'none', now: Date): { extra: Statement[]; inviteId?: string } {
  if (effect === 'none') return { extra: [] }
  const guard = afterUserWrite(tenantId, current.id, current.version, now)
  if (effect === 'void') return { extra: [voidInvites(db, tenantId, current.id, 'user deactivated', guard)] }
  const inviteId = newId()
  return {
    extra: [voidInvites(db, tenantId, current.id, 'superseded by a new invite', guard), insertInvite(db, tenantId, { id: inviteId, userId: current.id }, now, guard)],
    inviteId,
  }
}

/**
 * Reads the user, computes its next resource and writes it guarded by the version it read. With
 * If-Match the client's version must hold (412 otherwise); without it, a write that lost a race is
 * recomputed on the fresh user, so two concurrent PATCHes both persist (RFC 7644 §3.14).
 */
async function writeUser(
  db: Db,
  tenantId: string,
  id: string,
  ifMatch: string | undefined,
  now: Date,
  next: (current: UserRecord) => Json | undefined,
  outbox?: InviteOutbox,
  audit?: Audit,
): Promise<UserRecord> {
  for (let attempt = 0; ; attempt++) {
    const current = await requireUser(db, tenantId, id)
    ifMatchVersion(ifMatch, current.version)
    const resource = next(current)
    if (!resource || jsonEqual(resource, current.resource)) return current
    const { invite, ...lifecycle } = transition(current, resource.active !== false)
    const { extra, inviteId } = inviteStatements(db, tenantId, current, invite, now)
    try {
      const record = await updateUser(db, tenantId, id, current.version, { resource, ...lifecycle }, now, extra, audit)
      if (inviteId) await outbox?.announce(tenantId, [inviteId])
      return record
    } catch (error) {
      if (!(error instanceof PreconditionFailed) || ifMatch !== undefined || attempt >= 4) throw error
    }
  }
}

/**
 * PUT /Users/{id}: full replace (RFC 7644 §3.5.1). Read-only attributes are ignored; an `id` in the body
 * that differs from the URL is a 400; an omitted `active` keeps the current value (a PUT never
 * deactivates by omission).
 */
export async function replaceScimUser(
  db: Db,
  tenantId: string,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
  now: Date,
  outbox?: InviteOutbox,
  audit?: Audit,
): Promise<UserRecord> {
  checkBodyId(body, id)
  const resource = normalizeResource(userResourceType, body)
  return writeUser(db, tenantId, id, ifMatch, now, (current) => ({ ...resource, active: resource.active ?? current.resource.active ?? true }), outbox, audit)
}

/** PATCH /Users/{id}: all operations apply or none (RFC 7644 §3.5.2). */
export async function patchScimUser(
  db: Db,
  tenantId: string,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
  now: Date,
  outbox?: InviteOutbox,
  audit?: Audit,
): Promise<UserRecord> {
  const ops = parsePatchRequest(userResourceType, body)
  return writeUser(
    db,
    tenantId,
    id,
    ifMatch,
    now,
    (current) => {
      const result = applyPatch(userResourceType, current.resource, ops)
      if (!result.changed) return undefined
      // Removing or clearing `active` keeps the current value, as PUT does: it never reactivates by omission.
      result.resource.active ??= current.resource.active ?? true
      return result.resource
    },
    outbox,
    audit,
  )
}

/**
 * DELETE /Users/{id}: the user becomes a tombstone (shared/DESIGN.md "Lifecycle") and its invites are
 * void. The void runs right after the delete, not in its batch (deleteUser takes no extra
 * statements); the consumer and the invite page check the user too, so a link dies with the user either way.
 */
export async function deleteScimUser(db: Db, tenantId: string, id: string, ifMatch: string | undefined, now: Date, audit?: Audit): Promise<void> {
  const current = await requireUser(db, tenantId, id)
  const expected = ifMatchVersion(ifMatch, current.version)
  // The person's open invites die in the same batch as the user (their links stop working at once).
  if (await deleteUser(db, tenantId, id, now, expected, (guard) => [voidInvites(db, tenantId, id, 'user deleted', guard)], audit)) return
  if (expected !== undefined && (await getUser(db, tenantId, id))) throw new PreconditionFailed(`User ${id} changed since If-Match was read`)
  throw userNotFound(id)
}
