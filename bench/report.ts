/** The stdout table and the machine facts of a bench run. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'

/** Formats ms: two decimals under 10, one under 100, none above. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '—'
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)
}

/** A ratio to the limit, e.g. `3.41×`. */
export function ratio(value: number, limit: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(limit) || limit === 0) return '—'
  const r = value / limit
  return `${r < 10 ? r.toFixed(2) : r < 1000 ? r.toFixed(1) : r.toFixed(0)}×`
}

export function count(value: number): string {
  if (!Number.isFinite(value)) return '—'
  return Number.isInteger(value)
    ? value.toLocaleString('en-US')
    : value.toLocaleString('en-US', { maximumFractionDigits: 1 })
}

/** A plain-text table with a header rule; numbers right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

export interface Machine {
  nproc: number
  cpu: string
  memoryGiB: number
  node: string
  workerd: string
  miniflare: string
  autocannon: string
  commit: string
  dirty: boolean
  /** 1, 5 and 15 minute load averages when the run ended: other work on the machine skews figures. */
  loadAverage: number[]
}

function version(repoRoot: string, pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(repoRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version
  } catch {
    return 'unknown'
  }
}

/** Where the figures came from: the machine, the runtime versions and the commit measured. */
export function machine(repoRoot: string): Machine {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    } catch {
      return ''
    }
  }
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    workerd: version(repoRoot, 'workerd'),
    miniflare: version(repoRoot, 'miniflare'),
    autocannon: version(repoRoot, 'autocannon'),
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    dirty: git('status', '--porcelain', '--', 'src', 'migrations') !== '',
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  }
}
