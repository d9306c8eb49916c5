import { describe, expect, it } from 'vitest'
import cases from '../fixtures/filter-cases.json'
import { InvalidFilter } from '../../src/scim/errors.ts'
import { matchesElement, matchesFilter } from '../../src/scim/filter/evaluate.ts'
import { parseFilter } from '../../src/scim/filter/parser.ts'
import {
  findAttribute,
  groupResourceType,
  groupSchema,
  userResourceType,
  userSchema,
} from '../../src/scim/schemas/index.ts'

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const users = cases.resources.users as Record<string, unknown>[]
const groups = cases.resources.groups as Record<string, unknown>[]

// Expected ids, worked out by hand from the resources in filter-cases.json: the reference for the SQL tests.
const userCases: [string, string[]][] = [
  ['userName eq "BJENSEN@Example.COM"', ['u-1']],
  ['userName eq "émile.zola@EXAMPLE.FR"', ['u-2']],
  ['userName co "%"', ['u-4']],
  ['userName gt "c"', ['u-2', 'u-3', 'u-4', 'u-5']],
  ['externalId eq "00UJL29U0LE5T6AJ10H7"', []],
  ['externalId co "T6A"', ['u-1']],
  ['externalId eq null', ['u-2', 'u-4', 'u-5']],
  ['displayName ne "Barbara Jensen"', ['u-5']],
  ['not (displayName eq "Barbara Jensen")', ['u-2', 'u-3', 'u-4', 'u-5']],
  ['displayName pr', ['u-1', 'u-5']],
  ['title eq ""', []],
  ['title pr', ['u-1', 'u-3', 'u-4']],
  ['nickName eq "BABS"', ['u-1', 'u-3']],
  ['emails.type eq "home"', ['u-1', 'u-2']],
  ['emails.type ne "work"', ['u-1', 'u-2']],
  ['emails[type eq "work" and value co "@example.com"]', ['u-1', 'u-5']],
  ['emails[type eq "work"].value eq "d2@EXAMPLE.org"', ['u-4']],
  ['emails.primary eq false', ['u-2']],
  ['emails[not (type eq "work")]', ['u-1', 'u-2', 'u-4']],
  ['emails eq "ZOE@example.com"', ['u-5']],
  ['emails.display pr', ['u-1']],
  ['not (emails pr)', ['u-3']],
  ['name pr', ['u-1', 'u-2', 'u-5']],
  ['addresses[type eq "work" and primary eq true]', ['u-1']],
  [`${ENT}:manager eq "u-2"`, ['u-1']],
  [`${ENT}:manager pr`, ['u-1', 'u-2', 'u-3']],
  [`${ENT}:department eq "r&d"`, ['u-1', 'u-5']],
  [`${ENT}:costCenter eq "4130"`, ['u-1']],
  ['meta.created eq "2024-01-02T12:00:00+02:00"', ['u-1']],
  ['meta.created gt "2024-01-02T10:00:00Z"', ['u-3', 'u-4', 'u-5']],
  ['meta.created ge "2024-01-02"', ['u-1', 'u-3', 'u-4', 'u-5']],
  ['meta.resourceType eq "user"', []],
  ['meta.resourceType eq "User"', ['u-1', 'u-2', 'u-3', 'u-4', 'u-5']],
  ['active ne true', ['u-2']],
  ['groups.value eq "g-1"', ['u-1', 'u-5']],
  ['id eq "U-1"', []],
  ['userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', ['u-1', 'u-4']],
  ['title pr or userType eq "Intern"', ['u-1', 'u-2', 'u-3', 'u-4']],
  ['TITLE PR and not (USERTYPE eq "employee")', ['u-3']],
]

const groupCases: [string, string[]][] = [
  ['members eq "u-5"', ['g-1', 'g-3']],
  ['members[value eq "U-5"]', []],
  ['not (members pr)', ['g-4']],
  ['displayName sw "OPS"', ['g-2', 'g-3']],
  ['externalId eq "ext-g1"', []],
]

describe('matchesFilter (RFC 7644 §3.4.2.2 semantics)', () => {
  it.each(userCases)('User %s', (source, ids) => {
    const filter = parseFilter(source)
    expect(users.filter((u) => matchesFilter(userResourceType, u, filter)).map((u) => u.id)).toEqual(ids)
  })

  it.each(groupCases)('Group %s', (source, ids) => {
    const filter = parseFilter(source)
    expect(groups.filter((g) => matchesFilter(groupResourceType, g, filter)).map((g) => g.id)).toEqual(ids)
  })

  it('rejects a filter that does not fit the schema', () => {
    expect(() =>
      matchesFilter(userResourceType, users[0] as Record<string, unknown>, parseFilter('foo eq "x"')),
    ).toThrow(InvalidFilter)
  })

  it('reads attribute names case-insensitively when a resource is not in canonical case', () => {
    expect(matchesFilter(userResourceType, { USERNAME: 'Ann' }, parseFilter('userName eq "ann"'))).toBe(true)
  })
})

describe('matchesElement (RFC 7644 §3.5.2 valuePath)', () => {
  const members = findAttribute(groupSchema.attributes, 'members')!
  const emails = findAttribute(userSchema.attributes, 'emails')!

  it('matches one member by caseExact value', () => {
    expect(matchesElement(members, { value: 'u-1' }, parseFilter('value eq "u-1"'))).toBe(true)
    expect(matchesElement(members, { value: 'u-1' }, parseFilter('VALUE eq "u-1"'))).toBe(true)
    expect(matchesElement(members, { value: 'u-1' }, parseFilter('value eq "U-1"'))).toBe(false)
  })

  it('matches an email by case-insensitive type and value', () => {
    const work = { value: 'Ann@Example.com', type: 'Work', primary: true }
    expect(matchesElement(emails, work, parseFilter('type eq "work" and value ew "@example.com"'))).toBe(true)
    expect(matchesElement(emails, work, parseFilter('primary eq false'))).toBe(false)
    expect(matchesElement(emails, { value: 'x' }, parseFilter('not (type pr)'))).toBe(true)
  })

  it('never matches a non-object element', () => {
    expect(matchesElement(emails, 'ann@example.com', parseFilter('value pr'))).toBe(false)
    expect(matchesElement(emails, null, parseFilter('value pr'))).toBe(false)
  })

  it('rejects paths that are not sub-attributes', () => {
    expect(() => matchesElement(emails, {}, parseFilter('emails.value eq "x"'))).toThrow(
      /unknown attribute "emails.emails.value"/,
    )
    expect(() => matchesElement(emails, {}, parseFilter('primary eq "true"'))).toThrow(/compare it with true or false/)
  })
})
