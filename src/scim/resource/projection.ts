import { InvalidValue } from '../errors.ts'
import { resolveAttribute, type ResolvedAttribute, type ResourceTypeDef } from '../schemas/index.ts'
import { isObject, type Json } from './values.ts'

/** The `attributes` / `excludedAttributes` parameters, RFC 7644 §3.4.2.5. */
export interface Projection {
  attributes?: ResolvedAttribute[]
  excludedAttributes?: ResolvedAttribute[]
}

/** Splits `urn:...:User:name.givenName` or `name.givenName` into urn, attribute and sub-attribute. */
export function splitAttributePath(text: string): { urn?: string; attr: string; sub?: string } {
  let urn: string | undefined
  let rest = text
  if (text.toLowerCase().startsWith('urn:')) {
    const cut = text.lastIndexOf(':')
    urn = text.slice(0, cut)
    rest = text.slice(cut + 1)
  }
  const dot = rest.indexOf('.')
  return dot < 0 ? { urn, attr: rest } : { urn, attr: rest.slice(0, dot), sub: rest.slice(dot + 1) }
}

/** Parses a comma-separated attribute list against a resource type; unknown names are a 400. */
export function parseAttributeList(
  type: ResourceTypeDef,
  text: string | undefined,
  param: string,
): ResolvedAttribute[] | undefined {
  if (text === undefined || text.trim() === '') return undefined
  return text.split(',').map((raw) => {
    const name = raw.trim()
    const path = splitAttributePath(name)
    const resolved = resolveAttribute(type, path.urn, path.attr, path.sub)
    if (!resolved) throw new InvalidValue(`${param} names unknown attribute "${name}"`)
    return resolved
  })
}

/**
 * True when a response under this projection will hold the (core) attribute `name`, by the same rules
 * as `project`: so a route reads members or groups from D1 only when they will be returned.
 */
export function wantsAttribute(type: ResourceTypeDef, projection: Projection, name: string): boolean {
  const def = resolveAttribute(type, undefined, name)?.attribute
  if (!def || def.returned === 'never') return false
  if (def.returned === 'always') return true
  if (projection.attributes) return projection.attributes.some((a) => a.attribute === def)
  if (def.returned === 'request') return false
  return !projection.excludedAttributes?.some((a) => a.attribute === def && !a.subAttribute)
}

/**
 * Applies attributes/excludedAttributes and the schema's `returned` rules to a full representation
 * (RFC 7643 §7 "returned", RFC 7644 §3.4.2.5): `always` stays, `never` goes, `request` only when asked.
 */
export function project(type: ResourceTypeDef, resource: Json, projection: Projection): Json {
  const out: Json = {}
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'schemas') {
      out.schemas = value
      continue
    }
    const ext = type.extensions.find((e) => e.schema.id === key)
    if (ext) {
      if (!isObject(value)) continue
      const inner: Json = {}
      for (const [name, innerValue] of Object.entries(value)) {
        const resolved = resolveAttribute(type, key, name)
        if (resolved) pick(inner, name, innerValue, resolved, projection)
      }
      if (Object.keys(inner).length) out[key] = inner
      continue
    }
    const resolved = resolveAttribute(type, undefined, key)
    if (resolved) pick(out, key, value, resolved, projection)
  }
  return out
}

function same(a: ResolvedAttribute, b: ResolvedAttribute): boolean {
  return a.schema === b.schema && a.attribute === b.attribute
}

function pick(out: Json, key: string, value: unknown, resolved: ResolvedAttribute, projection: Projection): void {
  const def = resolved.attribute
  if (def.returned === 'never') return
  if (def.returned === 'always') {
    out[key] = value
    return
  }
  if (projection.attributes) {
    const asked = projection.attributes.filter((a) => same(a, resolved))
    if (!asked.length) return
    if (asked.some((a) => !a.subAttribute) || !def.subAttributes) {
      out[key] = value
      return
    }
    const keep = new Set(asked.map((a) => a.subAttribute!.name))
    for (const sub of def.subAttributes) if (sub.returned === 'always') keep.add(sub.name)
    out[key] = filterSubAttributes(value, (name) => keep.has(name))
    return
  }
  if (def.returned === 'request') return
  const excluded = projection.excludedAttributes?.filter((a) => same(a, resolved)) ?? []
  if (excluded.some((a) => !a.subAttribute)) return
  if (!excluded.length) {
    out[key] = value
    return
  }
  const drop = new Set(excluded.map((a) => a.subAttribute!.name))
  out[key] = filterSubAttributes(value, (name) => !drop.has(name))
}

function filterSubAttributes(value: unknown, keep: (name: string) => boolean): unknown {
  const one = (v: unknown): unknown =>
    isObject(v) ? Object.fromEntries(Object.entries(v).filter(([k]) => keep(k))) : v
  return Array.isArray(value) ? value.map(one) : one(value)
}
