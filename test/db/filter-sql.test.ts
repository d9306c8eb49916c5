import type { SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import cases from '../fixtures/filter-cases.json'
import {
  groupFilterSql,
  groupSortSql,
  MAX_FILTER_PARAMS,
  userFilterSql,
  userSortableAttributes,
  userSortSql,
} from '../../src/db/filter-sql.ts'
import { groups, users } from '../../src/db/schema.ts'
import type { Filter } from '../../src/scim/filter/ast.ts'
import { matchesFilter } from '../../src/scim/filter/evaluate.ts'
import { parseFilter } from '../../src/scim/filter/parser.ts'
import { InvalidFilter, InvalidValue, ScimError } from '../../src/scim/errors.ts'
import { groupResourceType, userResourceType } from '../../src/scim/schemas/index.ts'
import { ENT, groupIds, newTenant, seed, userIds, type Resource } from './filter-sql-seed.ts'

const expectedUsers = (list: Resource[], filter: Filter) =>
  list
    .filter((u) => matchesFilter(userResourceType, u, filter))
    .map((u) => u.id as string)
    .sort()

function thrown(fn: () => unknown): ScimError {
  try {
    fn()
  } catch (e) {
    if (e instanceof ScimError) return e
    throw e
  }
  throw new Error('expected a ScimError')
}

const sampleUsers = cases.resources.users as Resource[]
const sampleGroups = cases.resources.groups as Resource[]

describe('userFilterSql returns exactly what matchesFilter returns', () => {
  it.each((cases.users as string[]).map((s) => [s] as const))('%s', async (source) => {
    const tenantId = newTenant()
    await seed(tenantId, sampleUsers, sampleGroups)
    const filter = parseFilter(source)
    expect(await userIds(tenantId, userFilterSql(filter))).toEqual(expectedUsers(sampleUsers, filter))
  })
})

describe('groupFilterSql returns exactly what matchesFilter returns', () => {
  it.each((cases.groups as string[]).map((s) => [s] as const))('%s', async (source) => {
    const tenantId = newTenant()
    await seed(tenantId, [], sampleGroups)
    const filter = parseFilter(source)
    const expected = sampleGroups
      .filter((g) => matchesFilter(groupResourceType, g, filter))
      .map((g) => g.id as string)
      .sort()
    expect(await groupIds(tenantId, groupFilterSql(filter))).toEqual(expected)
  })
})

describe('filter SQL errors and limits', () => {
  it.each(cases.sqlErrors.map((c) => [c.type, c.source, c.detail] as const))(
    '%s rejects %s',
    (type, source, detail) => {
      const compile = type === 'User' ? userFilterSql : groupFilterSql
      const e = thrown(() => compile(parseFilter(source)))
      expect(e).toBeInstanceOf(InvalidFilter)
      expect(e.message).toContain(detail)
    },
  )

  it('rejects schema errors before compiling', () => {
    expect(thrown(() => userFilterSql(parseFilter('foo eq "x"'))).message).toBe('unknown attribute "foo" in filter')
  })

  it('binds every value and never inlines it', () => {
    const query = new SQLiteSyncDialect().sqlToQuery(
      userFilterSql(parseFilter(`userName eq "x' OR 1=1 --" or title co "Robert'); DROP TABLE users"`)),
    )
    expect(query.sql).not.toContain('OR 1=1')
    expect(query.sql).not.toContain('DROP')
    expect(query.params).toEqual(["x' or 1=1 --", "Robert'); DROP TABLE users"])
  })

  it('answers email value filters from the user_emails index and the rest from JSON', () => {
    const text = (source: string) => new SQLiteSyncDialect().sqlToQuery(userFilterSql(parseFilter(source))).sql
    for (const source of [
      'emails eq "a@b.c"',
      'emails.value co "@b"',
      'emails[type eq "work"].value eq "a@b.c"',
      'emails[type eq "work" and value pr]',
    ]) {
      expect(text(source), source).toContain('FROM "user_emails"')
    }
    // Elements without a value have no row, and is_primary cannot tell false from missing.
    for (const source of [
      'emails.type eq "work"',
      'emails[value eq "a@b.c" or type eq "work"]',
      'emails[primary eq true and value pr]',
      'emails pr',
    ]) {
      expect(text(source), source).toContain('json_each')
    }
    expect(text('userName eq "Ann"')).toBe('("users"."user_name" = ?)')
  })

  it(`accepts ${MAX_FILTER_PARAMS} values and runs them on D1; one more is "too large"`, async () => {
    const tenantId = newTenant()
    await seed(tenantId, sampleUsers)
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => `userName eq "${i === n - 1 ? 'carol' : `nobody${i}`}"`).join(' or ')
    expect(await userIds(tenantId, userFilterSql(parseFilter(many(MAX_FILTER_PARAMS))))).toEqual(['u-3'])
    const e = thrown(() => userFilterSql(parseFilter(many(MAX_FILTER_PARAMS + 1))))
    expect(e).toBeInstanceOf(InvalidFilter)
    expect(e.message).toContain('filter is too large')
  })

  it('handles long co/sw/ew values (no LIKE, so no 50-byte pattern limit)', async () => {
    const tenantId = newTenant()
    const long = `${'x'.repeat(80)}@example.com`
    await seed(tenantId, [{ ...sampleUsers[2], userName: long, title: long }])
    expect(await userIds(tenantId, userFilterSql(parseFilter(`userName ew "${long.slice(1).toUpperCase()}"`)))).toEqual(
      ['u-3'],
    )
    expect(await userIds(tenantId, userFilterSql(parseFilter(`title sw "${long.slice(0, 70)}"`)))).toEqual(['u-3'])
  })

  it('keeps a long or-chain within D1 expression depth (100)', async () => {
    const tenantId = newTenant()
    await seed(tenantId, sampleUsers)
    const source = [...Array.from({ length: 300 }, () => 'title pr'), 'nickName eq "babs"'].join(' or ')
    expect(await userIds(tenantId, userFilterSql(parseFilter(source)))).toEqual(['u-1', 'u-3', 'u-4'])
  })

  it('runs the deepest filter the parser accepts on D1', async () => {
    const tenantId = newTenant()
    await seed(tenantId, sampleUsers)
    let source = 'emails[not (type eq "work")]'
    for (let i = 0; i < 23; i++) source = `not (title pr or ${source})`
    const filter = parseFilter(source)
    expect(await userIds(tenantId, userFilterSql(filter))).toEqual(expectedUsers(sampleUsers, filter))
  })
})

describe('sortBy columns (RFC 7644 §3.4.2.3)', () => {
  it('maps sortable attributes to columns, case-insensitively and with URNs', () => {
    expect(userSortSql({ attr: 'USERNAME' })).toBe(users.userName)
    expect(userSortSql({ urn: 'urn:ietf:params:scim:schemas:core:2.0:User', attr: 'name', sub: 'familyName' })).toBe(
      users.familyName,
    )
    expect(userSortSql({ attr: 'emails' })).toBe(users.email)
    expect(userSortSql({ attr: 'emails', sub: 'value' })).toBe(users.email)
    expect(userSortSql({ attr: 'meta', sub: 'lastModified' })).toBe(users.updatedAt)
    expect(groupSortSql({ attr: 'displayName' })).toBe(groups.displayName)
    expect(userSortableAttributes).toContain('name.givenName')
  })

  it('rejects other attributes with invalidValue listing what is sortable', () => {
    const e = thrown(() => userSortSql({ attr: 'title' }))
    expect(e).toBeInstanceOf(InvalidValue)
    expect(e.message).toBe(`sortBy "title" is not supported; sortable attributes: ${userSortableAttributes.join(', ')}`)
    expect(thrown(() => groupSortSql({ attr: 'members', sub: 'value' })).message).toContain(
      'sortBy "members.value" is not supported',
    )
  })
})

// Random users and filters: the SQL and the in-memory evaluator must agree on every row.
describe('property: SQL == in-memory evaluation', () => {
  // Column attributes hold canonicalName() forms (width mapping, NFC, toLowerCase, NFC), so any Unicode
  // case, NFD spelling, fullwidth letter or combining mark works there.
  const unicode = [
    'a',
    'A',
    'b',
    'B',
    'é',
    'É',
    'e\u0301',
    'E\u0301',
    '\u0301',
    'İ',
    'i\u0307',
    'ß',
    'ẞ',
    'Ａ',
    'ａ',
    'ｶ',
    'ﾞ',
    'ガ',
    'Å',
    '\u212b',
    '_',
    '%',
    '.',
    '😀',
  ]
  // JSON-only attributes fold case with SQLite lower() (ASCII only; see src/db/filter-sql.ts), so no non-ASCII capitals.
  const jsonSafe = ['a', 'A', 'b', 'B', 'é', '_', '%', '😀']
  const str = (units: string[]) => fc.array(fc.constantFrom(...units), { maxLength: 3 }).map((a) => a.join(''))
  const instants = ['2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.001Z', '2024-03-01T12:00:00.000Z']
  const dateValues = [
    '2024-01-01',
    '2024-01-01T00:00:00Z',
    '2024-01-01T01:00:00+01:00',
    '2024-01-01T00:00:00.001Z',
    '2024-03-01T12:00:00.000Z',
    '2024-02-01T00:00Z',
  ]
  const stringOps = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })

  const email = fc.record(
    {
      value: str(jsonSafe),
      type: optional(fc.constantFrom('work', 'Work', 'home', '')),
      primary: optional(fc.boolean()),
      display: optional(str(jsonSafe)),
    },
    { requiredKeys: [] },
  )
  const userArb = fc.record(
    {
      userName: str(unicode),
      displayName: optional(str(unicode)),
      givenName: optional(str(unicode)),
      familyName: optional(str(unicode)),
      title: optional(str(jsonSafe)),
      externalId: optional(str(unicode)),
      active: fc.boolean(),
      emails: optional(fc.array(email, { maxLength: 3 })),
      department: optional(str(unicode)),
      costCenter: optional(str(jsonSafe)),
      manager: optional(fc.constantFrom('u0', 'U0', 'u1')),
      created: fc.constantFrom(...instants),
    },
    { requiredKeys: ['userName', 'active', 'created'] },
  )

  function toResource(u: any, i: number): Resource {
    const r: Resource = {
      id: `u${i}`,
      userName: `${i}${u.userName}`,
      active: u.active,
      meta: { resourceType: 'User', created: u.created, lastModified: u.created },
    }
    if (u.displayName !== undefined) r.displayName = u.displayName
    if (u.givenName !== undefined || u.familyName !== undefined)
      r.name = { givenName: u.givenName, familyName: u.familyName }
    if (u.title !== undefined) r.title = u.title
    if (u.externalId !== undefined) r.externalId = u.externalId
    if (u.emails !== undefined)
      r.emails = u.emails.map((e: Resource) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)))
    const ent: Resource = {}
    if (u.department !== undefined) ent.department = u.department
    if (u.costCenter !== undefined) ent.costCenter = u.costCenter
    if (u.manager !== undefined) ent.manager = { value: u.manager }
    if (Object.keys(ent).length) r[ENT] = ent
    return JSON.parse(JSON.stringify(r))
  }

  const path = (p: string) => parseFilter(`${p} pr`) as { op: 'pr'; path: Filter extends never ? never : any }
  const cmp = (p: string, units: string[]) =>
    fc
      .tuple(fc.constantFrom(...stringOps), str(units))
      .map(([op, value]): Filter => ({ op, path: path(p).path, value }))
  const pr = (p: string) => fc.constant<Filter>({ op: 'pr', path: path(p).path })
  const bool = (p: string) =>
    fc
      .tuple(fc.constantFrom('eq', 'ne' as const), fc.boolean())
      .map(([op, value]): Filter => ({ op: op as 'eq', path: path(p).path, value }))
  const isNull = (p: string) =>
    fc.constantFrom('eq', 'ne').map((op): Filter => ({ op: op as 'eq', path: path(p).path, value: null }))

  const emailInner: fc.Arbitrary<Filter> = fc.letrec<{ f: Filter }>((tie) => ({
    f: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      cmp('value', jsonSafe),
      fc
        .tuple(fc.constantFrom('eq', 'ne'), fc.constantFrom('work', 'WORK', 'home', ''))
        .map(([op, value]): Filter => ({ op: op as 'eq', path: { attr: 'type' }, value })),
      bool('primary'),
      pr('type'),
      pr('display'),
      cmp('display', jsonSafe),
      fc.tuple(tie('f'), tie('f')).map(([left, right]): Filter => ({ op: 'and', left, right })),
      fc.tuple(tie('f'), tie('f')).map(([left, right]): Filter => ({ op: 'or', left, right })),
      tie('f').map((f): Filter => ({ op: 'not', filter: f })),
    ),
  })).f

  const leaf: fc.Arbitrary<Filter> = fc.oneof(
    cmp('userName', unicode),
    cmp('displayName', unicode),
    cmp('name.givenName', unicode),
    cmp('name.familyName', unicode),
    cmp('externalId', unicode),
    cmp(`${ENT}:department`, unicode),
    cmp('title', jsonSafe),
    cmp(`${ENT}:costCenter`, jsonSafe),
    cmp('emails', jsonSafe),
    cmp('emails.display', jsonSafe),
    fc
      .tuple(fc.constantFrom(...stringOps), fc.constantFrom('u0', 'U0', 'u1', 'u'))
      .map(([op, value]): Filter => ({ op, path: path(`${ENT}:manager.value`).path, value })),
    fc
      .tuple(fc.constantFrom(...stringOps), fc.constantFrom('u0', 'U1', 'u', ''))
      .map(([op, value]): Filter => ({ op, path: { attr: 'id' }, value })),
    fc
      .tuple(fc.constantFrom('eq', 'ne', 'gt', 'ge', 'lt', 'le'), fc.constantFrom(...dateValues))
      .map(([op, value]): Filter => ({ op: op as 'eq', path: path('meta.created').path, value })),
    fc
      .tuple(fc.constantFrom('eq', 'ne'), fc.constantFrom('work', 'Work', 'HOME', ''))
      .map(([op, value]): Filter => ({ op: op as 'eq', path: path('emails.type').path, value })),
    bool('active'),
    bool('emails.primary'),
    pr('displayName'),
    pr('title'),
    pr('name'),
    pr('emails'),
    pr(`${ENT}:manager`),
    isNull('externalId'),
    isNull('emails.type'),
    emailInner.map((f): Filter => ({ op: 'valuePath', path: { attr: 'emails' }, filter: f })),
  )

  const filterArb: fc.Arbitrary<Filter> = fc.letrec<{ f: Filter }>((tie) => ({
    f: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.tuple(tie('f'), tie('f')).map(([left, right]): Filter => ({ op: 'and', left, right })),
      fc.tuple(tie('f'), tie('f')).map(([left, right]): Filter => ({ op: 'or', left, right })),
      tie('f').map((f): Filter => ({ op: 'not', filter: f })),
    ),
  })).f

  it('agrees on random users and filters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(userArb, { maxLength: 6 }),
        fc.array(filterArb, { minLength: 1, maxLength: 8 }),
        async (raw, filters) => {
          const list = raw.map(toResource)
          const tenantId = newTenant()
          await seed(tenantId, list)
          for (const filter of filters) {
            let condition: SQL
            try {
              condition = userFilterSql(filter)
            } catch (e) {
              // Only the parameter cap may refuse a generated filter.
              if (e instanceof InvalidFilter && e.message.includes('too large')) continue
              throw e
            }
            expect(await userIds(tenantId, condition), JSON.stringify(filter)).toEqual(expectedUsers(list, filter))
          }
        },
      ),
      { numRuns: Number(process.env.FILTER_PROPERTY_RUNS ?? 150) },
    )
  }, 120_000)
})
