/**
 * A redacted summary of a SCIM change for the journal: which attributes and operations, never their
 * values (personal data stays out), except booleans such as `active=false`, which say what happened.
 */
import { valueOf } from '../scim/resource/keys.ts'

function value(v: unknown): string {
  if (typeof v === 'boolean') return `=${v}`
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return `=${v.toLowerCase()}`
  if (Array.isArray(v)) return `(${v.length})`
  return ''
}

function keys(body: Record<string, unknown>): string {
  return Object.entries(body)
    .filter(([k]) => !['schemas', 'id', 'meta', 'password'].includes(k))
    .map(([k, v]) => `${k}${value(v)}`)
    .join(' ')
}

/** Summarises a request body by method: attribute names for POST/PUT, operations for PATCH. */
export function summarizeChange(method: string, body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
  const record = body as Record<string, unknown>
  if (method !== 'PATCH') return keys(record).slice(0, 500) || null
  const ops = valueOf(record, 'operations')
  if (!Array.isArray(ops)) return null
  const parts = ops.slice(0, 20).map((op) => {
    if (typeof op !== 'object' || op === null) return '?'
    const o = Object.fromEntries(Object.entries(op).map(([k, v]) => [k.toLowerCase(), v]))
    const verb = String(o.op ?? '?').toLowerCase()
    const target =
      typeof o.path === 'string'
        ? o.path.replace(/"[^"]*"/g, '"…"')
        : typeof o.value === 'object' && o.value && !Array.isArray(o.value)
          ? `{${keys(o.value as Record<string, unknown>)}}`
          : ''
    return `${verb} ${target}${typeof o.path === 'string' ? value(o.value) : ''}`.trim()
  })
  if (ops.length > 20) parts.push(`… ${ops.length - 20} more`)
  return parts.join('; ').slice(0, 500)
}
