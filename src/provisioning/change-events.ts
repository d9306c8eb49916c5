/**
 * Which event a write tells the app (src/signals/event.ts): the attribute names that changed, never
 * their values, and whether the change was a deactivation or reactivation.
 */
import type { EventChange } from '../db/events.ts'
import { jsonEqual } from '../scim/resource/equal.ts'
import type { Json } from '../scim/resource/values.ts'

/** Attributes every write touches or that are not the resource's own. */
const IGNORED = new Set(['id', 'meta', 'schemas', 'members'])

/** Names of the attributes that differ; an extension's attributes as `{urn}:{name}`. */
export function changedAttributes(before: Json, after: Json): string[] {
  const out: string[] = []
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (IGNORED.has(key) || jsonEqual(before[key], after[key])) continue
    const a = before[key]
    const b = after[key]
    if (key.startsWith('urn:') && isJsonObject(a ?? {}) && isJsonObject(b ?? {})) {
      for (const name of changedAttributes((a ?? {}) as Json, (b ?? {}) as Json)) out.push(`${key}:${name}`)
    } else {
      out.push(key)
    }
  }
  return out.sort()
}

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The event of a user write from `before` to `after`; undefined when nothing the app sees changed. */
export function userChangeEvent(id: string, before: Json, after: Json): EventChange | undefined {
  const attributes = changedAttributes(before, after)
  if (!attributes.length) return undefined
  const wasActive = before.active !== false
  const isActive = after.active !== false
  const type =
    wasActive && !isActive ? 'user.deactivated' : !wasActive && isActive ? 'user.reactivated' : 'user.updated'
  return { type, resourceType: 'User', resourceId: id, attributes }
}

/** The event of a group's attribute change: renamed when displayName changed, else updated. */
export function groupChangeEvent(id: string, before: Json, after: Json): EventChange | undefined {
  const attributes = changedAttributes(before, after)
  if (!attributes.length) return undefined
  return {
    type: attributes.includes('displayName') ? 'group.renamed' : 'group.updated',
    resourceType: 'Group',
    resourceId: id,
    attributes,
  }
}
