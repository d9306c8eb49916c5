/** Grammar-aware SCIM filters for fuzzing (RFC 7644 §3.4.2.2): valid ones over real paths, and subtly broken ones. */
import fc from 'fast-check'
import { ENTERPRISE_URN } from './scim-assert.ts'

const randomCase = (word: string) =>
  fc
    .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    .map((flags) => [...word].map((ch, i) => (flags[i] ? ch.toUpperCase() : ch)).join(''))

const USER_PATHS = [
  'userName',
  'displayName',
  'name.givenName',
  'name.familyName',
  'name',
  'title',
  'nickName',
  'active',
  'externalId',
  'id',
  'emails',
  'emails.value',
  'emails.type',
  'emails.primary',
  'phoneNumbers.value',
  'addresses.locality',
  'addresses',
  'roles.primary',
  'x509Certificates.value',
  'profileUrl',
  'userType',
  'locale',
  'groups',
  'groups.value',
  'groups.display',
  'meta.created',
  'meta.lastModified',
  'meta.resourceType',
  'meta.location',
  'meta.version',
  'password',
  'nope',
  'name.nope',
  'emails.nope',
  `${ENTERPRISE_URN}:department`,
  `${ENTERPRISE_URN}:employeeNumber`,
  `${ENTERPRISE_URN}:manager.value`,
  `${ENTERPRISE_URN}:manager`,
  `${ENTERPRISE_URN}:costCenter`,
  'urn:ietf:params:scim:schemas:core:2.0:User:userName',
  'urn:x:nope:attr',
]
const USER_COMPLEX = ['emails', 'phoneNumbers', 'addresses', 'roles', 'groups', 'name', 'x509Certificates', 'userName']
const SUBS = ['value', 'value', 'type', 'type', 'primary', 'display', 'locality', 'givenName', 'nope']
const GROUP_PATHS = [
  'displayName',
  'externalId',
  'id',
  'members',
  'members.value',
  'members.display',
  'members.type',
  'meta.created',
  'meta.lastModified',
  'meta.resourceType',
  'meta.location',
  'meta.version',
  'userName',
  'nope',
]
const GROUP_COMPLEX = ['members', 'displayName']
const OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']

const FRAGMENTS = [
  'ada',
  'Ada',
  'ADA',
  'example.com',
  '@',
  'work',
  'home',
  'Émile',
  'émile',
  'éMILE',
  'grace',
  'Engineering',
  'eng',
  'ops',
  '50%',
  '%',
  '_',
  'under_score',
  "o'brien",
  '"quoted"',
  '\\',
  'EXT-1',
  'ext-1',
  'User',
  'Group',
  'math',
  'Kernel',
  'boss-id',
  '+1 555',
  'Paris',
  'admin',
  'en-US',
  '',
  ' ',
  'a'.repeat(60),
  'ü',
  'Ü',
  'ß',
  'İ',
  '\u212a',
  // Spellings one canonical form (src/scim/resource/canonical.ts) makes equal: NFD, fullwidth, halfwidth, İ + marks.
  'Amélie',
  'ame\u0301lie',
  'E\u0301',
  '\u0301',
  '\uff26\uff35\uff2c\uff2c',
  'full',
  'ｆｕｌｌ@',
  'i\u0307\u0323',
  '\u1ecb\u0307lker',
  'ガ',
  '\uff76\uff9e',
  '\uff9e',
  'café',
  'CAFE\u0301 OPS',
  'Ångström',
  '\u212bngstro\u0308m',
]

const stringValue = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString()),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('2024-05-01', '2024-05-01T12:00:00+02:00', '2024-13-45T99:99:99Z', 'May 2020', '1'),
  },
)
const literal = fc.oneof(
  { weight: 6, arbitrary: stringValue.map((s) => JSON.stringify(s)) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: true, noDefaultInfinity: true }))
      .map((n) => JSON.stringify(n)),
  },
  { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null').chain(randomCase) },
)
const space = fc.constantFrom(' ', ' ', ' ', '  ', '\t', ' \n ')

/** Comparisons that fit the attribute's type, so most generated filters are valid and exercise the SQL. */
const STRING_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']
const typedString = (paths: string[]) =>
  fc
    .tuple(fc.constantFrom(...paths), fc.constantFrom(...STRING_OPS), stringValue)
    .map(([p, o, v]) => `${p} ${o} ${JSON.stringify(v)}`)
const typedBoolean = (paths: string[]) =>
  fc
    .tuple(fc.constantFrom(...paths), fc.constantFrom('eq', 'ne'), fc.constantFrom('true', 'false', 'True', 'null'))
    .map((p) => p.join(' '))
const typedDate = fc
  .tuple(
    fc.constantFrom('meta.created', 'meta.lastModified'),
    fc.constantFrom('eq', 'ne', 'gt', 'ge', 'lt', 'le'),
    fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }),
  )
  .map(([p, o, d]) => `${p} ${o} "${d.toISOString()}"`)
const USER_TYPED = fc.oneof(
  typedString([
    'userName',
    'displayName',
    'name.givenName',
    'name.familyName',
    'title',
    'externalId',
    'emails.value',
    'emails.type',
    'emails',
    'phoneNumbers.value',
    'addresses.locality',
    'userType',
    'groups.display',
    `${ENTERPRISE_URN}:department`,
    `${ENTERPRISE_URN}:manager.value`,
    'meta.resourceType',
  ]),
  typedBoolean(['active', 'emails.primary', 'roles.primary']),
  typedDate,
)
const GROUP_TYPED = fc.oneof(
  typedString(['displayName', 'externalId', 'members.value', 'members', 'meta.resourceType', 'id']),
  typedDate,
)

function filterArbitrary(paths: string[], complex: string[], typed: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const path = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...paths) },
    { weight: 1, arbitrary: fc.constantFrom(...paths).chain(randomCase) },
  )
  const anyComparison = fc
    .tuple(path, space, fc.constantFrom(...OPS).chain(randomCase), space, literal)
    .map((parts) => parts.join(''))
  const comparison = fc.oneof({ weight: 3, arbitrary: typed }, { weight: 1, arbitrary: anyComparison })
  const present = fc.tuple(path, space, randomCase('pr')).map((parts) => parts.join(''))
  const subComparison = fc
    .tuple(fc.constantFrom(...SUBS), fc.constantFrom(...OPS), literal)
    .map(([p, o, v]) => `${p} ${o} ${v}`)
  const subFilter = fc.oneof(
    subComparison,
    fc.constantFrom(...SUBS).map((p) => `${p} pr`),
    fc.tuple(subComparison, fc.constantFrom('and', 'or'), subComparison).map((p) => p.join(' ')),
  )
  const valuePath = fc
    .tuple(
      fc.constantFrom(...complex),
      subFilter,
      fc.option(fc.tuple(fc.constantFrom(...SUBS), fc.constantFrom(...OPS), literal), { nil: undefined }),
    )
    .map(([attr, inner, after]) => `${attr}[${inner}]${after ? `.${after[0]} ${after[1]} ${after[2]}` : ''}`)
  const { filter } = fc.letrec<{ filter: string; atom: string }>((tie) => ({
    atom: fc.oneof(
      { weight: 5, arbitrary: comparison },
      { weight: 2, arbitrary: present },
      { weight: 2, arbitrary: valuePath },
    ),
    filter: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 4, arbitrary: tie('atom') },
      {
        weight: 2,
        arbitrary: fc
          .tuple(tie('filter'), space, fc.constantFrom('and', 'or').chain(randomCase), space, tie('filter'))
          .map((p) => p.join('')),
      },
      { weight: 1, arbitrary: fc.tuple(randomCase('not'), space, tie('filter')).map(([n, s, f]) => `${n}${s}(${f})`) },
      { weight: 1, arbitrary: fc.tuple(randomCase('not'), tie('atom')).map(([n, f]) => `${n} ${f}`) },
      { weight: 1, arbitrary: tie('filter').map((f) => `(${f})`) },
    ),
  }))
  return filter
}

export const userFilter = filterArbitrary(USER_PATHS, USER_COMPLEX, USER_TYPED)
export const groupFilter = filterArbitrary(GROUP_PATHS, GROUP_COMPLEX, GROUP_TYPED)

/** Subtle breakage: drop, insert, swap or truncate at a random position, with characters the grammar cares about. */
export const broken = fc
  .tuple(
    userFilter,
    fc.nat(),
    fc.constantFrom('drop', 'insert', 'truncate', 'swapQuotes', 'doubleOp', 'dot'),
    fc.constantFrom(
      '(',
      ')',
      '[',
      ']',
      '"',
      "'",
      '\\',
      '.',
      ' ',
      'and',
      'or',
      'not',
      'eq',
      ':',
      '-',
      '0',
      'é',
      '\u0000',
      '\\u12',
    ),
  )
  .map(([f, n, kind, piece]) => {
    const i = f.length ? n % f.length : 0
    switch (kind) {
      case 'drop':
        return f.slice(0, i) + f.slice(i + 1)
      case 'insert':
        return f.slice(0, i) + piece + f.slice(i)
      case 'truncate':
        return f.slice(0, i)
      case 'swapQuotes':
        return f.replaceAll('"', "'")
      case 'doubleOp':
        return f.replace(/ (eq|ne|co|sw|ew|gt|ge|lt|le) /i, ' $1 $1 ')
      default:
        return f.replace(/\.(\w)/, '..$1')
    }
  })

/** Spellings of userName values: NFC, NFD, fullwidth and halfwidth, İ with marks, and ASCII around them. */
const UNICODE_NAME = fc
  .array(
    fc.constantFrom(
      'Amélie',
      'ame\u0301lie',
      'AME\u0301',
      'e\u0301',
      '\u0301',
      'lie@',
      '@example.com',
      '\uff26\uff35\uff2c\uff2c',
      'full',
      '\uff4c@',
      '\u0130',
      'i\u0307',
      '\u0323',
      '\u1ecb\u0307lker',
      'lker',
      '\uff76\uff9e',
      'ガ',
      'ク',
      '\uff9e',
      'Cafe\u0301',
      'CAFÉ ',
      '\uff2f\uff30S',
      '\u212bngstr\u00f6m',
      'ÅNGSTRO\u0308M',
      'x',
    ),
    { minLength: 1, maxLength: 3 },
  )
  .map((parts) => parts.join(''))

/** Filters of userName comparisons with Unicode values (the Groups run renames the attribute displayName). */
export const unicodeNameFilter: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(fc.constantFrom(...STRING_OPS), UNICODE_NAME)
      .map(([op, value]) => `userName ${op} ${JSON.stringify(value)}`),
    fc.constant('userName pr'),
    fc.tuple(tie('f'), tie('f')).map(([l, r]) => `(${l}) and (${r})`),
    fc.tuple(tie('f'), tie('f')).map(([l, r]) => `(${l}) or (${r})`),
    tie('f').map((f) => `not (${f})`),
  ),
})).f
