/**
 * A redacted summary of a SCIM change for the journal: attribute names, operation kinds and counts
 * only. Never a value (personal data stays out) except the booleans of boolean attributes such as
 * `active=false`, which say what happened; never text the client wrote: a PATCH path is reduced to
 * the schema attribute it names (`emails[value eq "x"].type` is `emails`), and keys that name no
 * schema attribute are counted, not named.
 */
import { findKey } from '../scim/resource/keys.ts'
import { commonAttributes, schemas, type AttributeDef } from '../scim/schemas/index.ts'

/** Every attribute name of the served schemas by its lower case, with its definition. */
const ATTRIBUTES = new Map<string, AttributeDef>(
  [...commonAttributes, ...schemas.flatMap((s) => s.attributes)].map((a) => [a.name.toLowerCase(), a]),
)
/** The served schema URNs by their lower case, as written in the schemas. */
const SCHEMA_URNS = new Map(schemas.map((s) => [s.id.toLowerCase(), s.id]))
/** Keys left out of a summary: they say nothing about the change, or are secret. */
const SKIPPED = new Set(['schemas', 'id', 'meta', 'password'])
const VERBS = new Set(['add', 'remove', 'replace'])
/** The most operations a summary lists one by one. */
const LISTED_OPERATIONS = 20

/** What a summary names for a key or path: a schema attribute (or schema URN), or nothing the schemas know. */
type Named = { name: string; def?: AttributeDef } | undefined

/**
 * The schema attribute a key or PATCH path names: its leading attribute name, after a schema URN
 * prefix, without sub-attributes or filters; a bare schema URN names itself.
 */
function attributeOf(text: string): Named {
  let rest = text
  const lower = text.toLowerCase()
  for (const [urnLower, urn] of SCHEMA_URNS) {
    if (lower === urnLower) return { name: urn }
    if (lower.startsWith(`${urnLower}:`)) {
      rest = text.slice(urnLower.length + 1)
      break
    }
  }
  const head = /^[A-Za-z][A-Za-z0-9_$-]*/.exec(rest.trimStart())?.[0]
  const def = head === undefined ? undefined : ATTRIBUTES.get(head.toLowerCase())
  return def ? { name: def.name, def } : undefined
}

/** `=true`/`=false` for a boolean attribute's boolean value, `(n)` for an array's length, else nothing. */
function annotation(def: AttributeDef | undefined, v: unknown): string {
  if (Array.isArray(v)) return `(${v.length})`
  if (def?.type !== 'boolean') return ''
  if (typeof v === 'boolean') return `=${v}`
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return `=${v.toLowerCase()}`
  return ''
}

/** The keys of an object as attribute names with annotations; unknown keys as a count. */
function keys(body: Record<string, unknown>): string {
  const named: string[] = []
  let unknown = 0
  for (const [k, v] of Object.entries(body)) {
    if (SKIPPED.has(k.toLowerCase())) continue
    const attribute = attributeOf(k)
    if (!attribute) unknown++
    else named.push(`${attribute.name}${annotation(attribute.def, v)}`)
  }
  if (unknown) named.push(`+${unknown} unknown`)
  return named.join(' ')
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** One PATCH operation: its kind and the attribute it names (or the attributes of its value). */
function operation(op: unknown): string {
  if (!isRecord(op)) return '?'
  const opKey = findKey(op, 'op')
  const pathKey = findKey(op, 'path')
  const valueKey = findKey(op, 'value')
  const rawVerb = opKey === undefined ? undefined : op[opKey]
  const verb = typeof rawVerb === 'string' && VERBS.has(rawVerb.toLowerCase()) ? rawVerb.toLowerCase() : '?'
  const path = pathKey === undefined ? undefined : op[pathKey]
  const value = valueKey === undefined ? undefined : op[valueKey]
  if (typeof path === 'string') {
    const attribute = attributeOf(path)
    return attribute ? `${verb} ${attribute.name}${annotation(attribute.def, value)}` : `${verb} ?`
  }
  if (isRecord(value)) return `${verb} {${keys(value)}}`
  return verb
}

/** Summarises a request body by method: attribute names for POST/PUT, operations for PATCH. */
export function summarizeChange(method: string, body: unknown): string | null {
  if (!isRecord(body)) return null
  if (method !== 'PATCH') return keys(body).slice(0, 500) || null
  const opsKey = findKey(body, 'operations')
  const ops = opsKey === undefined ? undefined : body[opsKey]
  if (!Array.isArray(ops)) return null
  const parts = ops.slice(0, LISTED_OPERATIONS).map(operation)
  if (ops.length > LISTED_OPERATIONS) parts.push(`… ${ops.length - LISTED_OPERATIONS} more`)
  return parts.join('; ').slice(0, 500)
}
