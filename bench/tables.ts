/** The shape of a bench result (the JSON under bench/results/) and its rendering as stdout tables. */
import type { ContentionFigure, ContentionResult } from './contention.ts'
import type { LoadResult } from './load.ts'
import { count, ms, ratio, table, type Machine } from './report.ts'

/** D1 rows per request, from the instrumented Worker (means over `samples` requests). */
export interface RowsFigure {
  read: number
  written: number
  statements: number
  roundTrips: number
  samples: number
}

/** A request timed on its own: the median of `all` (ms). */
export interface SingleFigure {
  ms: number
  all: number[]
}

/** The OAuth target: GET /Users/{id} with an access token at ≥ 0.95× the rate with the static bearer token. */
export const OAUTH_TARGET = 0.95

/** One side of the bearer-vs-OAuth comparison: its rounds pooled (see `ratioOf`), and each round. */
export type PooledLoad = LoadResult & { rounds: LoadResult[] }

/** OAuth 2.0 figures: the same GET with either token, and the token endpoint (bench/run.ts). */
export interface OAuthFigures {
  getUser: {
    /** Closed-loop rounds per side. */
    rounds: number
    order: string
    /** How rounds are combined into each side's figure and so into `ratio`. */
    ratioOf: string
    bearer: PooledLoad
    oauth: PooledLoad
    /** oauth.rps ÷ bearer.rps. */
    ratio: number
    target: number
    meets: boolean
  }
  /** Closed-loop POST /oauth/{tenant}/token, client_secret_basic. */
  token: LoadResult
}

export interface BenchResult {
  version: 1
  mode: 'full' | 'quick'
  at: string
  seconds: number
  machine: Machine
  /** Load averages when the run started. */
  loadBefore: number[]
  /** Where local D1 and KV lived (bench/storage.ts). */
  storage: string
  config: unknown
  seed: { seconds: number; tenants: number }
  verification: { check: string; ok: true }[]
  limit: { closed: LoadResult; single: { ms: number; mean: number; samples: number }; atMixedRate: LoadResult }
  closed: Record<string, LoadResult>
  oauth: OAuthFigures
  single: Record<string, SingleFigure>
  import: { pages: number; pageSize: number; users: number; totalSeconds: number; pageMs: number[] }
  mixed: LoadResult & { tenants: number; ratePerTenant: number; mix: { what: string; pct: number }[] }
  /** Concurrent PATCHes to one user and one group without If-Match (bench/contention.ts). */
  contention: ContentionResult
  rows: Record<string, RowsFigure>
  notes: string[]
}

/** Every workload the issue names, with the label the tables use. */
export const WORKLOADS = {
  'users.get': 'GET /Users/{id}',
  'users.filter': 'GET /Users?filter=userName eq "…"',
  'users.create': 'POST /Users',
  'users.deactivate': 'PATCH /Users/{id} active=false',
  'groups.list': 'GET /Groups?excludedAttributes=members',
  'users.get.bearer': 'GET /Users/{id}, static bearer token',
  'users.get.oauth': 'GET /Users/{id}, OAuth access token',
  'oauth.token': 'POST /oauth/{tenant}/token (client_secret_basic)',
  'import.first': 'import: first page',
  'import.middle': 'import: middle page',
  'import.last': 'import: last page',
  'groups.patch.big': 'PATCH /Groups +members (big group)',
  'groups.patch.empty': 'PATCH /Groups +members (empty group)',
  mixed: 'mixed Okta-like workload',
  contention: 'contention: 20 concurrent PATCHes to one user, then to one group',
} as const

/** The stdout report: four tables, every figure absolute and as a ratio to the limit. */
export function renderTables(r: BenchResult): string {
  const limit = r.limit.closed
  const cfg = r.config as { connections: number; big: { bigGroupMembers: number }; patchMembers: number }
  const out: string[] = []
  const m = r.machine
  out.push(
    `scim-edge bench (${r.mode}) ${r.at}, commit ${m.commit}${m.dirty ? ' + uncommitted src changes' : ''}`,
    `machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB; node ${m.node}, workerd ${m.workerd}, miniflare ${m.miniflare}, autocannon ${m.autocannon}; load average ${r.loadBefore[0]} before, ${m.loadAverage[0]} after; local D1/KV storage: ${r.storage}`,
    `seeded ${count(r.import.users)} users in the big tenant + ${r.seed.tenants - 1} mixed-workload tenants in ${r.seed.seconds.toFixed(1)} s; ${r.verification.length} read-back checks passed${r.contention.failures.length ? `, ${r.contention.failures.length} contention checks FAILED (see Contention)` : ''}`,
    `limit = bare Hono + D1 point query (bench/baseline), served the same way in the same run. ×limit: rate / limit rate, time / limit time, rows / limit rows.`,
    '',
    `Throughput: closed loop, ${cfg.connections} connections (limit: ${count(Math.round(limit.rps))} req/s, p50 ${ms(limit.p50)} ms, p99 ${ms(limit.p99)} ms)`,
  )
  const closedRows = Object.entries(r.closed).map(([key, l]) => [
    WORKLOADS[key as keyof typeof WORKLOADS] ?? key,
    count(Math.round(l.rps)),
    ratio(l.rps, limit.rps),
    ms(l.p50),
    ratio(l.p50, limit.p50),
    ms(l.p99),
    ratio(l.p99, limit.p99),
    count(l.errors),
  ])
  closedRows.unshift([
    'limit: GET /u/{id} point query',
    count(Math.round(limit.rps)),
    '1.00×',
    ms(limit.p50),
    '1.00×',
    ms(limit.p99),
    '1.00×',
    count(limit.errors),
  ])
  out.push(table(['workload', 'req/s', '×limit', 'p50 ms', '×limit', 'p99 ms', '×limit', 'errors'], closedRows), '')

  out.push(...renderOAuth(r.oauth, limit, cfg.connections), '')

  const one = r.limit.single.ms
  out.push(`One request at a time (limit: one point query takes ${ms(one)} ms, median of ${r.limit.single.samples})`)
  const singleRows = Object.entries(r.single).map(([key, s]) => [
    WORKLOADS[key as keyof typeof WORKLOADS] ?? key,
    ms(s.ms),
    ratio(s.ms, one),
    key.startsWith('groups.patch')
      ? `median of ${s.all.length} alternating rounds`
      : s.all.length > 1
        ? `median of ${s.all.length}`
        : '',
  ])
  singleRows.push([
    `import: all ${count(r.import.users)} users, ${count(r.import.pages)} pages of ${r.import.pageSize}`,
    ms(r.import.totalSeconds * 1000),
    ratio(r.import.totalSeconds * 1000, one * r.import.pages),
    `${r.import.totalSeconds.toFixed(1)} s; ×limit vs ${count(r.import.pages)} point queries`,
  ])
  out.push(table(['request', 'ms', '×limit', 'note'], singleRows))
  out.push(
    `(group PATCH adds ${count(cfg.patchMembers)} members; the big group starts at ${count(cfg.big.bigGroupMembers)})`,
    '',
  )

  const x = r.mixed
  const lr = r.limit.atMixedRate
  const offered = x.tenants * x.ratePerTenant
  out.push(
    `Mixed Okta-like workload: ${x.tenants} tenants × ${x.ratePerTenant} req/s = ${offered} req/s offered for ${x.seconds.toFixed(0)} s (limit at the same rate: ${count(Math.round(lr.rps))} req/s, p50 ${ms(lr.p50)} ms, p99 ${ms(lr.p99)} ms)`,
  )
  out.push(
    table(
      ['requests', 'req/s achieved', '×limit', 'errors', 'p50 ms', '×limit', 'p99 ms', '×limit'],
      [
        [
          count(x.requests),
          count(Math.round(x.rps)),
          ratio(x.rps, lr.rps),
          count(x.errors),
          ms(x.p50),
          ratio(x.p50, lr.p50),
          ms(x.p99),
          ratio(x.p99, lr.p99),
        ],
      ],
    ),
  )
  if (x.rps < 0.95 * offered)
    out.push(
      `NOT SUSTAINED: ${count(Math.round(x.rps))} of ${offered} req/s offered (${count(Math.round(x.rps / x.tenants))} per tenant; Entra asks for 25)`,
    )
  out.push(`mix: ${x.mix.map((k) => `${k.pct}% ${k.what}`).join('; ')}`, '')

  out.push(...renderContention(r.contention), '')

  const base = r.rows.limit!
  out.push(
    `D1 rows per request (D1 result meta, summed over the request's queries; limit reads ${count(base.read)} row)`,
  )
  const rowRows = Object.entries(r.rows)
    .filter(([key]) => key !== 'limit')
    .map(([key, f]) => [
      WORKLOADS[key as keyof typeof WORKLOADS] ?? key,
      count(f.read),
      ratio(f.read, base.read),
      count(f.written),
      count(f.statements),
      count(f.roundTrips),
      count(f.samples),
    ])
  rowRows.unshift([
    'limit: GET /u/{id} point query',
    count(base.read),
    '1.00×',
    count(base.written),
    count(base.statements),
    count(base.roundTrips),
    count(base.samples),
  ])
  out.push(table(['request', 'rows read', '×limit', 'rows written', 'statements', 'round trips', 'samples'], rowRows))
  for (const note of r.notes) out.push(`note: ${note}`)
  out.push('', ...renderTargets(r))
  return out.join('\n') + '\n'
}

/** One target of the bench: what it asks, the figure this run measured, and whether it was met. */
export interface TargetVerdict {
  target: string
  figure: string
  met: boolean
}

/** Every target the bench measures (bench/README.md says where each comes from), judged on this run. */
export function targetVerdicts(r: BenchResult): TargetVerdict[] {
  const get = r.closed['users.get']
  const filter = r.closed['users.filter']
  const first = r.single['import.first']?.ms
  const last = r.single['import.last']?.ms
  const big = r.single['groups.patch.big']?.ms
  const empty = r.single['groups.patch.empty']?.ms
  const offered = r.mixed.tenants * r.mixed.ratePerTenant
  const pageRows = ['import.first', 'import.middle', 'import.last'].map((k) => r.rows[k]?.read ?? Infinity)
  const patchStatements = Math.max(
    r.rows['groups.patch.big']?.statements ?? Infinity,
    r.rows['groups.patch.empty']?.statements ?? Infinity,
  )
  const verdicts: TargetVerdict[] = []
  if (get && filter) {
    const p50 = filter.p50 / get.p50
    const rate = get.rps / filter.rps
    verdicts.push({
      target: 'filter userName eq within 1.3× of GET by id (p50 and rate)',
      figure: `p50 ${p50.toFixed(2)}×, rate ${rate.toFixed(2)}×`,
      met: p50 <= 1.3 && rate <= 1.3,
    })
  }
  if (first !== undefined && last !== undefined)
    verdicts.push({
      target: 'import: last page at most 1.5× the first',
      figure: `${ms(last)} vs ${ms(first)} ms (${(last / first).toFixed(2)}×)`,
      met: last <= 1.5 * first,
    })
  if (first !== undefined)
    verdicts.push({
      target: `import: all ${count(r.import.pages)} pages at most 1.5× pages × first page`,
      figure: `${r.import.totalSeconds.toFixed(1)} s vs ${((r.import.pages * first) / 1000).toFixed(1)} s`,
      met: r.import.totalSeconds * 1000 <= 1.5 * r.import.pages * first,
    })
  verdicts.push({
    target: `D1 rows read per import page at most count + 10 = ${r.import.pageSize + 10}`,
    figure: `${count(Math.max(...pageRows))} at most`,
    met: Math.max(...pageRows) <= r.import.pageSize + 10,
  })
  if (big !== undefined && empty !== undefined)
    verdicts.push({
      target: 'group PATCH +members: big group at most 1.5× an empty group',
      figure: `${ms(big)} vs ${ms(empty)} ms (${(big / empty).toFixed(2)}×)`,
      met: big <= 1.5 * empty,
    })
  verdicts.push({
    target: 'group PATCH +members: a handful of D1 statements (at most 10), whatever the size',
    figure: `${count(patchStatements)} statements`,
    met: patchStatements <= 10,
  })
  verdicts.push({
    target: `mixed workload: at least 95% of ${offered} req/s offered, no errors`,
    figure: `${count(Math.round(r.mixed.rps))} req/s (${Math.round((100 * r.mixed.rps) / offered)}%), ${count(r.mixed.errors)} errors`,
    met: r.mixed.rps >= 0.95 * offered && r.mixed.errors === 0,
  })
  verdicts.push({
    target: `GET /Users/{id} with an OAuth access token at least ${OAUTH_TARGET}× the static bearer rate`,
    figure: `${r.oauth.getUser.ratio.toFixed(2)}×`,
    met: r.oauth.getUser.meets,
  })
  verdicts.push({
    target: 'contention: every concurrent PATCH answered 2xx and kept',
    figure: r.contention.failures.length ? `${r.contention.failures.length} checks failed` : 'all kept',
    met: r.contention.failures.length === 0,
  })
  return verdicts
}

/** The closing table: each target, its figure, met or not, and how many were met. */
function renderTargets(r: BenchResult): string[] {
  const verdicts = targetVerdicts(r)
  const met = verdicts.filter((v) => v.met).length
  return [
    `Targets${r.mode === 'quick' ? ' (quick sizes: a check that the bench works, not the verdict of a full run)' : ''}`,
    table(
      ['target', 'figure', 'verdict'],
      verdicts.map((v) => [v.target, v.figure, v.met ? 'met' : 'NOT MET']),
    ),
    `${met} of ${verdicts.length} targets met`,
  ]
}

/** The OAuth table: the same GET with the static bearer token and with an access token, the ratio and its verdict, the token endpoint. */
function renderOAuth(o: OAuthFigures, limit: LoadResult, connections: number): string[] {
  const g = o.getUser
  const line = (label: string, l: LoadResult, note: string) => [
    label,
    count(l.requests),
    count(Math.round(l.rps)),
    ratio(l.rps, limit.rps),
    ms(l.p50),
    ms(l.p99),
    count(l.errors),
    note,
  ]
  const perRound = (p: PooledLoad) => `per round: ${p.rounds.map((x) => count(Math.round(x.rps))).join(' / ')} req/s`
  const verdict = g.ratio >= g.target ? `meets ≥${g.target.toFixed(2)}×` : `misses ≥${g.target.toFixed(2)}×`
  return [
    `OAuth 2.0: closed loop, ${connections} connections; GET /Users/{id} in ${g.rounds} rounds per side, alternating (bearer, OAuth, bearer, OAuth, …), each side's rounds pooled`,
    table(
      ['workload', 'requests', 'req/s', '×limit', 'p50 ms', 'p99 ms', 'errors', 'note'],
      [
        line(WORKLOADS['users.get.bearer'], g.bearer, perRound(g.bearer)),
        line(WORKLOADS['users.get.oauth'], g.oauth, perRound(g.oauth)),
        line(WORKLOADS['oauth.token'], o.token, 'one ES256 token per request; every answer 200'),
      ],
    ),
    `OAuth ÷ static bearer: ${ratio(g.oauth.rps, g.bearer.rps)} req/s (ratio of the sums: all requests ÷ all timed seconds of each side), p50 ${ratio(g.oauth.p50, g.bearer.p50)}, p99 ${ratio(g.oauth.p99, g.bearer.p99)} (pooled latencies); target ≥${g.target.toFixed(2)}×: ${verdict}`,
  ]
}

/** The contention table: answers by status class, what the read-back kept, latencies; no limit figure applies. */
function renderContention(c: ContentionResult): string[] {
  const rounds = (n: number) => `${n} of ${c.rounds}`
  const line = (label: string, f: ContentionFigure, last: string) => [
    label,
    count(c.rounds),
    count(f.requests),
    count(f.classes['2xx']),
    count(f.classes['412']),
    count(f.classes['503']),
    count(f.classes.other),
    rounds(f.roundsAllKept),
    `${rounds(f.roundsLastApplied)} ${last}`,
    ms(f.p50),
    ms(f.p99),
    '—',
  ]
  const out = [
    `Contention: ${c.concurrency} concurrent PATCHes without If-Match to one resource, ${c.rounds} rounds, a fresh user and group each round (no limit figure applies: ×limit —)`,
    table(
      [
        'workload',
        'rounds',
        'requests',
        '2xx',
        '412',
        '503',
        'other',
        'all changes kept',
        'last op applied',
        'p50 ms',
        'p99 ms',
        '×limit',
      ],
      [line(`user: ${c.user.what}`, c.user, 'deactivated'), line(`group: ${c.group.what}`, c.group, 'renamed')],
    ),
    `round wall time ms: user ${c.user.roundMs.map(ms).join(' / ')}; group ${c.group.roundMs.map(ms).join(' / ')}`,
  ]
  if (!c.failures.length) out.push('contention: every answer 2xx and every change read back in every round')
  for (const failure of c.failures) out.push(`CONTENTION CHECK FAILED: ${failure}`)
  return out
}
