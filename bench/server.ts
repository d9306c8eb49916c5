/**
 * Serves the bundles with Miniflare directly (not `wrangler dev`, whose proxy adds its own cost):
 * one workerd, three Workers sharing one local D1 database and one KV namespace, each on its own
 * socket on 127.0.0.1 so no Miniflare entry worker sits in front of any of them. The queues of
 * wrangler.toml are bound too: the app consumes WEBHOOKS and delivers to webhooks as deployed.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Miniflare, convertV4MiniflareOptions } from 'miniflare'
import type { Bundles } from './build.ts'

/** Log lines the Workers wrote during the run (the app logs one per request). */
export const logs = { lines: 0, errors: 0 }

export interface Served {
  mf: Miniflare
  urls: { app: string; instrumented: string; baseline: string }
  d1: D1Database
  kv: KVNamespace
}

/** compatibility_date, compatibility_flags and [vars] of wrangler.toml (flat keys only). */
export function readWranglerToml(repoRoot: string): { date: string; flags: string[]; vars: Record<string, string> } {
  const text = readFileSync(join(repoRoot, 'wrangler.toml'), 'utf8')
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? '2026-11-01'
  const flagsText = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1] ?? ''
  const flags = [...flagsText.matchAll(/"([^"]+)"/g)].map((m) => m[1]!)
  const vars: Record<string, string> = {}
  const section = /^\[vars\]\s*$([\s\S]*?)(?=^\[)/m.exec(text)?.[1] ?? ''
  for (const m of section.matchAll(/^(\w+)\s*=\s*"([^"]*)"/gm)) vars[m[1]!] = m[2]!
  return { date, flags, vars }
}

/** A queue consumer as wrangler.toml declares it ([[queues.consumers]]). */
export interface QueueConsumer {
  queue: string
  maxBatchSize?: number
  maxBatchTimeout?: number
  maxRetries?: number
  deadLetterQueue?: string
}

/** [[queues.producers]] (binding → queue) and [[queues.consumers]] of wrangler.toml (flat keys only). */
export function readWranglerQueues(repoRoot: string): {
  producers: Record<string, string>
  consumers: QueueConsumer[]
} {
  const text = readFileSync(join(repoRoot, 'wrangler.toml'), 'utf8')
  // Each table starts at a line beginning with `[`; its body is the lines up to the next one.
  const tables = text.split(/^(?=\[)/m).map((chunk) => {
    const header = /^\[\[?([^\]]+)\]\]?/.exec(chunk)?.[1] ?? ''
    const fields: Record<string, string> = {}
    for (const f of chunk.matchAll(/^(\w+)\s*=\s*(?:"([^"]*)"|([\d.]+)\s*$)/gm)) fields[f[1]!] = f[2] ?? f[3]!
    return { header, fields }
  })
  const producers: Record<string, string> = {}
  for (const { header, fields } of tables)
    if (header === 'queues.producers' && fields.binding && fields.queue) producers[fields.binding] = fields.queue
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v))
  const consumers = tables
    .filter((t) => t.header === 'queues.consumers' && t.fields.queue)
    .map(({ fields }) => ({
      queue: fields.queue!,
      maxBatchSize: num(fields.max_batch_size),
      maxBatchTimeout: num(fields.max_batch_timeout),
      maxRetries: num(fields.max_retries),
      deadLetterQueue: fields.dead_letter_queue,
    }))
  return { producers, consumers }
}

/** Starts workerd with the three Workers and applies migrations/*.sql to the fresh D1 database. */
export async function serve(
  repoRoot: string,
  bundles: Bundles,
  options: { storageDir?: string; oauthSigningKeys?: string; vars?: Record<string, string> } = {},
): Promise<Served> {
  const { date, flags, vars } = readWranglerToml(repoRoot)
  const queues = readWranglerQueues(repoRoot)
  // Every producer of wrangler.toml on every Worker. The app consumes WEBHOOKS as wrangler.toml says
  // (batch size, timeout, retries, dead letter queue); the instrumented Worker consumes the webhook
  // dead letter queue, which has no consumer in production, so the bench can count what lands there
  // (bench/instrumented-entry.ts). INVITES has no consumer here: no bench tenant sends invites.
  const webhooksConsumer = queues.consumers.find((c) => c.queue === queues.producers.WEBHOOKS)
  if (!webhooksConsumer || !queues.producers.WEBHOOKS_DLQ)
    throw new Error('wrangler.toml declares no WEBHOOKS producer and consumer or no WEBHOOKS_DLQ producer')
  const { queue: webhooksQueue, ...webhooksOptions } = webhooksConsumer
  const queueConsumers: Record<string, Record<string, Omit<QueueConsumer, 'queue'>>> = {
    app: { [webhooksQueue]: webhooksOptions },
    instrumented: { [queues.producers.WEBHOOKS_DLQ]: { maxBatchSize: 100, maxBatchTimeout: 1 } },
  }
  const worker = (name: string, script: string) => ({
    name,
    modules: true,
    modulesRoot: bundles.dir,
    scriptPath: join(bundles.dir, script),
    compatibilityDate: date,
    compatibilityFlags: flags,
    d1Databases: { DB: 'bench-db' },
    kvNamespaces: { TENANTS: 'bench-tenants' },
    queueProducers: Object.fromEntries(
      Object.entries(queues.producers).map(([binding, queueName]) => [binding, { queueName }]),
    ),
    ...(queueConsumers[name] ? { queueConsumers: queueConsumers[name] } : {}),
    // No RATE_LIMITER binding: the bench measures the service, not the per-tenant limiter.
    bindings: {
      ...vars,
      MAIL_API_KEY: 'bench-mail-key',
      INVITE_TOKEN_KEY: 'bench-invite-token-key',
      // The token endpoint's signing keys, a JWK set made for this run (bench/run.ts); nothing is committed.
      ...(options.oauthSigningKeys ? { OAUTH_SIGNING_KEYS: options.oauthSigningKeys } : {}),
      // The webhook delivery settings of the run (WEBHOOK_TIMEOUT_MS, WEBHOOK_RETRY_SECONDS; bench/webhooks.ts).
      ...options.vars,
    },
    // The failed-authentication limiters, as wrangler.toml declares them: they are only consulted when a
    // credential is refused, so a refused request answers 401 (and a flood of them 429) as in production
    // instead of 503 for a missing binding. No timed request is refused. The app API's limiter too, as
    // wrangler.toml declares it: the webhook rows read the event feed and the webhooks' progress through it.
    ratelimits: {
      APP_RATE_LIMITER: { namespace_id: '1002', simple: { limit: 300, period: 10 } },
      AUTH_FAILURES_BY_ADDRESS: { namespace_id: '1003', simple: { limit: 20, period: 60 } },
      AUTH_FAILURES_BY_TENANT: { namespace_id: '1004', simple: { limit: 200, period: 60 } },
    },
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
  })
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      cf: false,
      // Local D1 and KV live in files; where (tmpfs or disk) is the caller's choice (bench/storage.ts).
      ...(options.storageDir ? { resourcePersistencePath: options.storageDir } : {}),
      verbose: false,
      // The app logs a line per request; echoing 100,000s of them would load the machine being measured.
      // Errors still reach stderr (at most 20, then a count).
      handleStructuredLogs: (entry: { level: string; message: string }) => {
        logs.lines++
        if (entry.level === 'error' && logs.errors++ < 20) process.stderr.write(`workerd: ${entry.message}\n`)
      },
      workers: [
        worker('app', bundles.app),
        worker('instrumented', bundles.instrumented),
        worker('baseline', bundles.baseline),
      ],
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  )
  await mf.ready
  const url = async (name: string) => (await mf.unsafeGetDirectURL(name)).origin
  const urls = { app: await url('app'), instrumented: await url('instrumented'), baseline: await url('baseline') }
  const d1 = (await mf.getD1Database('DB', 'app')) as unknown as D1Database
  const kv = (await mf.getKVNamespace('TENANTS', 'app')) as unknown as KVNamespace
  await applyMigrations(repoRoot, d1)
  return { mf, urls, d1, kv }
}

/** Applies every migrations/*.sql in name order (as wrangler does), split on drizzle-kit's statement breakpoints. */
async function applyMigrations(repoRoot: string, d1: D1Database): Promise<void> {
  const files = readdirSync(join(repoRoot, 'migrations'))
    .filter((f) => f.endsWith('.sql'))
    .sort()
  for (const file of files) {
    const sql = readFileSync(join(repoRoot, 'migrations', file), 'utf8')
    const statements = sql
      .split('--> statement-breakpoint')
      .map((s) => s.trim())
      .filter(Boolean)
    await d1.batch(statements.map((s) => d1.prepare(s)))
  }
}
