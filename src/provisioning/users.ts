/**
 * User writes as the IdP asks for them (RFC 7644 §3.3, §3.5, §3.6): normalise, apply the lifecycle,
 * persist once. Routes stay thin; the app-facing API uses the same operations.
 */
import type { Db } from '../db/client.ts'
import { createUser, deleteUser, getUser, updateUser, type UserRecord } from '../db/users.ts'
import { applyActive, initialState } from '../lifecycle/state.ts'
import { ifMatchVersion } from '../scim/preconditions.ts'
import { InvalidValue, NotFound, PreconditionFailed } from '../scim/errors.ts'
import { applyPatch } from '../scim/patch/apply.ts'
import { parsePatchRequest } from '../scim/patch/parse.ts'
import { jsonEqual } from '../scim/resource/equal.ts'
import { normalizeResource } from '../scim/resource/normalize.ts'
import { isObject, type Json } from '../scim/resource/values.ts'
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

/** POST /Users: a new user; `active` defaults to true. */
export async function createScimUser(db: Db, tenantId: string, body: unknown, now: Date, source: 'scim' | 'app' = 'scim'): Promise<UserRecord> {
  const resource = normalizeResource(userResourceType, body)
  resource.active ??= true
  const lifecycle = initialState(resource.active as boolean, source)
  return createUser(db, tenantId, { id: crypto.randomUUID(), resource, ...lifecycle, source }, now)
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
): Promise<UserRecord> {
  for (let attempt = 0; ; attempt++) {
    const current = await requireUser(db, tenantId, id)
    ifMatchVersion(ifMatch, current.version)
    const resource = next(current)
    if (!resource || jsonEqual(resource, current.resource)) return current
    const lifecycle = applyActive(current, resource.active !== false)
    try {
      return await updateUser(db, tenantId, id, current.version, { resource, ...lifecycle }, now)
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
export async function replaceScimUser(db: Db, tenantId: string, id: string, body: unknown, ifMatch: string | undefined, now: Date): Promise<UserRecord> {
  if (isObject(body) && body.id !== undefined && body.id !== id) {
    throw new InvalidValue(`The body's id "${String(body.id).slice(0, 100)}" differs from the URL's id "${id.slice(0, 100)}"; id cannot change`)
  }
  const resource = normalizeResource(userResourceType, body)
  return writeUser(db, tenantId, id, ifMatch, now, (current) => ({ ...resource, active: resource.active ?? current.resource.active ?? true }))
}

/** PATCH /Users/{id}: all operations apply or none (RFC 7644 §3.5.2). */
export async function patchScimUser(db: Db, tenantId: string, id: string, body: unknown, ifMatch: string | undefined, now: Date): Promise<UserRecord> {
  const ops = parsePatchRequest(userResourceType, body)
  return writeUser(db, tenantId, id, ifMatch, now, (current) => {
    const result = applyPatch(userResourceType, current.resource, ops)
    if (!result.changed) return undefined
    result.resource.active ??= true
    return result.resource
  })
}

/** DELETE /Users/{id}: the user becomes a tombstone (shared/DESIGN.md "Lifecycle"). */
export async function deleteScimUser(db: Db, tenantId: string, id: string, ifMatch: string | undefined, now: Date): Promise<void> {
  const current = await requireUser(db, tenantId, id)
  const expected = ifMatchVersion(ifMatch, current.version)
  if (await deleteUser(db, tenantId, id, now, expected)) return
  if (expected !== undefined && (await getUser(db, tenantId, id))) throw new PreconditionFailed(`User ${id} changed since If-Match was read`)
  throw userNotFound(id)
}
