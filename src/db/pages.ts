/**
 * Pagination that stays flat however deep the page (RFC 7644 §3.4.2.4, RFC 9865). Rows are ordered by
 * their per-tenant `seq`. A page of index pagination remembers where it ended (page_marks), so the
 * next sequential page is a keyset seek (`seq > S`) instead of an OFFSET scan; a page without a mark
 * (a jump, or a sorted query) falls back to OFFSET. Seeking also means rows deleted or inserted during
 * an import never make it skip or repeat a row that existed throughout.
 */
import { and, eq, gt, lt, sql } from 'drizzle-orm'
import { runBatch } from './batch.ts'
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

/** How to read the rows and the total of one resource type. */
export interface PageSource<R extends { seq: number }> {
  total(): Promise<number>
  rows(range: { afterSeq?: number; offset?: number; limit: number }): Promise<R[]>
}

/** A page of rows, the total, and (cursor mode) whether more follow. */
export interface Page<R> {
  total: number
  rows: R[]
  hasMore: boolean
}

/** Reads one page; see the module comment for the strategy. */
export async function readPage<R extends { seq: number }>(db: Db, request: PageRequest, source: PageSource<R>, now: Date): Promise<Page<R>> {
  if (request.afterSeq !== undefined) {
    const [total, rows] = await Promise.all([source.total(), source.rows({ afterSeq: request.afterSeq, limit: request.count + 1 })])
    return { total, rows: rows.slice(0, request.count), hasMore: rows.length > request.count }
  }
  const offset = request.startIndex - 1
  const mark = !request.sorted && offset > 0 ? await findMark(db, request, offset, now) : undefined
  if (request.count === 0) return { total: mark && request.filtered ? mark.total : await source.total(), rows: [], hasMore: false }
  const rows = mark ? await source.rows({ afterSeq: mark.seq, limit: request.count }) : await source.rows({ offset, limit: request.count })
  // A first page that is not full holds the whole result, so its total needs no count: the usual
  // `userName eq` lookup is one query.
  const total = mark && request.filtered ? mark.total : offset === 0 && rows.length < request.count ? rows.length : await source.total()
  const end = offset + rows.length
  const last = rows[rows.length - 1]
  if (!request.sorted && last && rows.length === request.count && end < total) await saveMark(db, request, end, last.seq, total, now)
  return { total, rows, hasMore: end < total }
}

async function findMark(db: Db, request: PageRequest, position: number, now: Date) {
  return db
    .select({ seq: pageMarks.seq, total: pageMarks.total })
    .from(pageMarks)
    .where(
      and(
        eq(pageMarks.tenantId, request.tenantId),
        eq(pageMarks.queryKey, request.queryKey),
        eq(pageMarks.position, position),
        gt(pageMarks.expiresAt, now.toISOString()),
      ),
    )
    .get()
}

/** Saves where this page ended and drops the marks before it: a sequential import keeps one mark. */
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
