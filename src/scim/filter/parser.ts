/** Recursive-descent parser for filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2). */
import { InvalidFilter, InvalidPath } from '../errors.ts'
import type { AttrPath, CompareOp, CompValue, Filter, PatchPath } from './ast.ts'
import { describe, tokenize, type Token } from './lexer.ts'

/** Longest filter accepted, in characters: a bound on work per request, not an RFC number. */
export const MAX_FILTER_LENGTH = 4096
/** Deepest nesting of "(", "not" and "[" accepted, so recursion stays shallow. */
export const MAX_FILTER_DEPTH = 50

const COMPARE_OPS: readonly string[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']
const OPERATOR_LIST = 'eq, ne, co, sw, ew, gt, ge, lt, le or pr'
const NAME = /^\$?[A-Za-z][A-Za-z0-9_-]*$/

interface Cursor {
  tokens: Token[]
  i: number
}

/** Parses a SCIM filter into the AST (RFC 7644 §3.4.2.2); throws InvalidFilter naming the problem and its position. */
export function parseFilter(text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) {
    throw new InvalidFilter(`filter is ${text.length} characters long; the limit is ${MAX_FILTER_LENGTH}`)
  }
  if (text.trim() === '') throw new InvalidFilter('filter is empty')
  const c: Cursor = { tokens: tokenize(text), i: 0 }
  const filter = parseOr(c, 0, false)
  const rest = peek(c)
  if (rest.kind !== 'end') {
    const closer =
      rest.kind === ')' || rest.kind === ']' ? `; there is no matching "${rest.kind === ')' ? '(' : '['}"` : ''
    throw new InvalidFilter(
      `unexpected ${describe(rest)} at position ${rest.pos}; expected "and", "or" or the end of the filter${closer}`,
    )
  }
  return filter
}

/**
 * Parses a PATCH path (RFC 7644 §3.5.2): `attr`, `attr.sub`, `urn:...:attr[.sub]`, `attr[filter]`, `attr[filter].sub`.
 * Every problem, including one inside the brackets, is InvalidPath.
 */
export function parsePatchPath(text: string): PatchPath {
  try {
    if (text.length > MAX_FILTER_LENGTH)
      throw new InvalidFilter(`it is ${text.length} characters long; the limit is ${MAX_FILTER_LENGTH}`)
    if (text.trim() === '') throw new InvalidFilter('it is empty')
    const c: Cursor = { tokens: tokenize(text), i: 0 }
    const head = next(c)
    if (head.kind !== 'word')
      throw new InvalidFilter(`unexpected ${describe(head)} at position ${head.pos}; expected an attribute name`)
    const result: PatchPath = { path: toPath(head) }
    if (peek(c).kind === '[') {
      const open = next(c)
      if (result.path.sub !== undefined) throw filterAfterSub(head, open)
      result.filter = parseOr(c, 1, true)
      expectClose(c, ']', open)
      if (peek(c).kind === '.') result.subAfterFilter = parseSubAfterFilter(c)
    }
    const rest = peek(c)
    if (rest.kind !== 'end')
      throw new InvalidFilter(`unexpected ${describe(rest)} at position ${rest.pos}; expected the end of the path`)
    return result
  } catch (e) {
    if (e instanceof InvalidFilter) throw new InvalidPath(`invalid path "${text}": ${e.message}`)
    throw e
  }
}

function peek(c: Cursor): Token {
  return c.tokens[c.i] as Token
}

function next(c: Cursor): Token {
  const t = c.tokens[c.i] as Token
  if (t.kind !== 'end') c.i++
  return t
}

function isKeyword(t: Token, keyword: string): boolean {
  return t.kind === 'word' && t.text.toLowerCase() === keyword
}

function deeper(depth: number, at: Token): number {
  if (depth + 1 > MAX_FILTER_DEPTH)
    throw new InvalidFilter(`filter nests deeper than ${MAX_FILTER_DEPTH} levels at position ${at.pos}`)
  return depth + 1
}

// or < and < not < ( ): each level parses the next tighter one (RFC 7644 §3.4.2.2 "precedence").
function parseOr(c: Cursor, depth: number, inner: boolean): Filter {
  let left = parseAnd(c, depth, inner)
  while (isKeyword(peek(c), 'or')) {
    next(c)
    left = { op: 'or', left, right: parseAnd(c, depth, inner) }
  }
  return left
}

function parseAnd(c: Cursor, depth: number, inner: boolean): Filter {
  let left = parseNot(c, depth, inner)
  while (isKeyword(peek(c), 'and')) {
    next(c)
    left = { op: 'and', left, right: parseNot(c, depth, inner) }
  }
  return left
}

function parseNot(c: Cursor, depth: number, inner: boolean): Filter {
  const t = peek(c)
  // RFC 7644 writes `not "(" filter ")"`; `not attr eq "x"` is accepted too, binding tighter than and.
  if (isKeyword(t, 'not')) {
    next(c)
    return { op: 'not', filter: parseNot(c, deeper(depth, t), inner) }
  }
  return parsePrimary(c, depth, inner)
}

function parsePrimary(c: Cursor, depth: number, inner: boolean): Filter {
  const t = next(c)
  if (t.kind === '(') {
    const filter = parseOr(c, deeper(depth, t), inner)
    expectClose(c, ')', t)
    return filter
  }
  if (t.kind === 'word') return parseAttrExp(c, t, depth, inner)
  throw new InvalidFilter(`unexpected ${describe(t)} at position ${t.pos}; expected an attribute name, "(" or "not"`)
}

function expectClose(c: Cursor, kind: ')' | ']', open: Token): void {
  const t = next(c)
  if (t.kind === kind) return
  throw new InvalidFilter(
    `unexpected ${describe(t)} at position ${t.pos}; expected "${kind}" to close the "${open.text}" at position ${open.pos}`,
  )
}

function parseAttrExp(c: Cursor, word: Token, depth: number, inner: boolean): Filter {
  const path = toPath(word)
  if (peek(c).kind === '[') {
    const open = next(c)
    if (inner)
      throw new InvalidFilter(`unexpected "[" at position ${open.pos}; a filter inside [ ] cannot contain another [ ]`)
    if (path.sub !== undefined) throw filterAfterSub(word, open)
    let filter = parseOr(c, deeper(depth, open), true)
    expectClose(c, ']', open)
    // Entra sends `emails[type eq "work"].value eq "x"` as a filter (docs/idp-quirks.md#entra-test-connection):
    // it means one element matches both, so the trailing comparison joins the bracket filter.
    if (peek(c).kind === '.') {
      const sub = parseSubAfterFilter(c)
      filter = { op: 'and', left: filter, right: parseComparison(c, { attr: sub }) }
    }
    return { op: 'valuePath', path, filter }
  }
  return parseComparison(c, path)
}

function parseComparison(c: Cursor, path: AttrPath): Filter {
  const t = next(c)
  if (t.kind !== 'word') {
    throw new InvalidFilter(`unexpected ${describe(t)} at position ${t.pos}; expected an operator (${OPERATOR_LIST})`)
  }
  const op = t.text.toLowerCase()
  if (op === 'pr') return { op: 'pr', path }
  if (!COMPARE_OPS.includes(op))
    throw new InvalidFilter(`unknown operator "${t.text}" at position ${t.pos}; expected ${OPERATOR_LIST}`)
  return { op: op as CompareOp, path, value: parseValue(c, t) }
}

function parseValue(c: Cursor, opToken: Token): CompValue {
  const t = next(c)
  if (t.kind === 'string' || t.kind === 'number') return t.value as string | number
  if (t.kind === 'word') {
    // ABNF literals are case-insensitive (RFC 5234 §2.3), so `True` is true.
    const lower = t.text.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
    if (lower === 'null') return null
  }
  const hint = t.kind === 'word' ? `; put strings in double quotes: "${t.text}"` : ''
  throw new InvalidFilter(
    `unexpected ${describe(t)} at position ${t.pos}; expected a value after "${opToken.text}" (a JSON string, a number, true, false or null)${hint}`,
  )
}

function parseSubAfterFilter(c: Cursor): string {
  const dot = next(c)
  const t = next(c)
  if (t.kind !== 'word' || t.pos !== dot.pos + 1 || !NAME.test(t.text)) {
    throw new InvalidFilter(
      `unexpected ${describe(t)} at position ${t.pos}; expected a sub-attribute name right after "]."`,
    )
  }
  return t.text
}

function filterAfterSub(word: Token, open: Token): InvalidFilter {
  return new InvalidFilter(
    `unexpected "[" at position ${open.pos}; a [filter] follows an attribute, not the sub-attribute in "${word.text}"`,
  )
}

/** Splits `urn:...:attr.sub` into an AttrPath (RFC 7644 §3.10); the URN is everything before the last colon. */
function toPath(t: Token): AttrPath {
  let urn: string | undefined
  let rest = t.text
  if (rest.toLowerCase().startsWith('urn:')) {
    const colon = rest.lastIndexOf(':')
    urn = rest.slice(0, colon)
    rest = rest.slice(colon + 1)
  }
  const parts = rest.split('.')
  if (parts.length > 2 || !parts.every((p) => NAME.test(p))) {
    throw new InvalidFilter(
      `invalid attribute path "${t.text}" at position ${t.pos}; expected attr, attr.sub or urn:...:attr`,
    )
  }
  const path: AttrPath = { attr: parts[0] as string }
  if (urn !== undefined) path.urn = urn
  if (parts[1] !== undefined) path.sub = parts[1]
  return path
}
