import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyPatch } from '../../src/scim/patch/apply.ts'
import { parsePatchRequest } from '../../src/scim/patch/parse.ts'
import type { Json } from '../../src/scim/resource/values.ts'
import { userResourceType } from '../../src/scim/schemas/index.ts'
import { URN } from '../../src/scim/urns.ts'

/**
 * applyPatch against a deliberately naive model of RFC 7644 §3.5.2 for a few User attributes: single-valued
 * strings, `active` (with Entra's string booleans) and `emails` with types (with Entra's create-on-no-match).
 */
interface Email {
  type: string
  value: string
}
interface Model {
  strings: Record<string, string>
  active?: boolean
  emails: Email[]
}

const STRINGS = ['displayName', 'nickName', 'title']
const TYPES = ['work', 'home', 'other']

const stringName = fc.constantFrom(...STRINGS)
const stringValue = fc.constantFrom('', 'a', 'b', 'Babs', 'x y')
const booleanValue = fc.constantFrom<boolean | string>(true, false, 'True', 'False', 'true')
const emailType = fc.constantFrom(...TYPES)
const emailValue = fc.constantFrom('a@x.com', 'b@x.com', 'c@y.org')
const verb = (name: 'add' | 'replace') => fc.constantFrom(name, name[0]!.toUpperCase() + name.slice(1))

type Step = { body: Json; apply: (m: Model) => void }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.tuple(fc.constantFrom('add', 'replace', 'Replace'), stringName, stringValue).map(([op, path, value]) => ({
    body: { op, path, value },
    apply: (m: Model) => setString(m, path, value),
  })),
  fc.tuple(stringName, stringValue, booleanValue).map(([path, value, active]) => ({
    body: { op: 'replace', value: { [path]: value, active } },
    apply: (m: Model) => {
      setString(m, path, value)
      m.active = toBool(active)
    },
  })),
  stringName.map((path) => ({ body: { op: 'remove', path }, apply: (m: Model) => void delete m.strings[path] })),
  fc.tuple(verb('replace'), booleanValue).map(([op, value]) => ({
    body: { op, path: 'active', value },
    apply: (m: Model) => void (m.active = toBool(value)),
  })),
  fc.tuple(verb('add'), emailType, emailValue).map(([op, type, value]) => ({
    body: { op, path: 'emails', value: [{ type, value }] },
    apply: (m: Model) => {
      if (!m.emails.some((e) => e.type === type && e.value === value)) m.emails.push({ type, value })
    },
  })),
  fc.tuple(fc.constantFrom('add', 'replace', 'Replace'), emailType, emailValue).map(([op, type, value]) => ({
    body: { op, path: `emails[type eq "${type}"].value`, value },
    apply: (m: Model) => {
      const matched = m.emails.filter((e) => e.type === type)
      if (matched.length) for (const e of matched) e.value = value
      else m.emails.push({ type, value })
    },
  })),
  emailType.map((type) => ({
    body: { op: 'remove', path: `emails[type eq "${type}"]` },
    apply: (m: Model) => void (m.emails = m.emails.filter((e) => e.type !== type)),
  })),
  fc.constant({ body: { op: 'Remove', path: 'emails' }, apply: (m: Model) => void (m.emails = []) }),
)

const model: fc.Arbitrary<Model> = fc.record({
  strings: fc.dictionary(stringName, fc.constantFrom('a', 'Babs')),
  active: fc.option(fc.boolean(), { nil: undefined }),
  emails: fc.array(fc.record({ type: emailType, value: emailValue }), { maxLength: 3 }),
})

function setString(m: Model, name: string, value: string): void {
  if (value === '') delete m.strings[name]
  else m.strings[name] = value
}

function toBool(value: boolean | string): boolean {
  return typeof value === 'boolean' ? value : value.toLowerCase() === 'true'
}

function toResource(m: Model): Json {
  const out: Json = { schemas: [URN.user], userName: 'bjensen', ...m.strings }
  if (m.active !== undefined) out.active = m.active
  if (m.emails.length) out.emails = m.emails.map((e) => ({ ...e }))
  return out
}

describe('applyPatch property', () => {
  it('matches an independent model for strings, active and typed emails', () => {
    fc.assert(
      fc.property(model, fc.array(step, { minLength: 1, maxLength: 8 }), (start, steps) => {
        const before = toResource(start)
        const expected: Model = structuredClone(start)
        for (const s of steps) s.apply(expected)
        const ops = parsePatchRequest(userResourceType, {
          schemas: [URN.patchOp],
          Operations: steps.map((s) => s.body),
        })
        const result = applyPatch(userResourceType, before, ops)
        const after = toResource(expected)
        expect(result.resource).toEqual(after)
        expect(result.changed).toBe(JSON.stringify(sorted(before)) !== JSON.stringify(sorted(after)))
      }),
      { numRuns: 500 },
    )
  })
})

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, sorted(v)]),
    )
  }
  return value
}
