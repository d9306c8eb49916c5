/**
 * `npm run bench [-- --quick] [--out DIR]`: scim-edge's speed side by side with the stack's own limit
 * (how to read it: bench/README.md). Builds the Worker, serves it with Miniflare on
 * 127.0.0.1, seeds local D1 directly, checks that the seeded data is served correctly, drives the
 * workloads, then prints the tables on stdout and writes the JSON under bench/results/. Progress goes
 * to stderr. Exit code 0 only when every check passed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { exportJWK, generateKeyPair } from 'jose'
import { buildBundles } from './build.ts'
import { CONCURRENCY, contentionShape, runContention, type ContentionResult } from './contention.ts'
import {
  closedLoop,
  closedLoopSamples,
  fixedRate,
  pool,
  timed,
  type LoadResult,
  type LoadSamples,
  type Req,
} from './load.ts'
import { machine } from './report.ts'
import { benchStorage } from './storage.ts'
import {
  OAUTH_TARGET,
  renderTables,
  type BenchResult,
  type OAuthFigures,
  type RowsFigure,
  type SingleFigure,
} from './tables.ts'
import { seedTenant, type SeedStatement, type SeededTenant, type TenantShape } from './seed.ts'
import { serve } from './server.ts'
import { verifyAfterWrites, verifyMixedTenants, verifyOAuth, verifySeed } from './verify.ts'
import { MIX, mixedStream, prng, requests } from './workloads.ts'

/** Rounds of the group PATCH pair; the reported time is their median. */
const GROUP_ROUNDS = 11

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Sizes and durations of a run. The full run measures at 100,000 users; --quick proves the bench still works. */
export interface Config {
  mode: 'full' | 'quick'
  big: TenantShape
  mixTenants: number
  mix: TenantShape
  connections: number
  warmupSeconds: number
  seconds: number
  singleSamples: number
  pageSize: number
  patchMembers: number
  mixRatePerTenant: number
  mixSeconds: number
  limitRateSeconds: number
  rowSamples: number
  /** Rounds of the contention workload (CONCURRENCY requests to one user, then to one group, per round). */
  contentionRounds: number
  /**
   * Closed-loop rounds per side of GET /Users/{id} with the static bearer token vs an OAuth access
   * token, alternating (bearer, OAuth, bearer, OAuth, …); each round is warm-up then `seconds`.
   */
  authRounds: number
}

const FULL: Config = {
  mode: 'full',
  big: { users: 100_000, groups: 1_000, bigGroupMembers: 50_000, smallGroups: 900, smallGroupMembers: 10 },
  mixTenants: 10,
  mix: { users: 1_000, groups: 20, bigGroupMembers: 0, smallGroups: 15, smallGroupMembers: 20 },
  connections: 10,
  warmupSeconds: 1,
  seconds: 5,
  singleSamples: 300,
  pageSize: 100,
  patchMembers: 1_000,
  mixRatePerTenant: 25,
  mixSeconds: 60,
  limitRateSeconds: 5,
  rowSamples: 10,
  contentionRounds: 5,
  authRounds: 3,
}

const QUICK: Config = {
  ...FULL,
  mode: 'quick',
  big: { users: 3_000, groups: 50, bigGroupMembers: 1_500, smallGroups: 40, smallGroupMembers: 10 },
  mix: { users: 200, groups: 10, bigGroupMembers: 0, smallGroups: 5, smallGroupMembers: 10 },
  warmupSeconds: 0.3,
  seconds: 1,
  singleSamples: 30,
  patchMembers: 200,
  mixSeconds: 3,
  limitRateSeconds: 1,
  rowSamples: 3,
  authRounds: 2,
}

const started = performance.now()
function step(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Sends `req` to the instrumented Worker and reads what D1 reported for it. */
async function rowsOf(origin: string, req: Req, expect: number[]): Promise<RowsFigure> {
  return rowsFromHeaders((await timed(origin, req, expect)).headers)
}

function rowsFromHeaders(headers: Headers): RowsFigure {
  const read = Number(headers.get('x-d1-rows-read'))
  if (!Number.isFinite(read) || headers.get('x-d1-rows-read') === null)
    throw new Error('instrumented Worker sent no x-d1-rows-read header')
  return {
    read,
    written: Number(headers.get('x-d1-rows-written')),
    statements: Number(headers.get('x-d1-statements')),
    roundTrips: Number(headers.get('x-d1-round-trips')),
    samples: 1,
  }
}

async function meanRows(origin: string, reqs: Req[], expect: number[]): Promise<RowsFigure> {
  const all: RowsFigure[] = []
  for (const req of reqs) all.push(await rowsOf(origin, req, expect))
  const mean = (f: (r: RowsFigure) => number) => all.reduce((s, r) => s + f(r), 0) / all.length
  return {
    read: mean((r) => r.read),
    written: mean((r) => r.written),
    statements: mean((r) => r.statements),
    roundTrips: mean((r) => r.roundTrips),
    samples: all.length,
  }
}

/** Every answer 200 (a token endpoint answers nothing else on success), no connection error. */
function assertAll200(name: string, r: LoadResult): void {
  const other = Object.entries(r.statuses).filter(([status]) => status !== '200')
  if (other.length)
    throw new Error(
      `${name}: ${other.reduce((s, [, n]) => s + n, 0)} answers not 200 (${JSON.stringify(r.statuses)}); first: ${r.firstError ?? '?'}`,
    )
  assertClean(name, r)
}

/** A JWK set of one ES256 private key with a kid, made for this run, as OAUTH_SIGNING_KEYS takes it (src/oauth/signing-keys.ts). */
async function runSigningKeys(run: string): Promise<{ text: string; kid: string }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const kid = `bench-${run}`
  return { text: JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' }] }), kid }
}

/** meanRows over `n` requests of `next`, after one request of it that is not counted. */
async function meanRowsAfterOne(origin: string, next: () => Req, n: number): Promise<RowsFigure> {
  await timed(origin, next(), [200])
  return meanRows(
    origin,
    Array.from({ length: n }, () => next()),
    [200],
  )
}

function assertClean(name: string, r: LoadResult): void {
  if (r.errors)
    throw new Error(
      `${name}: ${r.errors} failed requests (${JSON.stringify(r.statuses)}); first: ${r.firstError ?? 'connection error'}`,
    )
  if (!r.requests) throw new Error(`${name}: no request completed`)
}

/** The rounds of the contention workload that kept every change, as read-back checks; failed rounds fail the run at the end. */
function contentionChecks(c: ContentionResult): { check: string; ok: true }[] {
  const out: { check: string; ok: true }[] = []
  for (const [kind, f] of [
    ['user', c.user],
    ['group', c.group],
  ] as const) {
    for (const r of f.rounds)
      if (r.ok)
        out.push({
          check: `contention round ${r.round}, ${kind}: ${c.concurrency} answers 2xx, every change read back`,
          ok: true,
        })
  }
  return out
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      disk: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  })
  const cfg = values.quick ? QUICK : FULL
  const outDir = resolve(values.out ?? join(REPO_ROOT, 'bench/results'))
  const run = Date.now().toString(36)
  const random = prng(20261128)
  const at = new Date()
  const loadBefore = loadavg().map((l) => Math.round(l * 100) / 100)

  step(`mode ${cfg.mode}: building the Worker bundles`)
  const buildDir = mkdtempSync(join(tmpdir(), 'scim-edge-bench-'))
  const bundles = await buildBundles(REPO_ROOT, buildDir)
  step('starting workerd through Miniflare (3 Workers, one D1, one KV), applying migrations')
  const storage = benchStorage(values.disk)
  const signing = await runSigningKeys(run)
  const served = await serve(REPO_ROOT, bundles, { storageDir: storage.dir, oauthSigningKeys: signing.text })
  const { app, instrumented, baseline } = served.urls
  try {
    const exec = async (statements: SeedStatement[]) => {
      const res = await fetch(`${instrumented}/__bench/batch`, { method: 'POST', body: JSON.stringify(statements) })
      if (!res.ok) throw new Error(`seeding failed: ${res.status} ${(await res.text()).slice(0, 300)}`)
    }
    step(
      `seeding: ${cfg.big.users} users, ${cfg.big.groups} groups, one of ${cfg.big.bigGroupMembers} members; ${cfg.mixTenants} tenants of ${cfg.mix.users} users`,
    )
    const seedStart = performance.now()
    const big = await seedTenant(exec, served.kv, 'bench-big', cfg.big, at)
    const mixTenants: SeededTenant[] = []
    for (let i = 0; i < cfg.mixTenants; i++)
      mixTenants.push(await seedTenant(exec, served.kv, `bench-mix-${i}`, cfg.mix, at))
    const seedSeconds = (performance.now() - seedStart) / 1000

    step('verifying that the Worker serves the seeded data')
    const verification = await verifySeed(app, baseline, served.d1, big, cfg.big, mixTenants, cfg.mix)

    // Users by role, as seq ranges of the big tenant: the first bigGroupMembers are in the big group.
    const B = cfg.big.bigGroupMembers
    const M = cfg.patchMembers
    const patchUsers = big.userIds.slice(B, B + M)
    const rowsDeactivate = big.userIds.slice(B + M, B + M + cfg.rowSamples)
    const deactivatePool = big.userIds.slice(B + M + cfg.rowSamples)
    const anyUser = () => big.userIds[Math.floor(random() * big.userIds.length)]!
    const anySeq = () => 1 + Math.floor(random() * cfg.big.users)
    const loop = (origin: string, next: () => Req) => closedLoop(origin, next, cfg)

    step(`limit: bare Hono + D1 point query, closed loop, ${cfg.connections} connections`)
    const limitClosed = await loop(baseline, () => requests.limit(big, anyUser()))
    assertClean('limit', limitClosed)
    const singles: number[] = []
    for (let i = 0; i < cfg.singleSamples; i++) singles.push((await timed(baseline, requests.limit(big, anyUser()))).ms)
    const mixRate = cfg.mixRatePerTenant * cfg.mixTenants
    step(`limit at the mixed workload's rate: ${mixRate} req/s for ${cfg.limitRateSeconds} s`)
    const limitRate = await fixedRate(baseline, () => requests.limit(big, anyUser()), {
      rate: mixRate,
      seconds: cfg.limitRateSeconds,
      connections: 2 * cfg.mixTenants,
    })
    assertClean('limit at rate', limitRate)

    const closed: Record<string, LoadResult> = {}
    step('GET /Users/{id}')
    closed['users.get'] = await loop(app, () => requests.getUser(big, anyUser()))

    // OAuth vs the static bearer token on the same GET: one access token from the token endpoint
    // (before any timing), then alternating closed-loop rounds of each; each side's rounds are pooled.
    step('OAuth: one access token from POST /oauth/{tenant}/token (client_secret_basic), checked')
    const grant = await timed(app, requests.token(big), [200])
    const accessToken = (JSON.parse(grant.body) as { access_token?: string }).access_token ?? ''
    verification.push(...(await verifyOAuth(app, big, grant.body, signing.kid)))
    const oauthAuthorization = `Bearer ${accessToken}`
    const authSamples: { bearer: LoadSamples[]; oauth: LoadSamples[] } = { bearer: [], oauth: [] }
    for (let round = 1; round <= cfg.authRounds; round++) {
      step(`GET /Users/{id} with the static bearer token (round ${round} of ${cfg.authRounds})`)
      authSamples.bearer.push(await closedLoopSamples(app, () => requests.getUserAs(big, anyUser(), big.bearer), cfg))
      step(`GET /Users/{id} with the OAuth access token (round ${round} of ${cfg.authRounds})`)
      authSamples.oauth.push(
        await closedLoopSamples(app, () => requests.getUserAs(big, anyUser(), oauthAuthorization), cfg),
      )
    }
    const bearerPooled = pool(authSamples.bearer)
    const oauthPooled = pool(authSamples.oauth)
    assertAll200('GET /Users/{id} with the static bearer token', bearerPooled)
    assertAll200('GET /Users/{id} with the OAuth access token', oauthPooled)
    step('POST /oauth/{tenant}/token, closed loop (client_secret_basic, every answer must be 200)')
    const tokenLoad = await loop(app, () => requests.token(big))
    assertAll200('POST /oauth/{tenant}/token', tokenLoad)
    const oauthRatio = oauthPooled.rps / bearerPooled.rps
    const oauthFigures: OAuthFigures = {
      getUser: {
        rounds: cfg.authRounds,
        order: 'alternating, bearer first: bearer, oauth, bearer, oauth, …',
        ratioOf: 'sums: all requests ÷ all timed seconds of each side, p50/p99 over the pooled latencies',
        bearer: { ...bearerPooled, rounds: authSamples.bearer.map((s) => s.result) },
        oauth: { ...oauthPooled, rounds: authSamples.oauth.map((s) => s.result) },
        ratio: oauthRatio,
        target: OAUTH_TARGET,
        meets: oauthRatio >= OAUTH_TARGET,
      },
      token: tokenLoad,
    }

    step('GET /Users?filter=userName eq "…"')
    closed['users.filter'] = await loop(app, () => requests.filterUser(big, anySeq()))
    step('GET /Groups?excludedAttributes=members')
    closed['groups.list'] = await loop(app, () => requests.listGroups(big))

    const pages = Math.ceil(cfg.big.users / cfg.pageSize)
    step(`full import: ${pages} sequential pages of ${cfg.pageSize} (startIndex)`)
    const pageMs: number[] = []
    const seen = new Set<string>()
    for (let p = 0; p < pages; p++) {
      const page = await timed(app, requests.importPage(big, 1 + p * cfg.pageSize, cfg.pageSize))
      pageMs.push(page.ms)
      const body = JSON.parse(page.body) as { totalResults: number; Resources: { id: string }[] }
      if (body.totalResults !== cfg.big.users)
        throw new Error(`import page ${p + 1}: totalResults ${body.totalResults}, expected ${cfg.big.users}`)
      for (const r of body.Resources) seen.add(r.id)
    }
    if (seen.size !== cfg.big.users)
      throw new Error(`import returned ${seen.size} distinct users, expected ${cfg.big.users}`)
    const middle = Math.floor(pages / 2)
    // Rows of pages 1, middle and last as a sequential import meets them: the page before is read
    // through the app first, so the instrumented page finds the page mark that page leaves (src/db/pages.ts).
    const importRows = async (page: number): Promise<RowsFigure> => {
      if (page > 0) await timed(app, requests.importPage(big, 1 + (page - 1) * cfg.pageSize, cfg.pageSize))
      return rowsOf(instrumented, requests.importPage(big, 1 + page * cfg.pageSize, cfg.pageSize), [200])
    }
    const importFirstRows = await importRows(0)
    const importMiddleRows = await importRows(middle)
    const importLastRows = await importRows(pages - 1)

    // Alternating rounds (big group, then empty group), the members removed again between rounds, so
    // both see the same warm-up; the figure is the median of the rounds. The last round is timed on the
    // instrumented Worker, so its rows come from the same request, and its members stay for the checks.
    step(`group PATCH: add ${M} members to the ${B}-member group, then to an empty group (${GROUP_ROUNDS} rounds)`)
    const bigTimes: number[] = []
    const emptyTimes: number[] = []
    let bigPatch: Awaited<ReturnType<typeof timed>> | undefined
    let emptyPatch: Awaited<ReturnType<typeof timed>> | undefined
    for (let round = 0; round < GROUP_ROUNDS; round++) {
      const last = round === GROUP_ROUNDS - 1
      bigPatch = await timed(last ? instrumented : app, requests.addMembers(big, big.bigGroupId!, patchUsers), [204])
      emptyPatch = await timed(
        last ? instrumented : app,
        requests.addMembers(big, big.emptyGroupIds[0]!, patchUsers),
        [204],
      )
      bigTimes.push(bigPatch.ms)
      emptyTimes.push(emptyPatch.ms)
      if (!last) {
        await timed(app, requests.removeMembers(big, big.bigGroupId!, patchUsers), [204])
        await timed(app, requests.removeMembers(big, big.emptyGroupIds[0]!, patchUsers), [204])
      }
    }

    step('POST /Users')
    let created = 0
    closed['users.create'] = await loop(app, () => {
      created++
      return requests.createUser(big, `bench-${run}-${created}@example.com`, cfg.big.users + created)
    })
    step('PATCH /Users/{id} deactivate (each request a different active user)')
    let nextDeactivate = 0
    closed['users.deactivate'] = await loop(app, () =>
      requests.deactivate(big, deactivatePool[nextDeactivate++ % deactivatePool.length]!),
    )
    for (const [name, r] of Object.entries(closed)) assertClean(name, r)
    const deactivatePoolWrapped = nextDeactivate > deactivatePool.length

    step(`mixed Okta-like workload: ${cfg.mixTenants} tenants × ${cfg.mixRatePerTenant} req/s for ${cfg.mixSeconds} s`)
    const mixed = await fixedRate(app, mixedStream(mixTenants, cfg.mix.users, run, random), {
      rate: mixRate,
      seconds: cfg.mixSeconds,
      connections: 2 * cfg.mixTenants,
    })

    // On a tenant of its own, so the read-back checks of the other workloads never see its writes.
    step(
      `contention: ${CONCURRENCY} concurrent PATCHes without If-Match to one user, then to one group (${cfg.contentionRounds} rounds)`,
    )
    const contentionTenant = await seedTenant(
      exec,
      served.kv,
      'bench-contention',
      contentionShape(cfg.contentionRounds),
      at,
    )
    const contention = await runContention(app, instrumented, served.d1, contentionTenant, cfg.contentionRounds)

    step('D1 rows read and written per request type (instrumented copy of the same requests)')
    const n = cfg.rowSamples
    const times = <T>(f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i))
    const rows: Record<string, RowsFigure> = {
      limit: await meanRows(
        instrumented,
        times(() => requests.limit(big, anyUser())),
        [200],
      ),
      'users.get': await meanRows(
        instrumented,
        times(() => requests.getUser(big, anyUser())),
        [200],
      ),
      'users.filter': await meanRows(
        instrumented,
        times(() => requests.filterUser(big, anySeq())),
        [200],
      ),
      'groups.list': await meanRows(
        instrumented,
        times(() => requests.listGroups(big)),
        [200],
      ),
      // One unsampled request first for each: a credential's first success in an isolate each day
      // writes its "last used" row in the background (src/auth/credential-use.ts); the rest write nothing.
      'users.get.bearer': await meanRowsAfterOne(instrumented, () => requests.getUserAs(big, anyUser(), big.bearer), n),
      'users.get.oauth': await meanRowsAfterOne(
        instrumented,
        () => requests.getUserAs(big, anyUser(), oauthAuthorization),
        n,
      ),
      'oauth.token': await meanRowsAfterOne(instrumented, () => requests.token(big), n),
      'users.create': await meanRows(
        instrumented,
        times((i) => requests.createUser(big, `rows-${run}-${i}@example.com`, 900_000 + i)),
        [201],
      ),
      'users.deactivate': await meanRows(
        instrumented,
        rowsDeactivate.map((id) => requests.deactivate(big, id)),
        [200],
      ),
      'import.first': importFirstRows,
      'import.middle': importMiddleRows,
      'import.last': importLastRows,
      'groups.patch.big': rowsFromHeaders(bigPatch!.headers),
      'groups.patch.empty': rowsFromHeaders(emptyPatch!.headers),
      mixed: await meanRows(
        instrumented,
        times(mixedStream(mixTenants, cfg.mix.users, `${run}-rows`, prng(7))),
        [200, 201, 204],
      ),
      contention: contention.rows,
    }

    step('verifying the writes')
    verification.push(
      ...(await verifyAfterWrites(app, served.d1, big, {
        bigGroupMembers: B + M,
        emptyGroups: [big.emptyGroupIds[0]!],
        emptyGroupMembers: M,
        deactivated: deactivatePool.slice(0, Math.min(20, nextDeactivate - cfg.connections)),
        minUsers: cfg.big.users + closed['users.create']!.requests + n,
      })),
      ...(await verifyMixedTenants(served.d1, mixTenants)),
      ...contentionChecks(contention.result),
    )

    const single = (values: number[]): SingleFigure => ({ ms: median(values), all: values })
    const result: BenchResult = {
      version: 1,
      mode: cfg.mode,
      at: at.toISOString(),
      seconds: 0,
      machine: machine(REPO_ROOT),
      loadBefore,
      storage: storage.kind,
      config: cfg,
      seed: { seconds: seedSeconds, tenants: 1 + cfg.mixTenants },
      verification,
      limit: {
        closed: limitClosed,
        single: {
          ms: median(singles),
          mean: singles.reduce((s, v) => s + v, 0) / singles.length,
          samples: singles.length,
        },
        atMixedRate: limitRate,
      },
      closed,
      oauth: oauthFigures,
      single: {
        'import.first': single([pageMs[0]!]),
        'import.middle': single([pageMs[middle]!]),
        'import.last': single([pageMs[pages - 1]!]),
        'groups.patch.big': single(bigTimes),
        'groups.patch.empty': single(emptyTimes),
      },
      import: {
        pages,
        pageSize: cfg.pageSize,
        users: seen.size,
        totalSeconds: pageMs.reduce((s, v) => s + v, 0) / 1000,
        pageMs,
      },
      mixed: {
        ...mixed,
        tenants: cfg.mixTenants,
        ratePerTenant: cfg.mixRatePerTenant,
        mix: MIX.map(([what, pct]) => ({ what, pct })),
      },
      contention: contention.result,
      rows,
      notes: deactivatePoolWrapped
        ? ['the deactivate pool ran out and wrapped: later PATCHes were no-ops on deactivated users']
        : [],
    }
    result.seconds = (performance.now() - started) / 1000
    mkdirSync(outDir, { recursive: true })
    const file = join(outDir, `${result.at.replace(/[:.]/g, '-')}-${cfg.mode}.json`)
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
    process.stdout.write(renderTables(result) + `\nJSON: ${file}\n`)
    // Unlike the checks above, a failed contention round does not stop the run before the tables:
    // its figures (how many answers were 412, what was lost) are the point. The run still fails.
    if (contention.result.failures.length)
      throw new Error(
        `${contention.result.failures.length} contention checks failed (tables and JSON written):\n${contention.result.failures.join('\n')}`,
      )
    step(`done in ${result.seconds.toFixed(0)} s`)
  } finally {
    await served.mf.dispose()
    rmSync(buildDir, { recursive: true, force: true })
    storage.remove()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
