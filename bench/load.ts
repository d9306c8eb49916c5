/**
 * Load generation. Throughput and fixed-rate runs use autocannon (closed loop: a fixed number of
 * keep-alive connections, each sending its next request when the last answer arrives; with
 * `overallRate` autocannon paces them to a fixed total rate). Latencies are taken from autocannon's
 * `response` event (hrtime, fractional ms, every status) rather than its integer-ms histogram, so
 * sub-millisecond figures and ratios stay meaningful. Requests that must run one after another (an
 * import, a big PATCH) go through fetch, one at a time, timed around each call.
 */
import autocannon from 'autocannon'

/** One HTTP request of a workload; `path` includes the query string. */
export interface Req {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  headers: Record<string, string>
  body?: string
}

/** What a load run measured. Latencies in ms. */
export interface LoadResult {
  requests: number
  seconds: number
  rps: number
  p50: number
  p99: number
  mean: number
  errors: number
  statuses: Record<string, number>
  firstError?: string
}

/** The q-quantile (0..1) of ascending `sorted`, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

function summarise(
  latencies: number[],
  seconds: number,
  errors: number,
  statuses: Record<string, number>,
  firstError?: string,
): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b)
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1)
  return {
    requests: sorted.length,
    seconds,
    rps: sorted.length / seconds,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    mean,
    errors,
    statuses,
    firstError,
  }
}

/** A load run's result and every latency it recorded (ms, in arrival order), for pooling rounds. */
export interface LoadSamples {
  result: LoadResult
  latencies: number[]
}

function cannon(
  origin: string,
  next: () => Req,
  opts: { connections: number; seconds: number; rate?: number },
): Promise<LoadSamples> {
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let errors = 0
  let firstError: string | undefined
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: origin,
        connections: opts.connections,
        duration: opts.seconds,
        overallRate: opts.rate,
        // Raw latencies are recorded below; autocannon's own histogram is not used.
        ignoreCoordinatedOmission: opts.rate !== undefined,
        timeout: 30,
        requests: [
          {
            // Keep autocannon's defaults (its Host header above all) under the workload's request.
            setupRequest: (request) => {
              const req = next()
              return {
                ...request,
                method: req.method,
                path: req.path,
                body: req.body,
                headers: { ...request.headers, ...req.headers },
              }
            },
            onResponse: (status, body, _context, _headers) => {
              if (status >= 300 && firstError === undefined) firstError = `${status} ${body.slice(0, 300)}`
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error)
        errors += result.errors + result.timeouts
        resolve({ result: summarise(latencies, result.duration, errors, statuses, firstError), latencies })
      },
    )
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      latencies.push(ms)
      statuses[status] = (statuses[status] ?? 0) + 1
      if (status >= 300) errors++
    })
  })
}

/** Closed loop at `connections` concurrency for `seconds`, after `warmupSeconds` that are thrown away. */
export async function closedLoop(
  origin: string,
  next: () => Req,
  opts: { connections: number; seconds: number; warmupSeconds: number },
): Promise<LoadResult> {
  return (await closedLoopSamples(origin, next, opts)).result
}

/** closedLoop, keeping the latencies of the timed part (not of the warm-up) for pooling rounds. */
export async function closedLoopSamples(
  origin: string,
  next: () => Req,
  opts: { connections: number; seconds: number; warmupSeconds: number },
): Promise<LoadSamples> {
  if (opts.warmupSeconds > 0) await cannon(origin, next, { connections: opts.connections, seconds: opts.warmupSeconds })
  return cannon(origin, next, opts)
}

/**
 * Several rounds of one workload as one figure: requests and seconds summed (so `rps` is the ratio of
 * the sums, all requests ÷ all timed seconds), p50/p99/mean over the pooled latencies, errors and
 * statuses added up.
 */
export function pool(rounds: LoadSamples[]): LoadResult {
  const statuses: Record<string, number> = {}
  for (const r of rounds)
    for (const [status, n] of Object.entries(r.result.statuses)) statuses[status] = (statuses[status] ?? 0) + n
  return summarise(
    rounds.flatMap((r) => r.latencies),
    rounds.reduce((s, r) => s + r.result.seconds, 0),
    rounds.reduce((s, r) => s + r.result.errors, 0),
    statuses,
    rounds.find((r) => r.result.firstError !== undefined)?.result.firstError,
  )
}

/** `rate` requests per second in total for `seconds`, over `connections` connections. */
export async function fixedRate(
  origin: string,
  next: () => Req,
  opts: { rate: number; seconds: number; connections: number },
): Promise<LoadResult> {
  return (await cannon(origin, next, opts)).result
}

/** Sends one request with fetch and times it; a status other than `expect` throws. */
export async function timed(
  origin: string,
  req: Req,
  expect: number[] = [200],
): Promise<{ ms: number; status: number; body: string; headers: Headers }> {
  const start = performance.now()
  const res = await fetch(origin + req.path, { method: req.method, headers: req.headers, body: req.body })
  const body = await res.text()
  const ms = performance.now() - start
  if (!expect.includes(res.status))
    throw new Error(
      `${req.method} ${req.path.slice(0, 120)}: expected ${expect.join('/')}, got ${res.status} ${body.slice(0, 300)}`,
    )
  return { ms, status: res.status, body, headers: res.headers }
}
