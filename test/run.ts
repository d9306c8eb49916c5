/**
 * `npm test`: formatting and lint, the import rules, the Workers tests (workerd, real D1, KV and
 * Queues) and the Node tests (CLI, `npm start`, pages in Chromium). Every step runs even after one
 * fails, so one run shows everything; the last line is the total over both test runs, and the exit
 * code is non-zero when any step failed.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

interface VitestReport {
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
  numTodoTests: number
  numFailedTestSuites: number
}

const dir = mkdtempSync(join(tmpdir(), 'scim-edge-test-'))
const failedSteps: string[] = []

/** Runs one step with its output shown; the bin directory of node_modules is on PATH under npm. */
function step(name: string, command: string, args: string[]): void {
  const { status, error } = spawnSync(command, args, { stdio: 'inherit' })
  if (error || status !== 0) failedSteps.push(name)
}

function vitest(name: string, args: string[]): VitestReport | undefined {
  const file = join(dir, `${name}.json`)
  step(name, 'vitest', ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${file}`])
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as VitestReport
  } catch {
    return undefined
  }
}

step('lint', 'biome', ['ci', '.'])
step('import rules', 'depcruise', ['src', '--config', '.dependency-cruiser.cjs'])
const reports = [
  ['Workers tests', vitest('workers', [])],
  ['Node tests', vitest('node', ['--config', 'test/node/vitest.config.ts'])],
] as const
rmSync(dir, { recursive: true, force: true })

let passed = 0
let failed = 0
let skipped = 0
for (const [name, report] of reports) {
  if (!report) {
    if (!failedSteps.includes(name)) failedSteps.push(name)
    continue
  }
  passed += report.numPassedTests
  failed += report.numFailedTests
  skipped += report.numPendingTests + report.numTodoTests
  // A file that fails to load fails no test but must still fail the run.
  if (report.numFailedTestSuites > 0 && !failedSteps.includes(name)) failedSteps.push(name)
}
const broken = failedSteps.length ? `; failed: ${failedSteps.join(', ')}` : ''
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${broken}`)
process.exitCode = failedSteps.length ? 1 : 0
