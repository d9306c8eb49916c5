/**
 * The app's catalogue of roles and entitlements, as Okta Identity Governance reads it (one SCIM
 * resource type per catalogue type: /Roles, /Licenses, ...) and as the app and support change it
 * (the app API, `npm run tenant -- entitlement ...`), with the seat limits the IdP sees.
 */
import {
  allEntries,
  catalogPages,
  catalogTypes,
  getEntry,
  holderCount,
  putEntry,
  removeEntry,
  SeatLimitBelowUse,
  TENANT_SEATS,
  type CatalogEntry,
} from '../db/catalog.ts'
import { catalogFilterSql, catalogSortSql } from '../db/filter-sql.ts'
import { Conflict, InvalidValue, NotFound } from '../scim/errors.ts'
import { canonicalName } from '../scim/resource/canonical.ts'
import { project, type Projection } from '../scim/resource/projection.ts'
import { represent } from '../scim/resource/represent.ts'
import { isObject, type Json } from '../scim/resource/values.ts'
import {
  catalogEndpoint,
  catalogResourceType,
  catalogTypeProblem,
  type ResourceTypeDef,
} from '../scim/schemas/index.ts'
import type { Scope } from '../scope/scope.ts'
import type { SearchSpec } from './search.ts'

/** The longest description Okta takes. */
const MAX_DESCRIPTION = 1000

/** The resource types of the tenant's catalogue, in name order. */
export async function catalogResourceTypes(scope: Scope): Promise<ResourceTypeDef[]> {
  return (await catalogTypes(scope)).map(catalogResourceType)
}

/** The catalogue type served at `endpoint` (case-insensitive, as `/roles`), or undefined. */
export async function typeAtEndpoint(scope: Scope, endpoint: string): Promise<ResourceTypeDef | undefined> {
  const wanted = `/${endpoint}`.toLowerCase()
  return (await catalogResourceTypes(scope)).find((t) => t.endpoint.toLowerCase() === wanted)
}

/** A catalogue entry over SCIM (Okta's Role and Entitlement schemas). */
export function entryRepresentation(scope: Scope, type: ResourceTypeDef, entry: CatalogEntry): Json {
  const stored: Json = { displayName: entry.resource.displayName, type: entry.type }
  if (entry.resource.description !== undefined) stored.description = entry.resource.description
  if (entry.seatLimit !== null) stored.totalAssignmentsPermitted = entry.seatLimit
  stored.totalAssignmentsUsed = entry.seatsUsed
  return represent(type, entry.id, stored, {
    created: entry.createdAt,
    lastModified: entry.updatedAt,
    location: `${scope.baseUrl}${type.endpoint}/${encodeURIComponent(entry.id)}`,
    version: `W/"${entry.updatedAt}"`,
  })
}

/** How one catalogue type is listed and filtered (RFC 7644 §3.4.2), like Users and Groups. */
export function catalogSearch(type: ResourceTypeDef): SearchSpec<CatalogEntry> {
  return {
    type,
    filterSql: (filter) => catalogFilterSql(type, filter),
    sortColumn: (path) => catalogSortSql(type, path),
    pages: (scope, where, orderBy) => catalogPages(scope, type.id, where, orderBy),
    async represent(scope, records, projection) {
      return records.map((e) => project(type, entryRepresentation(scope, type, e), projection))
    },
  }
}

/** One entry over SCIM, or 404. */
export async function requireEntry(
  scope: Scope,
  type: ResourceTypeDef,
  id: string,
  projection: Projection,
): Promise<Json> {
  const entry = await getEntry(scope, type.id, id)
  if (!entry) throw new NotFound(`${type.id} "${id.slice(0, 100)}" not found in this tenant`)
  return project(type, entryRepresentation(scope, type, entry), projection)
}

/** An entry as the app API and the CLI show it. */
export function entryJson(entry: CatalogEntry): Json {
  return {
    type: entry.type,
    id: entry.id,
    displayName: entry.resource.displayName,
    ...(entry.resource.description === undefined ? {} : { description: entry.resource.description }),
    endpoint: entry.type === TENANT_SEATS ? null : catalogEndpoint(entry.type),
    seatLimit: entry.seatLimit,
    seatsUsed: entry.seatsUsed,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  }
}

/** Every entry of the tenant, the tenant's own seat row apart. */
export async function listCatalog(scope: Scope): Promise<{ entries: Json[]; tenantSeats: Json | null }> {
  const entries = await allEntries(scope)
  const seats = entries.find((e) => e.type === TENANT_SEATS)
  return {
    entries: entries.filter((e) => e.type !== TENANT_SEATS).map(entryJson),
    tenantSeats: seats ? { seatLimit: seats.seatLimit, seatsUsed: seats.seatsUsed } : null,
  }
}

function seatLimitOf(value: unknown): number | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100_000_000)
    throw new InvalidValue('seatLimit must be a whole number from 0 to 100000000, or null for no limit')
  return value
}

function belowUse(what: string, limit: number | null, used: number): Conflict {
  return new Conflict(
    `${what} has ${used} seats in use; a limit of ${limit} is below that. Free seats first, or choose at least ${used}.`,
  )
}

/**
 * Adds or changes an entry: `{ type, id, displayName, description?, seatLimit? }`. The type is a
 * resource type name (Role, License, ...), the id what users' roles or entitlements send as `value`.
 */
export async function putCatalogEntry(
  scope: Scope,
  body: Record<string, unknown>,
): Promise<{ entry: Json; created: boolean }> {
  const { type, id, displayName, description } = body
  if (typeof type !== 'string') throw new InvalidValue('type must be a resource type name such as Role or License')
  const typeProblem = catalogTypeProblem(type)
  if (typeProblem) throw new InvalidValue(typeProblem)
  if (typeof id !== 'string' || !id.trim() || id.length > 200 || /[\u0000-\u001f/]/.test(id))
    throw new InvalidValue(
      'id must be 1 to 200 characters without "/" or control characters (what IdPs send as the value)',
    )
  if (typeof displayName !== 'string' || !displayName.trim() || displayName.length > 200)
    throw new InvalidValue('displayName (--name) must be 1 to 200 characters')
  if (description !== undefined && (typeof description !== 'string' || description.length > MAX_DESCRIPTION))
    throw new InvalidValue(`description must be text of at most ${MAX_DESCRIPTION} characters`)
  const seatLimit = seatLimitOf(body.seatLimit)
  // A type is named once: "license" and "License" would be two endpoints that IdPs cannot tell apart.
  const known = (await catalogTypes(scope)).find((t) => t.toLowerCase() === type.toLowerCase())
  if (known && known !== type) throw new InvalidValue(`the catalogue names this type ${known}; use that spelling`)
  const before = await getEntry(scope, type, id)
  const resource = { displayName, ...(description === undefined ? {} : { description }) }
  try {
    const entry = await putEntry(scope, { type, id, resource, canonical: canonicalName(displayName), seatLimit }, [
      scope.journal.note({
        action: before ? 'catalog-change' : 'catalog-add',
        summary: `${type} ${id}${seatLimit === null ? '' : ` (seat limit ${seatLimit})`}`,
      }),
    ])
    return { entry: entryJson(entry), created: !before }
  } catch (error) {
    if (error instanceof SeatLimitBelowUse) throw belowUse(`${type} ${id}`, seatLimit, before?.seatsUsed ?? 0)
    throw error
  }
}

/** Removes an entry, refused while a user's roles or entitlements still name it. */
export async function removeCatalogEntry(scope: Scope, type: string, id: string): Promise<void> {
  const holders = await holderCount(scope, type, id)
  if (holders)
    throw new Conflict(
      `${type} ${id} is still granted to ${holders} user${holders === 1 ? '' : 's'}; take it away in the IdP first`,
    )
  const removed = await removeEntry(scope, type, id, (guard) => [
    scope.journal.note({ action: 'catalog-remove', summary: `${type} ${id}`, guard }),
  ])
  if (!removed) throw new NotFound(`No ${type.slice(0, 40)} "${id.slice(0, 100)}" in this tenant's catalogue`)
}

/** Sets (or, with null, lifts) the tenant's limit on active users. */
export async function setTenantSeats(scope: Scope, body: unknown): Promise<Json> {
  if (!isObject(body) || !('seatLimit' in body))
    throw new InvalidValue('send { "seatLimit": N } or { "seatLimit": null }')
  const seatLimit = seatLimitOf(body.seatLimit)
  try {
    const entry = await putEntry(
      scope,
      {
        type: TENANT_SEATS,
        id: TENANT_SEATS,
        resource: { displayName: 'active users' },
        canonical: 'active users',
        seatLimit,
      },
      [
        scope.journal.note({
          action: 'tenant-seats',
          summary: seatLimit === null ? 'no limit' : `seat limit ${seatLimit}`,
        }),
      ],
    )
    return { seatLimit: entry.seatLimit, seatsUsed: entry.seatsUsed }
  } catch (error) {
    if (error instanceof SeatLimitBelowUse) {
      const used = (await getEntry(scope, TENANT_SEATS, TENANT_SEATS))?.seatsUsed ?? 0
      throw belowUse(`Tenant ${scope.tenant.id}`, seatLimit, used)
    }
    throw error
  }
}
