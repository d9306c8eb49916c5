/**
 * `npm run bench -- --quick` still runs end to end: it exits 0, prints every table and
 * workload, and writes a JSON result holding every workload. Never asserts a speed: the figures
 * depend on the machine and on what else runs on it.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { NODE_BIN, REPO_ROOT } from '../../src/tenants/kv-store.ts'
import { WORKLOADS, type BenchResult } from '../../bench/tables.ts'

const out = mkdtempSync(join(tmpdir(), 'scim-edge-bench-test-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

function runQuickBench(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      NODE_BIN,
      [join(REPO_ROOT, 'bench/run.ts'), '--quick', '--out', out],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 170_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

test('npm run bench -- --quick completes, prints the tables and writes the JSON with every workload', {
  timeout: 180_000,
}, async () => {
  const run = await runQuickBench()
  expect(run.code, run.stderr.slice(-3000)).toBe(0)

  for (const heading of [
    'Throughput: closed loop',
    'One request at a time',
    'OAuth 2.0: closed loop',
    'OAuth ÷ static bearer:',
    'Mixed Okta-like workload',
    'D1 rows per request',
  ])
    expect(run.stdout).toContain(heading)
  for (const label of Object.values(WORKLOADS)) expect(run.stdout).toContain(label)
  expect(run.stdout).toContain('limit: GET /u/{id} point query')
  expect(run.stdout).toMatch(/\d\.\d\d×/)
  // The verdict is printed either way; its outcome is a timing, so it is not asserted.
  expect(run.stdout).toMatch(/target ≥0\.95×: (meets|misses) ≥0\.95×/)
  // It ends with the targets table: one row per target with its figure and a verdict, then the count.
  const targets = run.stdout.slice(run.stdout.lastIndexOf('\nTargets'))
  const rows = targets.split('\n').filter((l) => / (met|NOT MET)$/.test(l) && !/ of \d+ targets met$/.test(l))
  expect(rows.length).toBe(9)
  const met = rows.filter((l) => / met$/.test(l)).length
  expect(targets).toContain(`${met} of 9 targets met`)
  expect(targets).toContain('import: last page at most 1.5× the first')

  const files = readdirSync(out).filter((f) => f.endsWith('-quick.json'))
  expect(files).toHaveLength(1)
  const result = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as BenchResult
  expect(result.mode).toBe('quick')
  expect(result.verification.length).toBeGreaterThan(10)
  expect(Object.keys(result.closed).sort()).toEqual([
    'groups.list',
    'users.create',
    'users.deactivate',
    'users.filter',
    'users.get',
  ])
  expect(Object.keys(result.single).sort()).toEqual([
    'groups.patch.big',
    'groups.patch.empty',
    'import.first',
    'import.last',
    'import.middle',
  ])
  expect(Object.keys(result.rows).sort()).toEqual(['limit', ...Object.keys(WORKLOADS)].sort())
  for (const load of [result.limit.closed, result.limit.atMixedRate, result.mixed, ...Object.values(result.closed)]) {
    expect(load.requests).toBeGreaterThan(0)
    expect(Number.isFinite(load.p50) && Number.isFinite(load.p99)).toBe(true)
  }
  for (const key of Object.keys(result.closed)) expect(result.closed[key]!.errors, key).toBe(0)

  // OAuth rows: the same GET with the static bearer token and an access token, each side in at least
  // two alternating rounds, and the token endpoint; positive figures and only 200s, no timing target.
  const { getUser, token } = result.oauth
  expect(getUser.rounds).toBeGreaterThanOrEqual(2)
  for (const [side, load] of [
    ['bearer', getUser.bearer],
    ['oauth', getUser.oauth],
    ['token', token],
  ] as const) {
    expect(load.requests, side).toBeGreaterThan(0)
    expect(load.rps, side).toBeGreaterThan(0)
    expect(load.p50, side).toBeGreaterThan(0)
    expect(load.p99, side).toBeGreaterThanOrEqual(load.p50)
    expect(load.errors, side).toBe(0)
    expect(Object.keys(load.statuses), side).toEqual(['200'])
  }
  for (const side of [getUser.bearer, getUser.oauth]) {
    expect(side.rounds).toHaveLength(getUser.rounds)
    expect(side.requests).toBe(side.rounds.reduce((s, r) => s + r.requests, 0))
    for (const round of side.rounds) expect(round.requests).toBeGreaterThan(0)
  }
  expect(getUser.ratio).toBeCloseTo(getUser.oauth.rps / getUser.bearer.rps, 10)
  expect(getUser.ratio).toBeGreaterThan(0)
  expect(getUser.meets).toBe(getUser.ratio >= getUser.target)
  expect(getUser.target).toBe(0.95)
  expect(result.import.users).toBe(result.import.pages * result.import.pageSize)
  expect(result.import.pageMs).toHaveLength(result.import.pages)
  for (const rows of Object.values(result.rows)) expect(rows.read).toBeGreaterThanOrEqual(0)
  expect(result.rows.limit!.read).toBeGreaterThan(0)
})
