import { expect } from 'vitest'
import type { TestTenant } from './tenant.ts'

/** One recorded request and what the IdP needs back. */
export interface ReplayStep {
  name?: string
  method: string
  /** Relative to the tenant Base URL; `{name}` placeholders are filled from earlier `save`s. */
  path: string
  headers?: Record<string, string>
  body?: unknown
  /** Saves `id` (or the JSON pointer-ish dotted path given) of the response under this name. */
  save?: string | Record<string, string>
  expect: { status: number; body?: unknown; headers?: Record<string, string> }
}

export interface Replay {
  description: string
  steps: ReplayStep[]
}

function fill(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return value.replace(/\{(\w+)\}/g, (m, name: string) => vars[name] ?? m)
  if (Array.isArray(value)) return value.map((v) => fill(v, vars))
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]))
  return value
}

function pick(body: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), body)
}

/** Replays a recorded IdP sequence against a tenant, checking each status and partial body. */
export async function replay(
  tenant: TestTenant,
  recording: Replay,
  vars: Record<string, string> = {},
): Promise<Record<string, string>> {
  for (const [i, raw] of recording.steps.entries()) {
    const step = fill(raw, vars) as ReplayStep
    const label = `${recording.description} step ${i + 1} ${step.name ?? ''} ${step.method} ${step.path}`
    const res = await tenant.fetch(step.path, { method: step.method, headers: step.headers, json: step.body })
    const text = await res.text()
    const body = text ? JSON.parse(text) : undefined
    expect(res.status, `${label}: ${text.slice(0, 500)}`).toBe(step.expect.status)
    if (step.expect.body !== undefined) expect(body, label).toMatchObject(step.expect.body as object)
    for (const [name, value] of Object.entries(step.expect.headers ?? {}))
      expect(res.headers.get(name), `${label} header ${name}`).toBe(value)
    if (step.save) {
      const saves = typeof step.save === 'string' ? { [step.save]: 'id' } : step.save
      for (const [name, path] of Object.entries(saves)) vars[name] = String(pick(body, path))
    }
  }
  return vars
}
