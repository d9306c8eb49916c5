/**
 * Webhook delivery figures (`npm run bench:webhooks [-- --changes 10000 --deactivations 1000]`): the Worker
 * under `wrangler dev` with its real queues and D1, receivers on 127.0.0.1.
 *
 * 1. Flaky receiver: answers 500 to a random 30% of deliveries and never answers 5% (the sender's
 *    timeout fires); N user changes (creates, title updates, M deactivations). Prints whether every
 *    event was accepted, per-user order violations, duplicates, dead and pending deliveries.
 * 2. Healthy receiver: the lag from commit (the event's time) to arrival, p50/p95/p99/max, with the
 *    changes offered at `--lag-rate` per second (default 100, four Entra tenants at their 25 requests
 *    per second): a lag taken at saturation would measure the queue in front of a busy Worker.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { newWebhookSecret } from '../src/signals/standard-webhooks.ts'
import type { AppEvent } from '../src/signals/event.ts'
import type { WebhookConfig } from '../src/tenants/document.ts'
import { startReceiver } from '../test/node/webhook-receiver.ts'
import { APP_API_KEY, startTestWorker, type TestWorker } from '../test/node/worker-server.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

const { values } = parseArgs({
  options: {
    changes: { type: 'string', default: '10000' },
    deactivations: { type: 'string', default: '1000' },
    lag: { type: 'string', default: '1000' },
    'lag-rate': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '25' },
  },
})
const CHANGES = Number(values.changes)
const DEACTIVATIONS = Number(values.deactivations)
const LAG_CHANGES = Number(values.lag)
/** Changes per second offered in the lag phase (open loop): lag is measured below saturation. */
const LAG_RATE = Number(values['lag-rate'])
const CONCURRENCY = Number(values.concurrency)

function hook(id: string, url: string): WebhookConfig {
  const createdAt = new Date(Date.now() - 60_000).toISOString()
  return {
    id,
    url: `${url}/in`,
    events: ['*'],
    format: 'standard',
    secrets: [{ secret: newWebhookSecret(), createdAt }],
    createdAt,
  }
}

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!)
    }),
  )
}

function client(worker: TestWorker, tenant: number) {
  const t = worker.tenants[tenant]!
  const headers = { authorization: `Bearer ${t.bearerToken}`, 'content-type': 'application/scim+json' }
  const base = `${worker.url}/scim/v2/${t.id}`
  return {
    async create(userName: string): Promise<string> {
      const res = await fetch(`${base}/Users`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ schemas: [USER], userName }),
      })
      if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`)
      return ((await res.json()) as { id: string }).id
    },
    async patch(id: string, op: { path: string; value: unknown }) {
      const res = await fetch(`${base}/Users/${id}`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify({ schemas: [PATCH], Operations: [{ op: 'replace', ...op }] }),
      })
      if (res.status !== 200) throw new Error(`patch answered ${res.status}`)
      await res.arrayBuffer()
    },
    async app(path: string) {
      const res = await fetch(`${worker.url}/app/v1/${t.id}${path}`, {
        headers: { authorization: `Bearer ${APP_API_KEY}` },
      })
      return res.json() as Promise<Record<string, unknown>>
    },
    async events(): Promise<AppEvent[]> {
      const out: AppEvent[] = []
      let cursor = ''
      for (;;) {
        const page = (await this.app(`/events?after=${cursor}&limit=1000`)) as unknown as {
          events: AppEvent[]
          cursor: string
          more: boolean
        }
        out.push(...page.events)
        if (!page.more) return out
        cursor = page.cursor
      }
    },
  }
}

/**
 * Creates, title updates and deactivations adding up to `changes`, as fast as CONCURRENCY connections
 * go or, with `rate`, started at that many per second; returns the number driven and the seconds it took.
 */
async function drive(
  c: ReturnType<typeof client>,
  changes: number,
  deactivations: number,
  prefix: string,
  rate?: number,
) {
  const creates = Math.max(deactivations, Math.round((changes - deactivations) * 0.45))
  const updates = changes - creates - deactivations
  const started = Date.now()
  let issued = 0
  const paced = async <T>(work: () => Promise<T>): Promise<T> => {
    if (rate) {
      const at = started + (issued++ / rate) * 1000
      if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()))
    }
    return work()
  }
  const ids: string[] = []
  await pool(
    Array.from({ length: creates }, (_, i) => i),
    CONCURRENCY,
    async (i) => void ids.push(await paced(() => c.create(`${prefix}${i}@example.com`))),
  )
  await pool(
    Array.from({ length: updates }, (_, i) => i),
    CONCURRENCY,
    (i) => paced(() => c.patch(ids[i % ids.length]!, { path: 'title', value: `T${i}` })),
  )
  await pool(ids.slice(0, deactivations), CONCURRENCY, (id) =>
    paced(() => c.patch(id, { path: 'active', value: false })),
  )
  return { creates, updates, deactivations, seconds: (Date.now() - started) / 1000 }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

async function main() {
  const flaky = await startReceiver((d) => {
    void d
    const r = Math.random()
    return r < 0.05 ? 'hang' : r < 0.35 ? 500 : 200
  })
  const healthy = await startReceiver()
  const retry = '1,1,2,2,3,3,5,5,5,5,5,5,5,5,5,5'
  console.error('starting the Worker (wrangler dev)…')
  const worker = await startTestWorker(
    [
      // The SCIM rate limit (500 requests per 10 s) would pace the drive; it is not what is measured.
      {
        appUrl: 'https://app.example.com',
        settings: { rateLimitTier: 'off' },
        webhooks: [hook('wh_flaky', flaky.url)],
      },
      {
        appUrl: 'https://app.example.com',
        settings: { rateLimitTier: 'off' },
        webhooks: [hook('wh_healthy', healthy.url)],
      },
    ],
    // The cron, as in production: it wakes a webhook whose wake-up message went missing.
    { vars: { WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_RETRY_SECONDS: retry }, cron: true },
  )
  // BENCH_WORKER_LOG=file keeps what wrangler dev and the Worker printed, to see why a run missed,
  // written as the run goes (a stalled run is often stopped by hand).
  const keepLog = () => process.env.BENCH_WORKER_LOG && writeFileSync(process.env.BENCH_WORKER_LOG, worker.output())
  const logTimer = setInterval(keepLog, 5000)
  try {
    console.log(
      `webhooks, flaky receiver (500 on 30%, no answer on 5%; WEBHOOK_TIMEOUT_MS=2000, WEBHOOK_RETRY_SECONDS=${retry})`,
    )
    const f = client(worker, 0)
    const driven = await drive(f, CHANGES, DEACTIVATIONS, 'f')
    const lastChange = Date.now()
    console.log(
      `  driven: ${driven.creates} creates, ${driven.updates} updates, ${driven.deactivations} deactivations in ${driven.seconds.toFixed(1)} s (${((driven.creates + driven.updates + driven.deactivations) / driven.seconds).toFixed(0)} changes/s)`,
    )
    const events = await f.events()
    const wanted = new Set(events.map((e) => e.id))
    const deadline = Date.now() + 20 * 60_000
    while (Date.now() < deadline && new Set(flaky.accepted().map((d) => d.id)).size < wanted.size)
      await new Promise((r) => setTimeout(r, 250))
    const accepted = flaky.accepted()
    const acceptedIds = new Set(accepted.map((d) => d.id))
    const lastAccepted = Math.max(...accepted.map((d) => d.at))
    const byId = new Map(events.map((e) => [e.id, e]))
    const firstAccepted = new Map<string, number>()
    for (const d of accepted) if (!firstAccepted.has(d.id)) firstAccepted.set(d.id, d.at)
    const byUser = new Map<string, AppEvent[]>()
    for (const e of events) byUser.set(e.resource.id, [...(byUser.get(e.resource.id) ?? []), e])
    let violations = 0
    for (const d of flaky.deliveries) {
      const e = byId.get(d.id)
      if (!e) continue
      for (const earlier of byUser.get(e.resource.id)!)
        if (earlier.seq < e.seq && !((firstAccepted.get(earlier.id) ?? Infinity) <= d.at)) violations++
    }
    const unknown = flaky.deliveries.filter((d) => !byId.has(d.id)).length
    const status = ((await f.app('/webhooks')) as { webhooks: { pending: number; dead: number; delivered: number }[] })
      .webhooks[0]!
    const allDelivered = [...wanted].every((id) => acceptedIds.has(id))
    console.log(
      `  events: ${events.length}; accepted: ${acceptedIds.size} distinct (${accepted.length - acceptedIds.size} accepted twice); attempts: ${flaky.deliveries.length} (${flaky.deliveries.filter((d) => d.status === 500).length} answered 500, ${flaky.deliveries.filter((d) => d.status === null).length} unanswered)`,
    )
    console.log(
      `  last event delivered ${((lastAccepted - lastChange) / 1000).toFixed(1)} s after the last change; order violations: ${violations}; ids not among events: ${unknown}; dead: ${status.dead}, pending: ${status.pending}, delivered: ${status.delivered}`,
    )
    console.log(
      `  verdict: ${allDelivered && violations === 0 && unknown === 0 && status.dead === 0 ? 'meets' : 'MISSES'} (every event delivered, per-user order, nothing dead)`,
    )

    console.log(`webhooks, healthy receiver lag (commit to arrival), ${LAG_RATE} changes/s offered`)
    const h = client(worker, 1)
    const steady = await drive(h, LAG_CHANGES, Math.round(LAG_CHANGES / 10), 'h', LAG_RATE)
    const hEvents = await h.events()
    const hIds = new Set(hEvents.map((e) => e.id))
    const lagDeadline = Date.now() + 5 * 60_000
    while (Date.now() < lagDeadline && new Set(healthy.accepted().map((d) => d.id)).size < hIds.size)
      await new Promise((r) => setTimeout(r, 250))
    const time = new Map(hEvents.map((e) => [e.id, Date.parse(e.time)]))
    const seen = new Set<string>()
    const lags: number[] = []
    for (const d of healthy.accepted()) {
      if (seen.has(d.id) || !time.has(d.id)) continue
      seen.add(d.id)
      lags.push(d.at - time.get(d.id)!)
    }
    lags.sort((a, b) => a - b)
    const p99 = percentile(lags, 99)
    console.log(
      `  ${hEvents.length} events at ${((steady.creates + steady.updates + steady.deactivations) / steady.seconds).toFixed(0)} changes/s, ${lags.length} delivered: lag p50 ${percentile(lags, 50)} ms, p95 ${percentile(lags, 95)} ms, p99 ${p99} ms, max ${lags.at(-1)} ms`,
    )
    console.log(`  verdict: ${lags.length === hEvents.length && p99 < 2000 ? 'meets' : 'MISSES'} (p99 < 2 s)`)
  } finally {
    clearInterval(logTimer)
    keepLog()
    await worker.close()
    await flaky.close()
    await healthy.close()
  }
}

await main()
