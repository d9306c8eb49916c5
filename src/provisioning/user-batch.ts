/**
 * Many POST /Users at once (a /Bulk request's run of creates): each body is checked as a single POST
 * would check it, then every good one is written in one batch of a few multi-row statements, with
 * their invites, events and journal entries. A userName taken by a concurrent write fails the batch
 * as a whole; then each user is created on its own, so exactly the one taken gets its 409.
 */
import { isSeatViolation, moveSeats, seatDeltas } from '../db/catalog.ts'
import { eventsStatement } from '../db/events.ts'
import { newId } from '../db/ids.ts'
import { insertNewUserInvites } from '../db/invites.ts'
import { createUsers, takenUserNames, userNameKey, type NewUser } from '../db/users.ts'
import { creation } from '../lifecycle/state.ts'
import { Uniqueness } from '../scim/errors.ts'
import { normalizeResource } from '../scim/resource/normalize.ts'
import type { Scope } from '../scope/scope.ts'
import { catalogFor } from './grants.ts'
import { createScimUser, type UserRecord } from './users.ts'

/** What one create came to: the user, an error, or not attempted (the error budget ran out before it). */
export type CreateResult = { record: UserRecord } | { error: unknown } | { skipped: true }

/** A body that passed the checks, with the user it becomes. */
interface Planned {
  at: number
  body: unknown
  user: NewUser
  inviteId?: string
}

function taken(userName: unknown): Uniqueness {
  return new Uniqueness(
    `userName "${String(userName)}" is already in use in this tenant (userName is unique, case-insensitively)`,
  )
}

/**
 * Creates the users of `bodies` in order. After `maxErrors` errors the rest is skipped, so a caller
 * that stops at its Nth error never writes past it.
 */
export async function createScimUsers(
  scope: Scope,
  bodies: unknown[],
  maxErrors = Number.POSITIVE_INFINITY,
): Promise<CreateResult[]> {
  const results: CreateResult[] = bodies.map(() => ({ skipped: true }))
  const checked = bodies.map((body) => {
    try {
      return { resource: normalizeResource(scope.userType, body) }
    } catch (error) {
      return { error }
    }
  })
  const catalog = await catalogFor(
    scope,
    checked.flatMap((c) => (c.resource ? [c.resource] : [])),
  )
  const held = await takenUserNames(
    scope,
    checked.flatMap((c) => (c.resource ? [String(c.resource.userName)] : [])),
  )
  const planned: Planned[] = []
  const names = new Set<string>()
  let errors = 0
  for (const [at, c] of checked.entries()) {
    if (errors >= maxErrors) break
    const key = c.resource && userNameKey(c.resource.userName)
    if (!c.resource || held.has(key!) || names.has(key!)) {
      results[at] = { error: c.resource ? taken(c.resource.userName) : c.error }
      errors++
      continue
    }
    const resource = c.resource
    try {
      catalog.check(resource)
    } catch (error) {
      results[at] = { error }
      errors++
      continue
    }
    names.add(key!)
    resource.active ??= true
    const source = scope.actor.kind === 'app' ? 'app' : 'scim'
    const { invite, ...lifecycle } = creation(resource.active as boolean, source)
    planned.push({
      at,
      body: bodies[at],
      user: { id: newId(), resource, ...lifecycle, source },
      inviteId: invite === 'issue' ? newId() : undefined,
    })
  }
  if (!planned.length) return results

  const invites = planned.flatMap((p) => (p.inviteId ? [{ id: p.inviteId, userId: p.user.id }] : []))
  try {
    const records = await createUsers(
      scope,
      planned.map((p) => p.user),
      [
        scope.journal.entries(
          planned.map((p) => ({ action: 'create', resourceType: 'User', resourceId: p.user.id, body: p.body })),
        ),
        eventsStatement(
          scope,
          planned.map((p) => ({ type: 'user.created', resourceType: 'User', resourceId: p.user.id })),
        ),
        ...insertNewUserInvites(scope, invites),
        ...moveSeats(
          scope,
          seatDeltas(
            [],
            planned.map((p) => p.user.resource),
          ),
        ),
      ],
    )
    for (const [i, p] of planned.entries()) results[p.at] = { record: records[i]! }
  } catch (error) {
    if (!(error instanceof Uniqueness) && !isSeatViolation(error)) throw error
    // A concurrent write took one of the names, or the run would pass a seat limit: one by one, so
    // only the users that cannot be created fail (with 409, or 403 naming the limit).
    let failed = errors
    for (const p of planned) {
      if (failed >= maxErrors) break
      try {
        results[p.at] = { record: await createScimUser(scope, p.body) }
      } catch (single) {
        results[p.at] = { error: single }
        failed++
      }
    }
    return results
  }
  if (invites.length) await scope.outbox.invites.announce(invites.map((i) => i.id))
  await scope.outbox.events.announce()
  return results
}
