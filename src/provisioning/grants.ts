/**
 * A user's grants: `roles[].value` names a Role of the tenant's catalogue, `entitlements[]` (value
 * and type) an entry of any other type. Values are checked against the catalogue only where the
 * tenant has declared entries of that kind (a tenant without a catalogue keeps them as sent), and the
 * seats they use are counted in the write's own batch (src/db/catalog.ts).
 */
import {
  allEntries,
  fullEntries,
  isSeatViolation,
  TENANT_SEATS,
  type CatalogEntry,
  type SeatDeltas,
} from '../db/catalog.ts'
import { InvalidValue, ScimError } from '../scim/errors.ts'
import { isObject, type Json } from '../scim/resource/values.ts'
import { ROLE_TYPE } from '../scim/schemas/index.ts'
import type { Scope } from '../scope/scope.ts'

/** The elements of a multi-valued complex attribute that carry a string value. */
function valued(resource: Json, name: 'roles' | 'entitlements'): Json[] {
  const list = resource[name]
  return Array.isArray(list) ? list.filter((e): e is Json => isObject(e) && typeof e.value === 'string') : []
}

/** True when a resource names any grant, so its write needs the catalogue. */
export function hasGrants(resource: Json): boolean {
  return valued(resource, 'roles').length > 0 || valued(resource, 'entitlements').length > 0
}

/** The tenant's catalogue, read once per write (or once per /Bulk run of creates). */
export class Catalog {
  private readonly roles = new Set<string>()
  /** Entitlement id -> the types that have it. */
  private readonly entitlements = new Map<string, string[]>()

  constructor(entries: CatalogEntry[]) {
    for (const e of entries) {
      if (e.type === TENANT_SEATS) continue
      if (e.type === ROLE_TYPE) this.roles.add(e.id)
      else this.entitlements.set(e.id, [...(this.entitlements.get(e.id) ?? []), e.type])
    }
  }

  /**
   * Checks the grants of `resource` in place: unknown roles or entitlements are 400 invalidValue
   * naming the attribute and value; an entitlement sent without `type` gets the type of the one entry
   * with that id (ambiguous ids need the type).
   */
  check(resource: Json): void {
    if (this.roles.size) {
      for (const role of valued(resource, 'roles')) {
        if (!this.roles.has(role.value as string))
          throw new InvalidValue(
            `roles: "${String(role.value).slice(0, 100)}" is not a Role of this app; the Roles are listed at /Roles`,
          )
        role.type ??= ROLE_TYPE
      }
    }
    if (!this.entitlements.size) return
    for (const e of valued(resource, 'entitlements')) {
      const value = e.value as string
      const types = this.entitlements.get(value) ?? []
      const shown = value.slice(0, 100)
      if (typeof e.type === 'string') {
        const type = types.find((t) => t.toLowerCase() === (e.type as string).toLowerCase())
        if (!type)
          throw new InvalidValue(
            types.length
              ? `entitlements: "${shown}" is a ${types.join(' and a ')}, not a ${String(e.type).slice(0, 40)}`
              : `entitlements: "${shown}" of type ${String(e.type).slice(0, 40)} is not an entitlement of this app; see /ResourceTypes for its catalogue`,
          )
        e.type = type
      } else if (types.length === 1) {
        e.type = types[0]!
      } else {
        throw new InvalidValue(
          types.length
            ? `entitlements: "${shown}" is an id of ${types.join(', ')}; send its type`
            : `entitlements: "${shown}" is not an entitlement of this app; see /ResourceTypes for its catalogue`,
        )
      }
    }
  }
}

/** The tenant's catalogue when `resources` name grants (else an empty one, and no read). */
export async function catalogFor(scope: Scope, resources: Json[]): Promise<Catalog> {
  return new Catalog(resources.some(hasGrants) ? await allEntries(scope) : [])
}

/** Checks the grants of one resource against the tenant's catalogue (a read only when it names any). */
export async function checkGrants(scope: Scope, resource: Json): Promise<void> {
  if (hasGrants(resource)) (await catalogFor(scope, [resource])).check(resource)
}

/** 403 for a write that would pass a seat limit: the detail names the limit, so the IdP's admin sees it. */
export class SeatLimitReached extends ScimError {
  constructor(detail: string) {
    super(403, detail)
  }
}

/**
 * Turns a seat CHECK failure of a write that moved seats by `deltas` into a 403 naming the
 * full entry ("seat limit of 50 reached for License pro in tenant acme"); other errors pass.
 */
export async function seatError(scope: Scope, error: unknown, deltas: SeatDeltas): Promise<unknown> {
  if (!isSeatViolation(error)) return error
  const [full] = await fullEntries(scope, [...deltas.keys()])
  const tenant = scope.tenant.id
  if (!full)
    return new SeatLimitReached(`a seat limit was reached in tenant ${tenant}; ask the app's owner for more seats`)
  const what = full.type === TENANT_SEATS ? 'active users' : `${full.type} ${full.id}`
  return new SeatLimitReached(
    `seat limit of ${full.seatLimit} reached for ${what} in tenant ${tenant}; free a seat or ask the app's owner for more`,
  )
}
