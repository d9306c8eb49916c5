/**
 * Pagination that stays flat however deep the page (RFC 7644 §3.4.2.4, RFC 9865). Rows are ordered by
 * their per-tenant `seq`. A page of index pagination remembers where it ended (page_marks), so the
 * next sequential page is a keyset seek (`seq > S`) instead of an OFFSET scan; a page without a mark
 * (a jump, or a sorted query) falls back to OFFSET. Seeking also means rows deleted or inserted during
 * an import never make it skip or repeat a row that existed throughout.
 */
import { and, eq, lt, sql, type SQL } from 'drizzle-orm'
import { batch, runWrite, statement } from '../d1/batch.ts'
import type { Scope, SystemScope } from '../scope/scope.ts'
import { pageMarks } from './schema.ts'

type Tenant = Pick<Scope, 'db' | 'tenantKey'>

/** How long a page mark (and a filtered total cached with it) stays usable. */
const MARK_TTL_MS = 3600_000

/** What the caller asks for. */
export interface PageRequest {
  queryKey: string
  /** True when a filter narrows the rows, so the total must be counted (and is cached with marks). */
  filtered: boolean
  /** Sorted queries (sortBy) are paged by OFFSET: marks follow `seq` order only. */
  sorted: boolean
  startIndex: number
  count: number
  /** Cursor pagination (RFC 9865): the seq after which the page starts; 0 for the first page. */
  afterSeq?: number
}

/** How to read the rows and the total of one resource type, as SQL that readPage puts in one batch. */
export interface PageSource<R extends { seq: number }> {
  /** A scalar SQL expression: the number of rows the query matches. */
  count: SQL
  /** The statement of a page: rows with `seq > after` (when given), skipping `offset`, at most `limit`. */
  rows(range: { after?: SQL; offset: SQL; limit: number }): SQL
  /** A row of `rows` as a record. */
  record(row: unknown): R
}

/** A page of rows, the total, and (cursor mode) whether more follow. */
export interface Page<R> {
  total: number
  rows: R[]
  hasMore: boolean
}

/**
 * Reads one page in one round trip of reads (plus the write of a new mark): the mark where the
 * previous page ended, the rows (after that mark when there is one, by OFFSET otherwise) and the total
 * when it is needed, all in one D1 batch; a filtered total is counted only when no mark carries it.
 */
export async function readPage<R extends { seq: number }>(
  scope: Tenant & Pick<Scope, 'now'>,
  request: PageRequest,
  source: PageSource<R>,
): Promise<Page<R>> {
  const now = scope.now()
  const tenantId = scope.tenantKey
  const totalOf = (row: unknown) =>
    Number(((row as { n?: number | null } | undefined)?.n as number | null | undefined) ?? 0)
  const countStatement = statement(sql`SELECT ${source.count} AS n`)
  if (request.afterSeq !== undefined) {
    const b = batch(scope.db)
    const rows = b.rows(
      statement(source.rows({ after: sql`${request.afterSeq}`, offset: sql`0`, limit: request.count + 1 })),
      source.record,
    )
    const total = b.first(countStatement)
    const results = await b.run()
    const records = results.get(rows)
    return {
      total: totalOf(results.get(total)),
      rows: records.slice(0, request.count),
      hasMore: records.length > request.count,
    }
  }
  const offset = request.startIndex - 1
  if (request.count === 0) {
    const b = batch(scope.db)
    const total = b.first(countStatement)
    return { total: totalOf((await b.run()).get(total)), rows: [], hasMore: false }
  }
  const marked = !request.sorted && offset > 0
  const end = offset + request.count
  // The mark's lookup is bound once per statement (a CTE), so a filter may still use MAX_FILTER_PARAMS.
  const withMark = (query: SQL) =>
    sql`WITH mark AS (SELECT seq FROM page_marks WHERE tenant_id = ${tenantId} AND query_key = ${request.queryKey}
      AND position = ${offset} AND expires_at > ${now.toISOString()}) ${query}`
  const markSeq = sql`(SELECT seq FROM mark)`
  // A filtered first page that is not full holds the whole result (the usual `userName eq` lookup), so
  // its total is counted only when the page is full; every other page reads its total in the batch.
  const eagerTotal = !request.filtered || offset > 0
  const b = batch(scope.db)
  // The mark this page starts at, if any (its seq and the total it cached).
  const markRead = marked
    ? b.first(
        statement(sql`SELECT seq, total FROM page_marks WHERE tenant_id = ${tenantId} AND query_key = ${request.queryKey}
        AND position = ${offset} AND expires_at > ${now.toISOString()}`),
        (row) => row as unknown as { seq: number; total: number },
      )
    : undefined
  // The rows, after the mark when there is one.
  const rowsRead = b.rows(
    statement(
      marked
        ? withMark(
            source.rows({
              after: sql`coalesce(${markSeq}, 0)`,
              offset: sql`CASE WHEN ${markSeq} IS NULL THEN ${offset} ELSE 0 END`,
              limit: request.count,
            }),
          )
        : source.rows({ offset: sql`${offset}`, limit: request.count }),
    ),
    source.record,
  )
  // The mark this page would save, so that an identical one is not written again (a page asked for again).
  const probe = statement(
    sql`SELECT seq, total, expires_at AS expiresAt FROM page_marks WHERE tenant_id = ${tenantId} AND query_key = ${request.queryKey} AND position = ${end}`,
  )
  const asMark = (row: Record<string, unknown>) => row as unknown as SavedMark
  const savedRead = !request.sorted && eagerTotal ? b.first(probe, asMark) : undefined
  // The total; a filtered one is counted only when no mark carries it.
  const totalRead = eagerTotal
    ? b.first(
        request.filtered && marked
          ? statement(withMark(sql`SELECT CASE WHEN ${markSeq} IS NULL THEN ${source.count} END AS n`))
          : countStatement,
      )
    : undefined
  const results = await b.run()
  const mark = markRead && results.get(markRead)
  const rows = results.get(rowsRead)
  let total: number
  let saved = savedRead && results.get(savedRead)
  if (mark && request.filtered) total = mark.total
  else if (totalRead) total = totalOf(results.get(totalRead))
  else if (rows.length < request.count) total = rows.length
  else {
    // A full filtered first page: count now, and probe the mark it may save in the same round trip.
    const again = batch(scope.db)
    const counted = again.first(countStatement)
    const probed = again.first(probe, asMark)
    const more = await again.run()
    total = totalOf(more.get(counted))
    saved = more.get(probed)
  }
  const last = rows[rows.length - 1]
  if (!request.sorted && last && rows.length === request.count && end < total) {
    // A mark that already says the same and lives for more than half its time is left as it is.
    const fresh =
      saved &&
      saved.seq === last.seq &&
      saved.total === total &&
      Date.parse(saved.expiresAt) - now.getTime() > MARK_TTL_MS / 2
    if (!fresh) await saveMark(scope, request, { position: end, seq: last.seq, total })
  }
  return { total, rows, hasMore: end < total }
}

/** A page mark as read back. */
interface SavedMark {
  seq: number
  total: number
  expiresAt: string
}

/**
 * Saves where this page ended and drops the marks before it: a sequential import keeps one mark (a page
 * asked for again whose mark is unchanged writes nothing, so an earlier mark may live on until it expires).
 */
async function saveMark(
  scope: Tenant & Pick<Scope, 'now'>,
  request: PageRequest,
  mark: { position: number; seq: number; total: number },
): Promise<void> {
  const tenantId = scope.tenantKey
  const { position, seq, total } = mark
  const expiresAt = new Date(scope.now().getTime() + MARK_TTL_MS).toISOString()
  const b = batch(scope.db)
  b.add(
    scope.db
      .delete(pageMarks)
      .where(
        and(
          eq(pageMarks.tenantId, tenantId),
          eq(pageMarks.queryKey, request.queryKey),
          lt(pageMarks.position, position),
        ),
      ),
  )
  b.add(
    scope.db
      .insert(pageMarks)
      .values({ tenantId, queryKey: request.queryKey, position, seq, total, expiresAt })
      .onConflictDoUpdate({
        target: [pageMarks.tenantId, pageMarks.queryKey, pageMarks.position],
        set: { seq, total, expiresAt },
      }),
  )
  await b.run()
}

/** Deletes expired page marks across tenants (called by the scheduled sweep). */
export async function pruneExpiredMarks(scope: SystemScope): Promise<number> {
  return runWrite(scope.db, statement(sql`DELETE FROM page_marks WHERE expires_at <= ${scope.now().toISOString()}`))
}
