import { valueOf } from '../resource/keys.ts'
import { InvalidValue } from '../errors.ts'

/** Page sizes advertised in ServiceProviderConfig (RFC 9865 §4, RFC 7644 §3.4.2.4). */
export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000

/** The query parameters of a list or search request (RFC 7644 §3.4.2, §3.4.3). */
export interface ListParams {
  filter?: string
  startIndex: number
  count: number
  sortBy?: string
  sortOrder: 'ascending' | 'descending'
  attributes?: string
  excludedAttributes?: string
  /** RFC 9865: present (possibly empty) when the client asks for cursor pagination. */
  cursor?: string
}

function integer(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim())
  if (!Number.isFinite(n) || !Number.isInteger(n))
    throw new InvalidValue(`${name} must be an integer, got ${JSON.stringify(String(raw).slice(0, 40))}`)
  return n
}

function text(name: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined
  if (Array.isArray(raw)) return raw.map((v) => text(name, v)).join(',')
  if (typeof raw !== 'string') throw new InvalidValue(`${name} must be a string`)
  return raw
}

/**
 * Reads list parameters from a query string map or a SearchRequest body (names matched
 * case-insensitively). startIndex below 1 means 1; a negative count means 0; count is capped at
 * MAX_PAGE_SIZE (RFC 7644 §3.4.2.4).
 */
export function parseListParams(input: Record<string, unknown>): ListParams {
  const get = (name: string): unknown => valueOf(input, name)
  const requested = integer('startIndex', get('startIndex')) ?? 1
  // Echoed in the ListResponse: beyond 2^53 it would come back rounded or as "1e+23", not the integer sent.
  if (requested > Number.MAX_SAFE_INTEGER)
    throw new InvalidValue(
      `startIndex must be at most ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(String(get('startIndex')).slice(0, 40))}`,
    )
  const startIndex = Math.max(1, requested)
  const count = Math.min(MAX_PAGE_SIZE, Math.max(0, integer('count', get('count')) ?? DEFAULT_PAGE_SIZE))
  const order = text('sortOrder', get('sortOrder'))?.toLowerCase()
  if (order !== undefined && order !== '' && order !== 'ascending' && order !== 'descending') {
    throw new InvalidValue(`sortOrder must be "ascending" or "descending", got ${JSON.stringify(order.slice(0, 40))}`)
  }
  const filter = text('filter', get('filter'))
  const params: ListParams = { startIndex, count, sortOrder: order === 'descending' ? 'descending' : 'ascending' }
  if (filter !== undefined && filter.trim() !== '') params.filter = filter
  const sortBy = text('sortBy', get('sortBy'))
  if (sortBy) params.sortBy = sortBy
  const attributes = text('attributes', get('attributes'))
  if (attributes) params.attributes = attributes
  const excluded = text('excludedAttributes', get('excludedAttributes'))
  if (excluded) params.excludedAttributes = excluded
  const cursor = text('cursor', get('cursor'))
  if (cursor !== undefined) params.cursor = cursor
  return params
}
