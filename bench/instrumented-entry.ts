/**
 * The Worker that bench/run.ts sends one copy of each request to, to learn what production pays for:
 * the D1 rows read and written (D1's result meta, summed over every query of the request). It wraps
 * scim-edge's own default export (and the baseline for /u/...) unchanged and gives them a D1 binding
 * whose transport records the meta of every response, so queries run through drizzle's `raw()`
 * (whose D1Result meta D1 drops) are counted too. Timed runs never go through this Worker.
 *
 * Response headers: x-d1-rows-read, x-d1-rows-written, x-d1-statements, x-d1-round-trips.
 *
 * It also takes the seed data: `POST /__bench/batch` with `[{ sql, params }]` runs them as one D1
 * batch. Plain HTTP on 127.0.0.1 is far faster for 100,000 rows than Miniflare's Node-side D1 proxy.
 * It also consumes the webhook dead letter queue (which has no consumer in production): what lands
 * there is kept in memory and `GET /__bench/dlq` returns it, so the webhook rows can check that
 * nothing did.
 *
 * This Worker exists only inside `npm run bench`; it is never deployed.
 */
import scim from '../src/index.ts'
import type { Env } from '../src/runtime/env.ts'
import baseline from './baseline/index.ts'

interface Tally {
  rowsRead: number
  rowsWritten: number
  statements: number
  roundTrips: number
}

/** What a D1Database binding holds inside workerd: the Fetcher that speaks D1's HTTP protocol. */
interface D1Internals {
  fetcher: Fetcher
  constructor: new (fetcher: { fetch: typeof fetch }) => D1Database
}

interface D1WireResult {
  meta?: { rows_read?: number; rows_written?: number }
}

/** A D1 binding over the same database whose every response adds its meta to `tally`. */
function countingD1(db: D1Database, tally: Tally): D1Database {
  const internals = db as unknown as D1Internals
  if (!internals.fetcher || typeof internals.fetcher.fetch !== 'function') {
    throw new Error('bench: this workerd D1 binding has no fetcher; rows cannot be counted')
  }
  const fetcher = {
    fetch: async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const response = await internals.fetcher.fetch(input as RequestInfo, init as RequestInit)
      tally.roundTrips++
      const body = (await response.clone().json()) as D1WireResult | D1WireResult[]
      for (const result of Array.isArray(body) ? body : [body]) {
        tally.statements++
        tally.rowsRead += result.meta?.rows_read ?? 0
        tally.rowsWritten += result.meta?.rows_written ?? 0
      }
      return response
    },
  }
  return new internals.constructor(fetcher)
}

/** Messages of the dead letter queues this Worker consumes, in arrival order (one isolate: module state). */
const deadLetters: { queue: string; body: unknown }[] = []

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const path = new URL(request.url).pathname
    if (path === '/__bench/dlq' && request.method === 'GET') return Response.json({ messages: deadLetters })
    if (path === '/__bench/batch' && request.method === 'POST') {
      const statements = (await request.json()) as { sql: string; params: unknown[] }[]
      const results = await env.DB.batch(statements.map((s) => env.DB.prepare(s.sql).bind(...s.params)))
      return Response.json(results.map((r) => r.meta.changes))
    }
    const tally: Tally = { rowsRead: 0, rowsWritten: 0, statements: 0, roundTrips: 0 }
    const counted = { ...env, DB: countingD1(env.DB, tally) }
    const response = path.startsWith('/u/')
      ? await baseline.fetch(request, counted, ctx)
      : await scim.fetch(request, counted, ctx)
    const out = new Response(response.body, response)
    out.headers.set('x-d1-rows-read', String(tally.rowsRead))
    out.headers.set('x-d1-rows-written', String(tally.rowsWritten))
    out.headers.set('x-d1-statements', String(tally.statements))
    out.headers.set('x-d1-round-trips', String(tally.roundTrips))
    return out
  },
  async queue(batch: MessageBatch<unknown>): Promise<void> {
    for (const m of batch.messages) {
      deadLetters.push({ queue: batch.queue, body: m.body })
      m.ack()
    }
  },
} satisfies ExportedHandler<Env, unknown>
