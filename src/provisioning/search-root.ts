/**
 * POST /.search at the root (RFC 7644 §3.4.3): Users and Groups in one ListResponse. Each resource
 * type judges the request on its own: a filter, sortBy or attribute a type does not know leaves that
 * type out (filter) or is ignored for it (sortBy, attributes); only what no type knows is a 400.
 * Results are the Users, then the Groups, each in its own order; every resource carries `schemas`,
 * so they can be told apart; startIndex and count page across both as one list.
 */
import { InvalidValue } from '../scim/errors.ts'
import { parseFilter } from '../scim/filter/parser.ts'
import type { ListParams } from '../scim/list/params.ts'
import { listResponse } from '../scim/list/response.ts'
import { splitAttributePath } from '../scim/resource/projection.ts'
import type { Scope } from '../scope/scope.ts'
import { groupSearch } from './search-groups.ts'
import { search, projectionOf, type ListResult, type SearchSpec } from './search.ts'
import { userSearch } from './search-users.ts'

// The two specs differ only in their record type.
type AnySpec = SearchSpec<any>

/** Whether `check` passes, else the error it threw. */
function attempt(check: () => unknown): unknown {
  try {
    check()
    return undefined
  } catch (error) {
    return error
  }
}

/** The names of a comma list that this type knows; throws (the first type's error) for a name no type knows. */
function knownNames(
  SPECS: AnySpec[],
  list: string | undefined,
  param: 'attributes' | 'excludedAttributes',
): Map<AnySpec, string | undefined> {
  const out = new Map<AnySpec, string | undefined>()
  const names = (list ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)
  for (const spec of SPECS) out.set(spec, undefined)
  if (!names.length) return out
  const kept = new Map<AnySpec, string[]>(SPECS.map((s) => [s, []]))
  for (const name of names) {
    const errors = SPECS.map((spec) => attempt(() => projectionOf(spec.type, { [param]: name })))
    if (errors.every(Boolean)) throw errors[0]
    SPECS.forEach((spec, i) => {
      if (!errors[i]) kept.get(spec)!.push(name)
    })
  }
  for (const spec of SPECS) {
    const k = kept.get(spec)!
    // A type that knows none of the requested attributes returns what it always returns (id, schemas).
    out.set(spec, k.length ? k.join(',') : param === 'attributes' ? 'id' : undefined)
  }
  return out
}

/** The parameters each type runs with, or undefined for a type the filter leaves out. */
function perType(SPECS: AnySpec[], params: ListParams): Map<AnySpec, ListParams | undefined> {
  const attributes = knownNames(SPECS, params.attributes, 'attributes')
  const excluded = knownNames(SPECS, params.excludedAttributes, 'excludedAttributes')
  const filterErrors = params.filter
    ? SPECS.map((spec) => attempt(() => spec.filterSql(parseFilter(params.filter!))))
    : SPECS.map(() => undefined)
  if (filterErrors.every(Boolean)) throw filterErrors[0]
  const sortErrors = params.sortBy
    ? SPECS.map((spec) => attempt(() => spec.sortColumn(splitAttributePath(params.sortBy!))))
    : SPECS.map(() => undefined)
  if (sortErrors.every(Boolean)) throw sortErrors[0]
  return new Map(
    SPECS.map((spec, i) => [
      spec,
      filterErrors[i]
        ? undefined
        : {
            ...params,
            attributes: attributes.get(spec),
            excludedAttributes: excluded.get(spec),
            sortBy: sortErrors[i] ? undefined : params.sortBy,
          },
    ]),
  )
}

/** One page across Users and Groups. */
export async function searchAll(scope: Scope, params: ListParams): Promise<ListResult> {
  if (params.cursor !== undefined)
    throw new InvalidValue('cursor pagination is not offered by the root /.search; page it with startIndex and count')
  // The tenant's Users (with the attributes it declared), then Groups.
  const SPECS: AnySpec[] = [userSearch(scope), groupSearch]
  const plan = perType(SPECS, params)
  let skip = params.startIndex - 1
  let room = params.count
  let total = 0
  const resources: ListResult['resources'] = []
  for (const spec of SPECS) {
    const typed = plan.get(spec)
    if (!typed) continue
    // Each type is asked for its part of the page; a count of 0 still gives its total.
    const page = await search(scope, { ...typed, startIndex: skip + 1, count: room }, spec)
    const typeTotal = page.head.totalResults as number
    total += typeTotal
    resources.push(...page.resources)
    room -= page.resources.length
    skip = Math.max(0, skip - typeTotal)
  }
  const { Resources: _none, ...head } = listResponse(resources, total, params.startIndex)
  return { head, resources }
}
