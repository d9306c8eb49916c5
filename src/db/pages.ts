/**
 * Pagination that stays flat however deep the page (RFC 7644 §3.4.2.4, RFC 9865). Rows are ordered by
 * their per-tenant `seq`. A page of index pagination remembers where it ended (page_marks), so the
 * next sequential page is a keyset seek (`seq > S`) instead of an OFFSET scan; a page without a mark
 * (a jump, or a sorted query) falls back to OFFSET. Seeking also means rows deleted or inserted during
 * an import never make it skip or repeat a row that existed throughout.
 */
import { and, eq, lt, sql, type SQL } from 'drizzle-orm'
import { runBatch, statement, type Statement } from './batch.ts'
import type { Db } from './client.ts'
import { pageMarks } from './schema.ts'

/** How long a page mark (and a filtered total cached with it) stays usable. */
const MARK_TTL_MS = 3600_000

/** What the caller asks for. */
export interface PageRequest {
  tenantId: string
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
export async function readPage<R extends { seq: number }>(db: Db, request: PageRequest, source: PageSource<R>, now: Date): Promise<Page<R>> {
  const totalOf = (result: D1Result | undefined) => Number((result?.results[0] as { n: number | null } | undefined)?.n ?? 0)
  if (request.afterSeq !== undefined) {
    const [rows, total] = await runBatch(db, [
      statement(source.rows({ after: sql`${request.afterSeq}`, offset: sql`0`, limit: request.count + 1 })),
      statement(sql`SELECT ${source.count} AS n`),
    ])
    const records = rows!.results.map(source.record)
    return { total: totalOf(total), rows: records.slice(0, request.count), hasMore: records.length > request.count }
  }
  const offset = request.startIndex - 1
  if (request.count === 0) return { total: totalOf((await runBatch(db, [statement(sql`SELECT ${source.count} AS n`)]))[0]), rows: [], hasMore: false }
  const marked = !request.sorted && offset > 0
  const end = offset + request.count
  // The mark's lookup is bound once per statement (a CTE), so a filter may still use MAX_FILTER_PARAMS.
  const withMark = (query: SQL) =>
    sql`WITH mark AS (SELECT seq FROM page_marks WHERE tenant_id = ${request.tenantId} AND query_key = ${request.queryKey}
      AND position = ${offset} AND expires_at > ${now.toISOString()}) ${query}`
  const markSeq = sql`(SELECT seq FROM mark)`
  // A filtered first page that is not full holds the whole result (the usual `userName eq` lookup), so
  // its total is counted only when the page is full; every other page reads its total in the batch.
  const eagerTotal = !request.filtered || offset > 0
  const statements: Statement[] = []
  const add = (query: SQL) => statements.push(statement(query)) - 1
  // The mark this page starts at, if any (its seq and the total it cached).
  const markIndex = marked
    ? add(sql`SELECT seq, total FROM page_marks WHERE tenant_id = ${request.tenantId} AND query_key = ${request.queryKey}
        AND position = ${offset} AND expires_at > ${now.toISOString()}`)
    : -1
  // The rows, after the mark when there is one.
  const rowsIndex = add(
    marked
      ? withMark(source.rows({ after: sql`coalesce(${markSeq}, 0)`, offset: sql`CASE WHEN ${markSeq} IS NULL THEN ${offset} ELSE 0 END`, limit: request.count }))
      : source.rows({ offset: sql`${offset}`, limit: request.count }),
  )
  // The mark this page would save, so that an identical one is not written again (a page asked for again).
  const probe = sql`SELECT seq, total, expires_at AS expiresAt FROM page_marks WHERE tenant_id = ${request.tenantId} AND query_key = ${request.queryKey} AND position = ${end}`
  const savedIndex = !request.sorted && eagerTotal ? add(probe) : -1
  // The total; a filtered one is counted only when no mark carries it.
  const totalIndex = eagerTotal
    ? add(request.filtered && marked ? withMark(sql`SELECT CASE WHEN ${markSeq} IS NULL THEN ${source.count} END AS n`) : sql`SELECT ${source.count} AS n`)
    : -1
  const results = await runBatch(db, statements)
  const mark = markIndex < 0 ? undefined : (results[markIndex]!.results[0] as { seq: number; total: number } | undefined)
  const rows = results[rowsIndex]!.results.map(source.record)
  let total: number
  let saved = savedIndex < 0 ? undefined : results[savedIndex]!.results[0]
  if (mark && request.filtered) total = mark.total
  else if (eagerTotal) total = totalOf(results[totalIndex])
  else if (rows.length < request.count) total = rows.length
  else {
    // A full filtered first page: count now, and probe the mark it may save in the same round trip.
    const [counted, probed] = await runBatch(db, [statement(sql`SELECT ${source.count} AS n`), statement(probe)])
    total = totalOf(counted)
    saved = probed!.results[0]
  }
  const last = rows[rows.length - 1]
  if (!request.sorted && last && rows.length === request.count && end < total) {
    const m = saved as { seq: number; total: number; expiresAt: string } | undefined
    // A mark that already says the same and lives for more than half its time is left as it is.
    const fresh = m && m.seq === last.seq && m.total === total && Date.parse(m.expiresAt) - now.getTime() > MARK_TTL_MS / 2
    if (!fresh) await saveMark(db, request, end, last.seq, total, now)
  }
  return { total, rows, hasMore: end < total }
}

/**
 * Saves where this page ended and drops the marks before it: a sequential import keeps one mark (a page
 * asked for again whose mark is unchanged writes nothing, so an earlier mark may live on until it expires).
 */
async function saveMark(db: Db, request: PageRequest, position: number, seq: number, total: number, now: Date): Promise<void> {
  const expiresAt = new Date(now.getTime() + MARK_TTL_MS).toISOString()
  await runBatch(db, [
    db
      .delete(pageMarks)
      .where(and(eq(pageMarks.tenantId, request.tenantId), eq(pageMarks.queryKey, request.queryKey), lt(pageMarks.position, position))),
    db
      .insert(pageMarks)
      .values({ tenantId: request.tenantId, queryKey: request.queryKey, position, seq, total, expiresAt })
      .onConflictDoUpdate({ target: [pageMarks.tenantId, pageMarks.queryKey, pageMarks.position], set: { seq, total, expiresAt } }),
  ])
}

/** Deletes expired page marks (called by the scheduled sweep). */
export async function pruneExpiredMarks(db: Db, now: Date): Promise<number> {
  const result = await db.run(sql`DELETE FROM page_marks WHERE expires_at <= ${now.toISOString()}`)
  return result.meta.changes ?? 0
}
