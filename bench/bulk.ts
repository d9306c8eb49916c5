/**
 * `npm run bench:bulk [-- --users 1000 --rounds 3]`: 1,000 user creates as one /Bulk request against
 * 1,000 sequential POST /Users, on the Worker served by Miniflare (bench/server.ts) with local D1.
 * Rounds alternate (sequential, bulk, sequential, bulk, …), each on a fresh tenant; the figure is the
 * median of each side and their ratio. Target: the bulk request at least 10× faster. Every create of
 * both sides is checked: 201 for each, and the tenant holds exactly that many users afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { buildBundles } from './build.ts'
import { seedTenant, userBody, type SeedStatement, type SeededTenant } from './seed.ts'
import { serve } from './server.ts'
import { benchStorage } from './storage.ts'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const TARGET = 10

const { values } = parseArgs({
  options: { users: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' } },
})
const USERS = Number(values.users)
const ROUNDS = Number(values.rounds)

function step(message: string): void {
  process.stderr.write(`[bench:bulk] ${message}\n`)
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

async function userCount(app: string, t: SeededTenant): Promise<number> {
  const res = await fetch(`${app}/scim/v2/${t.id}/Users?count=0`, { headers: { authorization: t.bearer } })
  return ((await res.json()) as { totalResults: number }).totalResults
}

async function sequential(app: string, t: SeededTenant): Promise<number> {
  const started = performance.now()
  for (let i = 1; i <= USERS; i++) {
    const res = await fetch(`${app}/scim/v2/${t.id}/Users`, {
      method: 'POST',
      headers: { authorization: t.bearer, 'content-type': 'application/scim+json' },
      body: JSON.stringify(userBody(i)),
    })
    if (res.status !== 201) throw new Error(`POST /Users ${i} answered ${res.status}: ${await res.text()}`)
    await res.arrayBuffer()
  }
  return performance.now() - started
}

async function bulk(app: string, t: SeededTenant): Promise<number> {
  const body = JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: Array.from({ length: USERS }, (_, i) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `u${i + 1}`,
      data: userBody(i + 1),
    })),
  })
  const started = performance.now()
  const res = await fetch(`${app}/scim/v2/${t.id}/Bulk`, {
    method: 'POST',
    headers: { authorization: t.bearer, 'content-type': 'application/scim+json' },
    body,
  })
  const result = (await res.json()) as { Operations: { status: string }[] }
  const ms = performance.now() - started
  if (res.status !== 200) throw new Error(`POST /Bulk answered ${res.status}: ${JSON.stringify(result).slice(0, 300)}`)
  const bad = result.Operations.filter((o) => o.status !== '201')
  if (result.Operations.length !== USERS || bad.length)
    throw new Error(`POST /Bulk: ${bad.length} of ${result.Operations.length} operations not 201`)
  return ms
}

async function main() {
  const buildDir = mkdtempSync(join(tmpdir(), 'scim-edge-bench-bulk-'))
  step('building the Worker bundles and starting workerd through Miniflare')
  const bundles = await buildBundles(REPO_ROOT, buildDir)
  const storage = benchStorage(false)
  const served = await serve(REPO_ROOT, bundles, { storageDir: storage.dir })
  const { app, instrumented } = served.urls
  const exec = async (statements: SeedStatement[]) => {
    const res = await fetch(`${instrumented}/__bench/batch`, { method: 'POST', body: JSON.stringify(statements) })
    if (!res.ok) throw new Error(`seeding failed: ${res.status}`)
  }
  const empty = { users: 0, groups: 0, bigGroupMembers: 0, smallGroups: 0, smallGroupMembers: 0 }
  const times = { sequential: [] as number[], bulk: [] as number[] }
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of ['sequential', 'bulk'] as const) {
        const tenant = await seedTenant(exec, served.kv, `bench-bulk-${side}-${round}`, empty, new Date())
        step(`round ${round}: ${USERS} creates, ${side === 'bulk' ? 'one /Bulk request' : 'sequential POST /Users'}`)
        const ms = side === 'bulk' ? await bulk(app, tenant) : await sequential(app, tenant)
        const held = await userCount(app, tenant)
        if (held !== USERS) throw new Error(`${side} round ${round}: the tenant holds ${held} users, not ${USERS}`)
        times[side].push(ms)
      }
    }
    const seq = median(times.sequential)
    const blk = median(times.bulk)
    const ratio = seq / blk
    console.log(`bulk creates (${USERS} users, ${ROUNDS} alternating rounds each, median; Miniflare, local D1)`)
    console.log(
      `  sequential POST /Users: ${(seq / 1000).toFixed(2)} s (${(USERS / (seq / 1000)).toFixed(0)} users/s); rounds ${times.sequential.map((t) => (t / 1000).toFixed(2)).join(', ')} s`,
    )
    console.log(
      `  one /Bulk request:      ${(blk / 1000).toFixed(2)} s (${(USERS / (blk / 1000)).toFixed(0)} users/s); rounds ${times.bulk.map((t) => (t / 1000).toFixed(2)).join(', ')} s`,
    )
    console.log(`  ratio ${ratio.toFixed(1)}×; verdict: ${ratio >= TARGET ? 'meets' : 'MISSES'} (target ≥${TARGET}×)`)
  } finally {
    await served.mf.dispose()
    storage.remove()
    rmSync(buildDir, { recursive: true, force: true })
  }
}

await main()
