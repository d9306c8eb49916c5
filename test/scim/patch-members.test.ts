import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ScimError } from '../../src/scim/errors.ts'
import { applyPatch } from '../../src/scim/patch/apply.ts'
import { splitMemberOperations, type MemberChange } from '../../src/scim/patch/members.ts'
import { parsePatchRequest } from '../../src/scim/patch/parse.ts'
import type { Json } from '../../src/scim/resource/values.ts'
import { groupResourceType } from '../../src/scim/schemas/index.ts'
import { URN } from '../../src/scim/urns.ts'
import cases from '../fixtures/patch-cases.json'

const split = (...ops: unknown[]) =>
  splitMemberOperations(parsePatchRequest(groupResourceType, { schemas: [URN.patchOp], Operations: ops }))
const members = (...ids: string[]) => ids.map((value) => ({ value }))

/** S ∪ add \ remove, or exactly ids: what the route writes. */
function applyChange(current: string[], change: MemberChange): string[] {
  if (change.mode === 'replace') return [...change.ids].sort()
  const out = new Set(current)
  for (const id of change.add) out.add(id)
  for (const id of change.remove) out.delete(id)
  return [...out].sort()
}

function idsOf(resource: Json): string[] {
  return ((resource.members as { value: string }[] | undefined) ?? []).map((m) => m.value).sort()
}

function expectError(fn: () => unknown, status: number, scimType: string, detail: string): void {
  let thrown: unknown
  try {
    fn()
  } catch (e) {
    thrown = e
  }
  expect(thrown).toBeInstanceOf(ScimError)
  const e = thrown as ScimError
  expect([e.status, e.scimType]).toEqual([status, scimType])
  expect(e.message).toContain(detail)
}

describe('splitMemberOperations', () => {
  it('Okta add with value and display is a delta add', () => {
    expect(split({ op: 'add', path: 'members', value: [{ value: 'u1', display: 'a@okta.local' }] }).members).toEqual({
      mode: 'delta',
      add: ['u1'],
      remove: [],
    })
  })

  it('Okta remove by filter then add', () => {
    const { members: change, other } = split(
      { op: 'remove', path: 'members[value eq "u1"]' },
      { op: 'add', path: 'members', value: members('u2') },
    )
    expect(change).toEqual({ mode: 'delta', add: ['u2'], remove: ['u1'] })
    expect(other).toEqual([])
  })

  it('later operations win: remove then add the same id is an add, add then remove is a remove', () => {
    expect(
      split({ op: 'remove', path: 'members[value eq "u1"]' }, { op: 'add', path: 'members', value: members('u1') })
        .members,
    ).toEqual({ mode: 'delta', add: ['u1'], remove: [] })
    expect(
      split({ op: 'add', path: 'members', value: members('u1') }, { op: 'remove', path: 'members[value eq "u1"]' })
        .members,
    ).toEqual({ mode: 'delta', add: [], remove: ['u1'] })
  })

  it('or-joined value filters remove each id', () => {
    expect(split({ op: 'remove', path: 'members[value eq "a" or value eq "b" or value eq "c"]' }).members).toEqual({
      mode: 'delta',
      add: [],
      remove: ['a', 'b', 'c'],
    })
  })

  it('Entra Remove with a value array removes only those', () => {
    expect(split({ op: 'Remove', path: 'members', value: [{ value: 'u1' }, { value: 'u2' }] }).members).toEqual({
      mode: 'delta',
      add: [],
      remove: ['u1', 'u2'],
    })
  })

  it('Entra Add with $ref null', () => {
    expect(split({ op: 'Add', path: 'members', value: [{ $ref: null, value: 'f648' }] }).members).toEqual({
      mode: 'delta',
      add: ['f648'],
      remove: [],
    })
  })

  it('remove with no value clears, and later adds build the new list', () => {
    expect(split({ op: 'remove', path: 'members' }).members).toEqual({ mode: 'replace', ids: [] })
    expect(
      split({ op: 'remove', path: 'members' }, { op: 'add', path: 'members', value: members('u3', 'u4') }).members,
    ).toEqual({ mode: 'replace', ids: ['u3', 'u4'] })
  })

  it('remove with an empty value array removes nothing', () => {
    expect(split({ op: 'Remove', path: 'members', value: [] }).members).toEqual({ mode: 'delta', add: [], remove: [] })
  })

  it('Push Now replace, then edits on top of it', () => {
    expect(split({ op: 'replace', path: 'members', value: members('u1', 'u2') }).members).toEqual({
      mode: 'replace',
      ids: ['u1', 'u2'],
    })
    expect(
      split(
        { op: 'replace', path: 'members', value: members('u1', 'u2') },
        { op: 'remove', path: 'members[value eq "u1"]' },
      ).members,
    ).toEqual({ mode: 'replace', ids: ['u2'] })
    expect(split({ op: 'replace', path: 'members', value: [] }).members).toEqual({ mode: 'replace', ids: [] })
  })

  it('deduplicates and keeps ids exactly as given', () => {
    expect(split({ op: 'add', path: 'members', value: members('AbC', 'AbC', 'abc') }).members).toEqual({
      mode: 'delta',
      add: ['AbC', 'abc'],
      remove: [],
    })
  })

  it('keeps the other operations, in order, with their indexes', () => {
    const { other, members: change } = split(
      { op: 'replace', value: { id: 'g1', displayName: 'Test SCIMv2' } },
      { op: 'add', path: 'members', value: members('u1') },
      { op: 'Replace', path: 'displayName', value: 'Again' },
    )
    expect(other.map((o) => [o.index, o.op, o.path?.path.attr])).toEqual([
      [1, 'replace', 'displayName'],
      [3, 'replace', 'displayName'],
    ])
    expect(change).toEqual({ mode: 'delta', add: ['u1'], remove: [] })
  })

  it('a path-less members key is a members operation too (Okta first push)', () => {
    const { other, members: change } = split({ op: 'replace', value: { displayName: 'X', members: [] } })
    expect(change).toEqual({ mode: 'replace', ids: [] })
    expect(other).toHaveLength(1)
  })

  it('refuses member filters other than value eq, naming the operation', () => {
    expectError(
      () =>
        split({ op: 'add', path: 'members', value: members('u1') }, { op: 'remove', path: 'members[display eq "x"]' }),
      400,
      'invalidFilter',
      'operation 2:',
    )
    expectError(() => split({ op: 'remove', path: 'members[value ne "x"]' }), 400, 'invalidFilter', 'value eq')
    expectError(
      () => split({ op: 'remove', path: 'members[value eq "x" and type eq "User"]' }),
      400,
      'invalidFilter',
      'operation 1:',
    )
  })

  it('refuses sub-attribute paths and filtered add/replace', () => {
    expectError(
      () => split({ op: 'replace', path: 'members[value eq "u1"].display', value: 'x' }),
      400,
      'invalidPath',
      'operation 1:',
    )
    expectError(
      () => split({ op: 'add', path: 'members[value eq "u1"]', value: { value: 'u1' } }),
      400,
      'invalidPath',
      'operation 1:',
    )
  })

  it('a member without a value is invalidValue naming the operation', () => {
    expectError(
      () => split({ op: 'add', path: 'members', value: [{ display: 'someone' }] }),
      400,
      'invalidValue',
      'operation 1: members[0]',
    )
  })

  it('agrees with applyPatch on every Group case in patch-cases.json', () => {
    for (const c of cases as { name: string; type: string; before: Json; body: unknown; after?: Json }[]) {
      if (c.type !== 'Group' || !c.after) continue
      const ops = parsePatchRequest(groupResourceType, c.body)
      const { other, members: change } = splitMemberOperations(ops)
      expect(applyChange(idsOf(c.before), change), c.name).toEqual(idsOf(c.after))
      const { members: _b, ...beforeRest } = c.before
      const { members: _a, ...afterRest } = c.after
      expect(applyPatch(groupResourceType, beforeRest, other).resource, c.name).toEqual(afterRest)
    }
  })

  it('property: the net change equals applying the operations one by one to any current set', () => {
    const id = fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5')
    const ids = fc.uniqueArray(id, { maxLength: 4 })
    const op = fc.oneof(
      ids.map((v) => ({ op: 'add', path: 'members', value: members(...v) })),
      ids.map((v) => ({ op: 'Remove', path: 'members', value: members(...v) })),
      ids.map((v) => ({ op: 'replace', path: 'members', value: members(...v) })),
      fc
        .uniqueArray(id, { minLength: 1, maxLength: 3 })
        .map((v) => ({ op: 'remove', path: `members[${v.map((x) => `value eq "${x}"`).join(' or ')}]` })),
      fc.constant({ op: 'remove', path: 'members' }),
    )
    fc.assert(
      fc.property(ids, fc.array(op, { minLength: 1, maxLength: 6 }), (current, operations) => {
        const parsed = parsePatchRequest(groupResourceType, { schemas: [URN.patchOp], Operations: operations })
        const { members: change } = splitMemberOperations(parsed)
        if (change.mode === 'delta') expect(change.add.filter((x) => change.remove.includes(x))).toEqual([])
        const before: Json = {
          schemas: [URN.group],
          displayName: 'G',
          ...(current.length ? { members: members(...current) } : {}),
        }
        const expected = idsOf(applyPatch(groupResourceType, before, parsed).resource)
        expect(applyChange(current, change)).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })
})
