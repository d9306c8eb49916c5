import { describe, expect, it } from 'vitest'
import cases from '../fixtures/filter-cases.json'
import { formatFilter, type Filter } from '../../src/scim/filter/ast.ts'
import { checkFilter } from '../../src/scim/filter/check.ts'
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, parseFilter, parsePatchPath } from '../../src/scim/filter/parser.ts'
import { InvalidFilter, InvalidPath, ScimError } from '../../src/scim/errors.ts'
import { groupResourceType, userResourceType } from '../../src/scim/schemas/index.ts'

interface ParseCase {
  source: string
  canonical?: string
  ast?: unknown
}

function thrown(fn: () => unknown): ScimError {
  try {
    fn()
  } catch (e) {
    if (e instanceof ScimError) return e
    throw e
  }
  throw new Error('expected a ScimError')
}

describe('parseFilter: valid filters', () => {
  it.each((cases.parse as ParseCase[]).map((c) => [c.source, c] as const))('%s', (_, c) => {
    const filter = parseFilter(c.source)
    if (c.ast !== undefined) expect(filter).toEqual(c.ast)
    if (c.canonical !== undefined) expect(formatFilter(filter)).toBe(c.canonical)
    // The canonical rendering parses back to the same tree.
    expect(parseFilter(formatFilter(filter))).toEqual(filter)
  })
})

describe('parseFilter: invalid filters', () => {
  it.each(cases.parseErrors.map((c) => [c.source, c.detail] as const))('%j', (source, detail) => {
    const e = thrown(() => parseFilter(source))
    expect(e).toBeInstanceOf(InvalidFilter)
    expect(e.status).toBe(400)
    expect(e.scimType).toBe('invalidFilter')
    expect(e.message).toContain(detail)
  })

  it('rejects filters longer than the limit', () => {
    const source = `userName eq "${'x'.repeat(MAX_FILTER_LENGTH)}"`
    expect(thrown(() => parseFilter(source)).message).toBe(
      `filter is ${source.length} characters long; the limit is ${MAX_FILTER_LENGTH}`,
    )
  })

  it('accepts nesting up to the limit and rejects deeper nesting', () => {
    const nested = (n: number) => `${'('.repeat(n)}a pr${')'.repeat(n)}`
    expect(parseFilter(nested(MAX_FILTER_DEPTH))).toEqual({ op: 'pr', path: { attr: 'a' } })
    expect(thrown(() => parseFilter(nested(MAX_FILTER_DEPTH + 1))).message).toBe(
      `filter nests deeper than ${MAX_FILTER_DEPTH} levels at position ${MAX_FILTER_DEPTH + 1}`,
    )
    expect(thrown(() => parseFilter(`${'not '.repeat(MAX_FILTER_DEPTH + 1)}a pr`)).message).toContain(
      'nests deeper than',
    )
  })

  it('keeps long and/or chains parseable within the length limit', () => {
    const source = Array.from({ length: 300 }, (_, i) => `a${i} pr`).join(' or ')
    const filter = parseFilter(source)
    expect(formatFilter(filter)).toBe(source)
  })
})

describe('checkFilter', () => {
  it.each((cases.users as string[]).map((s) => [s] as const))('User accepts %s', (source) => {
    expect(() => checkFilter(userResourceType, parseFilter(source))).not.toThrow()
  })

  it.each((cases.groups as string[]).map((s) => [s] as const))('Group accepts %s', (source) => {
    expect(() => checkFilter(groupResourceType, parseFilter(source))).not.toThrow()
  })

  it.each(cases.checkErrors.map((c) => [c.type, c.source, c.detail] as const))(
    '%s rejects %s',
    (type, source, detail) => {
      const e = thrown(() => checkFilter(type === 'User' ? userResourceType : groupResourceType, parseFilter(source)))
      expect(e).toBeInstanceOf(InvalidFilter)
      expect(e.scimType).toBe('invalidFilter')
      expect(e.message).toContain(detail)
    },
  )
})

describe('parsePatchPath', () => {
  const paths: [string, unknown][] = [
    ['members', { path: { attr: 'members' } }],
    ['name.familyName', { path: { attr: 'name', sub: 'familyName' } }],
    [
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber',
      { path: { urn: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'employeeNumber' } },
    ],
    [
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value',
      { path: { urn: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'manager', sub: 'value' } },
    ],
    [
      'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
      {
        path: { attr: 'members' },
        filter: { op: 'eq', path: { attr: 'value' }, value: '2819c223-7f76-453a-919d-413861904646' },
      },
    ],
    [
      'emails[type eq "work"].value',
      {
        path: { attr: 'emails' },
        filter: { op: 'eq', path: { attr: 'type' }, value: 'work' },
        subAfterFilter: 'value',
      },
    ],
    [
      'addresses[type eq "work" and not (primary eq false)].streetAddress',
      {
        path: { attr: 'addresses' },
        filter: {
          op: 'and',
          left: { op: 'eq', path: { attr: 'type' }, value: 'work' },
          right: { op: 'not', filter: { op: 'eq', path: { attr: 'primary' }, value: false } },
        },
        subAfterFilter: 'streetAddress',
      },
    ],
  ]
  it.each(paths)('%s', (source, expected) => {
    expect(parsePatchPath(source)).toEqual(expected)
  })

  const bad: [string, string][] = [
    ['', 'invalid path "": it is empty'],
    ['emails[type eq "work"', 'expected "]" to close the "[" at position 7'],
    ['emails[type eq]', 'expected a value after "eq"'],
    ['emails.value[type eq "work"]', 'a [filter] follows an attribute'],
    ['emails[type eq "work"].value.x', 'expected a sub-attribute name'],
    ['emails[type eq "work"] x', 'unexpected "x" at position 24; expected the end of the path'],
    ['name.familyName eq "x"', 'unexpected "eq" at position 17; expected the end of the path'],
    ['a.b.c', 'invalid attribute path "a.b.c"'],
    ['[type eq "work"]', 'expected an attribute name'],
    ["emails[type eq 'work']", 'strings take double quotes'],
  ]
  it.each(bad)('rejects %j', (source, detail) => {
    const e = thrown(() => parsePatchPath(source))
    expect(e).toBeInstanceOf(InvalidPath)
    expect(e.scimType).toBe('invalidPath')
    expect(e.message).toContain(detail)
  })
})

describe('formatFilter', () => {
  it('renders values as JSON and keeps the tree shape', () => {
    const f: Filter = {
      op: 'and',
      left: {
        op: 'or',
        left: { op: 'eq', path: { attr: 'a' }, value: 'x"y' },
        right: { op: 'pr', path: { attr: 'b' } },
      },
      right: { op: 'not', filter: { op: 'gt', path: { urn: 'urn:x:y', attr: 'c', sub: 'd' }, value: 1.5 } },
    }
    expect(formatFilter(f)).toBe('(a eq "x\\"y" or b pr) and not (urn:x:y:c.d gt 1.5)')
    expect(parseFilter(formatFilter(f))).toEqual(f)
  })
})
