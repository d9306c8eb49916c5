/** List and search for any resource type (RFC 7644 §3.4.2, §3.4.3; RFC 9865 cursors). */
import { asc, desc, type SQL } from 'drizzle-orm'
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core'
import { readPage, type PageSource } from '../db/pages.ts'
import { InvalidValue } from '../scim/errors.ts'
import type { AttrPath, Filter } from '../scim/filter/ast.ts'
import { parseFilter } from '../scim/filter/parser.ts'
import { decodeCursor, encodeCursor, queryKey } from '../scim/list/cursor.ts'
import type { ListParams } from '../scim/list/params.ts'
import { listResponse } from '../scim/list/response.ts'
import { parseAttributeList, splitAttributePath, type Projection } from '../scim/resource/projection.ts'
import type { Json } from '../scim/resource/values.ts'
import type { ResourceTypeDef } from '../scim/schemas/index.ts'
import type { Scope } from '../scope/scope.ts'
import type { StreamedJson } from './group-representation.ts'
import { checkFilterBudget } from './search-budget.ts'

/** What differs between Users and Groups when listing them. */
export interface SearchSpec<R extends { seq: number }> {
  type: ResourceTypeDef
  /** Checks the filter against the schema and compiles its normal form (one pass). */
  filterSql(filter: Filter): SQL
  sortColumn(path: AttrPath): AnySQLiteColumn | SQL
  pages(scope: Scope, where: SQL | undefined, orderBy: SQL[]): PageSource<R>
  /** The projected representations of a page of records (streamed ones for big resources). */
  represent(scope: Scope, records: R[], projection: Projection): Promise<(Json | StreamedJson)[]>
}

/** Parses attributes / excludedAttributes for a resource type. */
export function projectionOf(
  type: ResourceTypeDef,
  params: { attributes?: string; excludedAttributes?: string },
): Projection {
  return {
    attributes: parseAttributeList(type, params.attributes, 'attributes'),
    excludedAttributes: parseAttributeList(type, params.excludedAttributes, 'excludedAttributes'),
  }
}

/** A ListResponse: its fields, and its Resources (some of which may be streamed). */
export interface ListResult {
  head: Json
  resources: (Json | StreamedJson)[]
}

/** One page as a ListResponse: index pagination by default, cursor pagination when `cursor` is given. */
export async function search<R extends { seq: number }>(
  scope: Scope,
  params: ListParams,
  spec: SearchSpec<R>,
): Promise<ListResult> {
  const now = scope.now()
  const projection = projectionOf(spec.type, params)
  const where = params.filter === undefined ? undefined : spec.filterSql(parseFilter(params.filter))
  if (where) checkFilterBudget(where)
  const orderBy: SQL[] = []
  if (params.sortBy) {
    if (params.cursor !== undefined)
      throw new InvalidValue('sortBy cannot be combined with cursor pagination; page sorted results with startIndex')
    const column = spec.sortColumn(splitAttributePath(params.sortBy))
    orderBy.push(params.sortOrder === 'descending' ? desc(column) : asc(column))
  }
  const key = queryKey(spec.type.id, params.filter)
  const afterSeq = params.cursor === undefined ? undefined : decodeCursor(params.cursor, key, now)
  const page = await readPage(
    scope,
    {
      queryKey: key,
      filtered: where !== undefined,
      sorted: orderBy.length > 0,
      startIndex: params.startIndex,
      count: params.count,
      afterSeq,
    },
    spec.pages(scope, where, orderBy),
  )
  const resources = await spec.represent(scope, page.rows, projection)
  const { Resources: _none, ...fields } = listResponse(resources, page.total, params.startIndex)
  const head: Json = fields
  if (afterSeq === undefined) return { head, resources }
  const last = page.rows[page.rows.length - 1]
  // RFC 9865 §2: startIndex has no meaning with cursors, so it is left out.
  const { startIndex: _startIndex, ...cursorHead }: Json = head
  if (page.hasMore && last) cursorHead.nextCursor = encodeCursor(key, last.seq, now)
  return { head: cursorHead, resources }
}
