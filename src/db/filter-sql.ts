/**
 * SCIM filters as parameterised SQL on `users` and `groups` (RFC 7644 §3.4.2.2), through an
 * explicit attribute→column map; everything else reads the `resource` JSON. The semantics are
 * those of src/scim/filter/evaluate.ts (the tests compare the two on real D1):
 * - every condition is two-valued (never NULL), so `not (...)` keeps rows whose value is missing;
 * - co/sw/ew use instr()/substr() rather than LIKE: LIKE folds ASCII case even for caseExact
 *   attributes (externalId, id, members.value) and D1 caps LIKE patterns at 50 bytes;
 * - columns of caseExact:false attributes (form `lower`) hold canonicalName() forms
 *   (src/scim/resource/canonical.ts: width mapping, NFC, toLowerCase, NFC), so the value is put in
 *   that form in JS and NFC/NFD, fullwidth and case variants of a userName or Group displayName
 *   match. JSON attributes use SQLite lower() on both sides, which folds ASCII only and cannot
 *   normalise: a filter on, e.g., `title` matches "ÉCOLE" only as written or as "École"-style ASCII
 *   variants, and an NFD value only as NFD.
 */
import { sql, type SQL } from 'drizzle-orm'
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core'
import type { AttrPath, CompareOp, Filter } from '../scim/filter/ast.ts'
import { normalizeFilter, resolveNormalPath } from '../scim/filter/check.ts'
import { compareValue } from '../scim/filter/evaluate.ts'
import { InvalidFilter } from '../scim/errors.ts'
import { canonicalName } from '../scim/resource/canonical.ts'
import { canonicalPath } from '../scim/schemas/index.ts'
import type { AttributeDef, ResourceTypeDef } from '../scim/schemas/types.ts'
import { attributeForm } from './user-columns.ts'
import { users } from './schema.ts'
import { catalogMap, GROUPS, USERS, usersMap, type Source, type TableMap } from './filter-columns.ts'
export {
  catalogSortSql,
  groupSortSql,
  groupSortableAttributes,
  userSortSql,
  userSortableAttributes,
} from './sort-columns.ts'

/** Most bound parameters a filter may use; D1 allows 100 per statement and the caller adds a few. */
export const MAX_FILTER_PARAMS = 90

/** A boolean SQL condition on `users` for a SCIM filter, RFC 7644 §3.4.2.2; throws InvalidFilter. The caller adds tenant and deleted_at. */
export function userFilterSql(filter: Filter, type: ResourceTypeDef = USERS.type, tenantKey?: string): SQL {
  return compileTop(usersMap(type, tenantKey), filter)
}

/** A boolean SQL condition on `groups` for a SCIM filter, RFC 7644 §3.4.2.2; throws InvalidFilter. The caller adds the tenant. */
export function groupFilterSql(filter: Filter): SQL {
  return compileTop(GROUPS, filter)
}

/** A boolean SQL condition on `catalog_entries` for a filter on one catalogue type; the caller adds tenant and type. */
export function catalogFilterSql(type: ResourceTypeDef, filter: Filter): SQL {
  return compileTop(catalogMap(type), filter)
}

interface Context {
  map: TableMap
  params: number
  /** Whether a leaf reads user_attribute_values. */
  indexed?: boolean
}

/** Conditions with a leaf on a declared attribute: their page is best found through that index. */
const throughIndex = new WeakSet<SQL>()

/**
 * True when `where` reads a declared attribute's index. The page query then orders by `+seq`, so
 * SQLite finds the rows through that index and sorts them, instead of walking every user in seq order.
 */
export function readsDeclaredIndex(where: SQL | undefined): boolean {
  return where !== undefined && throughIndex.has(where)
}

/** Where a leaf reads its value: a named attribute of the row, or a sub-attribute of one element. */
type Scope = (path: AttrPath) => { def: AttributeDef; label: string; source: Source | undefined }

function compileTop(map: TableMap, filter: Filter): SQL {
  const ctx: Context = { map, params: 0 }
  const normal = normalizeFilter(map.type, filter)
  const out = compile(ctx, normal, rowScope(ctx))
  if (ctx.indexed) throughIndex.add(out)
  return out
}

function bind(ctx: Context, value: string | number): SQL {
  ctx.params++
  if (ctx.params > MAX_FILTER_PARAMS) {
    throw new InvalidFilter(
      `filter is too large: it needs more than ${MAX_FILTER_PARAMS} values; split it into several requests`,
    )
  }
  return sql`${value}`
}

function rowScope(ctx: Context): Scope {
  return (path) => {
    const resolved = resolveNormalPath(ctx.map.type, path)
    const key = canonicalPath(resolved)
    const def = resolved.subAttribute ?? resolved.attribute
    const source =
      ctx.map.columns[key] ??
      jsonSource(
        sql`${ctx.map.resource}`,
        resolved.extension ? [resolved.schema] : [],
        resolved.attribute.name,
        resolved.subAttribute?.name,
      )
    return { def, label: key, source }
  }
}

function jsonSource(doc: SQL, prefix: string[], attr: string, sub?: string): Source {
  const segments = [...prefix, attr, ...(sub === undefined ? [] : [sub])]
  return { kind: 'json', doc, path: jsonPath(segments) }
}

/** A JSON path literal from schema names; names come from the schema definitions, never from the request. */
function jsonPath(segments: string[]): string {
  for (const s of segments) if (!/^[A-Za-z0-9$:._-]+$/.test(s)) throw new Error(`unsafe JSON path segment ${s}`)
  return `$${segments.map((s) => `."${s}"`).join('')}`
}

function compile(ctx: Context, filter: Filter, scope: Scope): SQL {
  switch (filter.op) {
    case 'and':
    case 'or': {
      // D1 caps expression depth at 100 and SQLite nests `a OR b OR c` one level per term, so a chain
      // becomes a balanced tree: 300 terms nest 9 deep.
      const parts: SQL[] = []
      const collect = (f: Filter): void => {
        if (f.op === filter.op) {
          collect(f.left)
          collect(f.right)
        } else parts.push(compile(ctx, f, scope))
      }
      collect(filter)
      return balanced(parts, filter.op === 'and' ? sql` AND ` : sql` OR `)
    }
    case 'not':
      return sql`(NOT ${compile(ctx, filter.filter, scope)})`
    case 'valuePath':
      return compileValuePath(ctx, filter.path, filter.filter)
    default: {
      const { def, label, source } = scope(filter.path)
      if (def.type === 'complex') return presentComplex(ctx, filter.path, def)
      if (def.multiValued && source?.kind === 'json') return jsonValues(ctx, { source, def, label }, filter)
      const out = source ? leafSql(ctx, { source, def, label }, filter) : undefined
      if (!out) throw new InvalidFilter(`filtering on "${label}" is not supported`)
      // Leaves may be `a AND b`; the parentheses keep NOT and OR from splitting them.
      return sql`(${out})`
    }
  }
}

/** Joins conditions as a balanced tree of `sep`, so the SQL nests log2(n) deep. */
function balanced(parts: SQL[], sep: SQL): SQL {
  if (parts.length === 1) return parts[0] as SQL
  const mid = Math.ceil(parts.length / 2)
  return sql`(${balanced(parts.slice(0, mid), sep)}${sep}${balanced(parts.slice(mid), sep)})`
}

/** `attr pr` on a complex attribute: some sub-attribute (of some element) is present, RFC 7644 §3.4.2.2. */
function presentComplex(ctx: Context, path: AttrPath, def: AttributeDef): SQL {
  const subs = def.subAttributes ?? []
  if (def.multiValued) {
    const child = ctx.map.children[def.name]
    if (child && !child.inJson) return sql`EXISTS (SELECT 1 FROM ${child.from} WHERE ${child.link})`
    const anySub: Filter = subs
      .map((s): Filter => ({ op: 'pr', path: { attr: s.name } }))
      .reduce((left, right) => ({ op: 'or', left, right }))
    return jsonElements(ctx, path, def, anySub)
  }
  const parts = subs.map((s) => compile(ctx, { op: 'pr', path: { ...path, sub: s.name } }, rowScope(ctx)))
  return balanced(parts, sql` OR `)
}

function compileValuePath(ctx: Context, path: AttrPath, inner: Filter): SQL {
  const resolved = resolveNormalPath(ctx.map.type, path)
  const def = resolved.attribute
  const subDef = (name: string) => (def.subAttributes ?? []).find((s) => s.name === name) as AttributeDef
  if (!def.multiValued) {
    // A single complex attribute (name, manager): the bracket filter reads its sub-attributes on the row.
    const row = rowScope(ctx)
    return compile(ctx, inner, (p) => row({ ...path, sub: p.attr }))
  }
  const child = ctx.map.children[def.name]
  if (child && (child.onlyWith === undefined || whenAbsent(inner, child.onlyWith) === false)) {
    const before = ctx.params
    try {
      const where = compile(ctx, inner, (p) => ({
        def: subDef(p.attr),
        label: `${def.name}.${p.attr}`,
        source: child.subs[p.attr],
      }))
      return sql`EXISTS (SELECT 1 FROM ${child.from} WHERE ${child.link} AND ${where})`
    } catch (e) {
      if (!(e instanceof InvalidFilter) || !child.inJson) throw e
      // A sub-attribute or operator the table cannot answer exactly: read the JSON instead.
      ctx.params = before
    }
  }
  return jsonElements(ctx, path, def, inner)
}

/**
 * The value of an element filter for an element that lacks `sub`, in three-valued logic: false
 * means no such element can match, so a table holding only elements with `sub` answers exactly.
 */
function whenAbsent(filter: Filter, sub: string): boolean | undefined {
  switch (filter.op) {
    case 'and': {
      const l = whenAbsent(filter.left, sub)
      const r = whenAbsent(filter.right, sub)
      return l === false || r === false ? false : l === true && r === true ? true : undefined
    }
    case 'or': {
      const l = whenAbsent(filter.left, sub)
      const r = whenAbsent(filter.right, sub)
      return l === true || r === true ? true : l === false && r === false ? false : undefined
    }
    case 'not': {
      const v = whenAbsent(filter.filter, sub)
      return v === undefined ? undefined : !v
    }
    case 'valuePath':
      return undefined
    default:
      // An absent value is neither present nor equal to anything (src/scim/filter/evaluate.ts).
      return filter.path.attr === sub ? false : undefined
  }
}

/** EXISTS over the elements of a multi-valued attribute in `resource` (json_each), filtered by `inner`. */
function jsonElements(ctx: Context, path: AttrPath, def: AttributeDef, inner: Filter): SQL {
  const resolved = resolveNormalPath(ctx.map.type, path)
  const arrayPath = jsonPath([...(resolved.extension ? [resolved.schema] : []), def.name])
  const element = sql.raw('scim_el.value')
  const where = compile(ctx, inner, (p) => ({
    def: (def.subAttributes ?? []).find((s) => s.name === p.attr) as AttributeDef,
    label: `${def.name}.${p.attr}`,
    source: jsonSource(element, [], p.attr),
  }))
  return sql`EXISTS (SELECT 1 FROM json_each(${ctx.map.resource}, ${sql.raw(`'${arrayPath}'`)}) AS scim_el WHERE json_type(scim_el.value) = 'object' AND ${where})`
}

/**
 * A leaf on a multi-valued simple attribute (a tenant's declared `--multi` one): true when some value
 * matches, each value compared as a single one would be.
 */
function jsonValues(
  ctx: Context,
  target: { source: { doc: SQL; path: string }; def: AttributeDef; label: string },
  filter: Filter,
): SQL {
  const { source, def, label } = target
  const element: Source = { kind: 'json', doc: sql.raw('json_array(scim_val.value)'), path: '$[0]' }
  const out = leafSql(ctx, { source: element, def: { ...def, multiValued: false }, label }, filter)
  if (!out) throw new InvalidFilter(`filtering on "${label}" is not supported`)
  return sql`EXISTS (SELECT 1 FROM json_each(${source.doc}, ${sql.raw(`'${source.path}'`)}) AS scim_val WHERE ${out})`
}

/** A leaf of a filter: `pr`, or a comparison with its value. */
interface Leaf {
  op: CompareOp | 'pr'
  value: unknown
}

/** One `pr` or comparison as a two-valued condition; undefined when the source cannot answer it exactly. */
function leafSql(
  ctx: Context,
  target: { source: Source; def: AttributeDef; label: string },
  filter: Filter,
): SQL | undefined {
  const { source, def, label } = target
  const op = filter.op === 'pr' ? 'pr' : 'value' in filter ? filter.op : undefined
  const value = 'value' in filter ? filter.value : null
  if (op === undefined) return undefined
  const leaf: Leaf = { op, value }
  switch (source.kind) {
    case 'constant':
      return op === 'pr' ? sql`1` : compareValue(def, op, source.value, value) ? sql`1` : sql`0`
    case 'unsupported':
      if (op === 'pr') return sql`1`
      throw new InvalidFilter(`filtering on "${label}" with "${op}" is not supported`)
    case 'column':
      return columnLeaf(ctx, source, leaf)
    case 'json':
      return jsonLeaf(ctx, source, def, leaf)
    case 'indexed':
      return indexedLeaf(ctx, source, def, leaf)
  }
}

/**
 * A leaf on a declared attribute: the users that have a matching value row, found through the
 * (tenant, attr, value) index, so the filter reads about the rows it matches. Multi-valued attributes
 * match when some value does, as RFC 7644 §3.4.2.2 asks.
 */
function indexedLeaf(ctx: Context, source: { attr: string; tenantKey: string }, def: AttributeDef, leaf: Leaf): SQL {
  const { op, value } = leaf
  ctx.indexed = true
  const rows = (cond: SQL) =>
    sql`${users.id} IN (SELECT user_id FROM user_attribute_values WHERE tenant_id = ${bind(ctx, source.tenantKey)}
      AND attr = ${sql.raw(`'${source.attr}'`)} AND ${cond})`
  if (op === 'pr') return rows(sql`1`)
  if (def.type === 'boolean') return rows(sql`value = ${sql.raw((op === 'eq') === (value === true) ? '1' : '0')}`)
  const form = attributeForm({ ...def, multiValued: false }, value)
  if (form === undefined) return sql`0`
  if (typeof form === 'number') return rows(sql`value ${sql.raw(SQL_OPS[op] || '=')} ${bind(ctx, form)}`)
  if (op === 'eq') return rows(sql`value = ${bind(ctx, form)}`)
  if (op === 'ne') return rows(sql`value <> ${bind(ctx, form)}`)
  return rows(textCondition(ctx, sql`value`, { op, text: form }, (v) => v))
}

function columnLeaf(
  ctx: Context,
  source: { column: AnySQLiteColumn; form: 'lower' | 'exact' | 'iso' | 'bool' },
  leaf: Leaf,
): SQL {
  const { column: col, form } = source
  const { op, value } = leaf
  const nullable = !col.notNull
  const guard = (cond: SQL): SQL => (nullable ? sql`(${col} IS NOT NULL AND ${cond})` : cond)
  if (form === 'bool') {
    if (op === 'pr') return nullable ? sql`(${col} IS NOT NULL)` : sql`1`
    const want = op === 'eq' ? value === true : value === false
    return guard(sql`${col} = ${sql.raw(want ? '1' : '0')}`)
  }
  if (op === 'pr') return guard(sql`${col} <> ''`)
  const raw = String(value)
  const text = form === 'lower' ? canonicalName(raw) : raw
  if (op === 'eq') return text === '' ? sql`0` : guard(sql`${col} = ${bind(ctx, text)}`)
  return guard(sql`${col} <> '' AND ${textCondition(ctx, sql`${col}`, { op, text }, (v) => v)}`)
}

/** The comparison of text `e` with `text`; `fold` wraps the bound value (lower() for JSON caseExact:false). */
function textCondition(ctx: Context, e: SQL, comparison: { op: CompareOp; text: string }, fold: (v: SQL) => SQL): SQL {
  const { op, text } = comparison
  const length = [...text].length
  switch (op) {
    case 'co':
      return sql`instr(${e}, ${fold(bind(ctx, text))}) > 0`
    case 'sw':
      return length === 0 ? sql`1` : sql`substr(${e}, 1, ${sql.raw(String(length))}) = ${fold(bind(ctx, text))}`
    case 'ew':
      return length === 0 ? sql`1` : sql`substr(${e}, ${sql.raw(String(-length))}) = ${fold(bind(ctx, text))}`
    default:
      return sql`${e} ${sql.raw(SQL_OPS[op])} ${fold(bind(ctx, text))}`
  }
}

const SQL_OPS: Record<CompareOp, string> = {
  eq: '=',
  ne: '<>',
  gt: '>',
  ge: '>=',
  lt: '<',
  le: '<=',
  co: '',
  sw: '',
  ew: '',
}

function jsonLeaf(ctx: Context, source: { doc: SQL; path: string }, def: AttributeDef, leaf: Leaf): SQL {
  const { doc, path } = source
  const { op, value } = leaf
  const p = sql.raw(`'${path}'`)
  const e = sql`json_extract(${doc}, ${p})`
  const jtype = sql`json_type(${doc}, ${p})`
  // json_extract gives NULL for a missing key; coalesce keeps the condition two-valued under NOT.
  if (op === 'pr') return sql`coalesce(${jtype} <> 'null' AND ${e} <> '', 0)`
  switch (def.type) {
    case 'boolean': {
      const want = op === 'eq' ? value === true : value === false
      return sql`coalesce(${jtype} = ${sql.raw(want ? "'true'" : "'false'")}, 0)`
    }
    case 'integer':
    case 'decimal':
      return sql`coalesce(${jtype} IN ('integer', 'real') AND ${e} ${sql.raw(SQL_OPS[op])} ${bind(ctx, value as number)}, 0)`
    case 'dateTime':
      // Stored dateTimes may carry offsets; strftime renders them as toISOString() does.
      return sql`coalesce(${jtype} = 'text' AND strftime('%Y-%m-%dT%H:%M:%fZ', ${e}) ${sql.raw(SQL_OPS[op])} ${bind(ctx, value as string)}, 0)`
    default: {
      const text = value as string
      if (op === 'eq' && text === '') return sql`0`
      const folded = def.caseExact ? e : sql`lower(${e})`
      const fold = def.caseExact ? (v: SQL) => v : (v: SQL) => sql`lower(${v})`
      return sql`coalesce(${jtype} = 'text' AND ${e} <> '' AND ${textCondition(ctx, folded, { op, text }, fold)}, 0)`
    }
  }
}
