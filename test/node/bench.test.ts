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
    'Mixed Okta-like workload',
    'D1 rows per request',
  ])
    expect(run.stdout).toContain(heading)
  for (const label of Object.values(WORKLOADS)) expect(run.stdout).toContain(label)
  expect(run.stdout).toContain('limit: GET /u/{id} point query')
  expect(run.stdout).toMatch(/\d\.\d\d×/)

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
  expect(result.import.users).toBe(result.import.pages * result.import.pageSize)
  expect(result.import.pageMs).toHaveLength(result.import.pages)
  for (const rows of Object.values(result.rows)) expect(rows.read).toBeGreaterThanOrEqual(0)
  expect(result.rows.limit!.read).toBeGreaterThan(0)
})
