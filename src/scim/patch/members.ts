/**
 * Group membership changes as set algebra, RFC 7644 §3.5.2 applied to `members`. A group can hold 50,000
 * members, so the route never loads them: it asks for the net effect of the member operations over the
 * unknown current set S and writes that in bulk. Adding a present member or removing an absent one is a
 * no-op (RFC 7644 §3.5.2.1; docs/idp-quirks.md#okta-push-groups), which set algebra gives for free.
 */
import { InvalidFilter, InvalidPath, InvalidValue } from '../errors.ts'
import type { Filter } from '../filter/ast.ts'
import { MAX_MEMBERS_PER_REQUEST } from '../limits.ts'
import { isObject } from '../resource/values.ts'
import { findAttribute, groupSchema } from '../schemas/index.ts'
import { URN } from '../urns.ts'
import { inOperation, type PatchOperation } from './operation.ts'
import { normalizeList } from './values.ts'

/** The net effect of member operations: S ∪ add \ remove (disjoint, deduplicated), or exactly `ids` (RFC 7644 §3.5.2). */
export type MemberChange = { mode: 'delta'; add: string[]; remove: string[] } | { mode: 'replace'; ids: string[] }

const membersDef = findAttribute(groupSchema.attributes, 'members')!

/** Splits Group PATCH operations into the ones on `members` (as a MemberChange) and the rest, in order (RFC 7644 §3.5.2). */
export function splitMemberOperations(ops: PatchOperation[]): { other: PatchOperation[]; members: MemberChange } {
  const other: PatchOperation[] = []
  let add = new Set<string>()
  let remove = new Set<string>()
  let replace: Set<string> | undefined
  const adding = (ids: string[]): void => {
    for (const id of ids) {
      if (replace) replace.add(id)
      else {
        remove.delete(id)
        add.add(id)
      }
    }
  }
  const removing = (ids: string[]): void => {
    for (const id of ids) {
      if (replace) replace.delete(id)
      else {
        add.delete(id)
        remove.add(id)
      }
    }
  }
  checkMemberCount(ops)
  for (const op of ops) {
    if (!isMembers(op)) {
      other.push(op)
      continue
    }
    inOperation(op.index, () => {
      const path = op.path!
      if (path.path.sub !== undefined || path.subAfterFilter !== undefined) {
        throw new InvalidPath(
          "members can only be added, replaced or removed whole; a member's sub-attributes cannot be changed",
        )
      }
      if (path.filter) {
        if (op.op !== 'remove')
          throw new InvalidPath(
            `${op.op} takes "members" without a filter; to drop a member use remove members[value eq "id"]`,
          )
        removing(filterIds(path.filter))
      } else if (op.op === 'add') adding(memberIds(op.value))
      else if (op.op === 'replace') {
        replace = new Set(memberIds(op.value))
        add = new Set()
        remove = new Set()
      } else if (op.value === undefined || op.value === null) {
        // Only a remove with no value and no filter clears the list (docs/idp-quirks.md#entra-member-removal).
        replace = new Set()
        add = new Set()
        remove = new Set()
      } else removing(memberIds(op.value))
    })
  }
  const members: MemberChange = replace
    ? { mode: 'replace', ids: [...replace] }
    : { mode: 'delta', add: [...add], remove: [...remove] }
  return { other, members }
}

/** Refuses a PATCH whose member operations name more than MAX_MEMBERS_PER_REQUEST ids in all, before any is normalised or looked up. */
function checkMemberCount(ops: PatchOperation[]): void {
  let named = 0
  for (const op of ops) {
    if (!isMembers(op)) continue
    const filter = op.path?.filter
    if (filter) named += filterSize(filter)
    else if (Array.isArray(op.value)) named += op.value.length
    else if (op.value !== undefined && op.value !== null) named += 1
  }
  if (named > MAX_MEMBERS_PER_REQUEST) {
    throw new InvalidValue(
      `The PATCH names ${named} member ids in its operations; at most ${MAX_MEMBERS_PER_REQUEST} are accepted in one request`,
    )
  }
}

/** How many comparisons a filter holds (its leaves), counted without recursion. */
function filterSize(filter: Filter): number {
  let leaves = 0
  const stack: Filter[] = [filter]
  while (stack.length) {
    const f = stack.pop()!
    if (f.op === 'and' || f.op === 'or') stack.push(f.left, f.right)
    else leaves++
  }
  return leaves
}

function isMembers(op: PatchOperation): boolean {
  const p = op.path?.path
  if (!p || p.attr.toLowerCase() !== 'members') return false
  return p.urn === undefined || p.urn.toLowerCase() === URN.group.toLowerCase()
}

/** The member ids in a value array ([{value, display?, type?, $ref?}], or bare ids); each needs a `value`. */
function memberIds(value: unknown): string[] {
  if (value === null || value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  return list.map((raw, i) => {
    const [member] = normalizeList(membersDef, [raw], `members[${i}]`)
    if (!isObject(member) || typeof member.value !== 'string')
      throw new InvalidValue(`members[${i}] needs a "value" holding the member's id`)
    return member.value
  })
}

/** The ids of `value eq "x"` filters joined with `or`; any other member filter is refused. */
function filterIds(filter: Filter): string[] {
  if (filter.op === 'or') return [...filterIds(filter.left), ...filterIds(filter.right)]
  if (
    filter.op === 'eq' &&
    filter.path.urn === undefined &&
    filter.path.sub === undefined &&
    filter.path.attr.toLowerCase() === 'value' &&
    typeof filter.value === 'string'
  ) {
    return [filter.value]
  }
  throw new InvalidFilter('a members filter may only be value eq "id", optionally joined with or')
}
