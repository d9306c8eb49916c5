import { InvalidSyntax, InvalidValue } from '../errors.ts'
import { commonAttributes, findAttribute, findSchema, type ResourceTypeDef, type SchemaDef } from '../schemas/index.ts'
import { checkIdentifier } from './canonical.ts'
import { isObject, normalizeValue, type Json } from './values.ts'

/**
 * Turns a client's POST or PUT body into the stored form (RFC 7644 §3.3, §3.5.1): attribute names in
 * the schema's case, extension attributes under their URN, read-only attributes (id, meta, groups)
 * and write-only ones (password) dropped, unknown attributes ignored, required attributes enforced.
 */
export function normalizeResource(type: ResourceTypeDef, body: unknown): Json {
  if (!isObject(body)) throw new InvalidSyntax('The request body must be a JSON object holding a SCIM resource.')
  const out: Json = {}
  for (const [key, value] of Object.entries(body)) {
    if (key.toLowerCase() === 'schemas') continue
    const ext = key.includes(':') ? findSchema(type, key) : undefined
    if (ext?.extension) {
      const inner = normalizeAttributes(ext.schema, value, key)
      if (inner) out[ext.schema.id] = inner
      continue
    }
    if (key.includes(':')) continue // Another schema's URN (e.g. Entra's ADSCIM group URN): not ours, ignored.
    const def = findAttribute(type.schema.attributes, key) ?? findAttribute(commonAttributes, key)
    if (!def || def.mutability === 'readOnly' || def.mutability === 'writeOnly') continue
    const normalized = normalizeValue(def, value, def.name)
    if (normalized !== undefined) out[def.name] = normalized
  }
  checkRequired(type.schema, out)
  checkRequiredExtensions(type, out)
  out.schemas = schemaUrns(type, out)
  return out
}

function normalizeAttributes(schema: SchemaDef, value: unknown, where: string): Json | undefined {
  if (value === null || value === undefined) return undefined
  if (!isObject(value)) throw new InvalidValue(`${where} must be an object of ${schema.name} attributes`)
  const out: Json = {}
  for (const [key, inner] of Object.entries(value)) {
    const def = findAttribute(schema.attributes, key)
    if (!def || def.mutability === 'readOnly' || def.mutability === 'writeOnly') continue
    const normalized = normalizeValue(def, inner, `${schema.id}:${def.name}`)
    if (normalized !== undefined) out[def.name] = normalized
  }
  return Object.keys(out).length ? out : undefined
}

/**
 * Required attributes must be present after normalisation (RFC 7643 §2.2 "required"). Identifiers
 * (string attributes with uniqueness "server" that are not caseExact: userName, Group displayName) are
 * first put in their stored form by checkIdentifiers. Every POST, PUT and PATCH result passes here.
 */
export function checkRequired(schema: SchemaDef, resource: Json): void {
  checkIdentifiers(schema, resource)
  for (const def of schema.attributes) {
    if (def.required && resource[def.name] === undefined) {
      throw new InvalidValue(`${def.name} is required`)
    }
  }
}

/** Required attributes of extensions the resource type requires (a tenant's declared `--required` ones). */
export function checkRequiredExtensions(type: ResourceTypeDef, resource: Json): void {
  for (const ext of type.extensions) {
    if (!ext.required) continue
    const inner = resource[ext.schema.id]
    for (const def of ext.schema.attributes) {
      if (def.required && (!isObject(inner) || inner[def.name] === undefined))
        throw new InvalidValue(`${ext.schema.id}:${def.name} is required`)
    }
  }
}

/**
 * Identifiers in place: spaces at either end are trimmed (friendlier to IdPs than a 400, and what an
 * admin meant), and a control or format character (Cc, Cf: U+200B, U+200D, U+FEFF, bidi controls) is
 * 400 invalidValue naming the attribute, since it makes a name that looks like another one. A value
 * that is only spaces becomes absent, so a required identifier is then 400 "is required".
 */
export function checkIdentifiers(schema: SchemaDef, resource: Json): void {
  for (const def of schema.attributes) {
    if (def.type !== 'string' || def.uniqueness !== 'server' || def.caseExact || def.multiValued) continue
    const value = resource[def.name]
    if (typeof value !== 'string') continue
    const checked = checkIdentifier(value)
    if ('refused' in checked)
      throw new InvalidValue(`${def.name} ${checked.refused}; it is not accepted in a ${def.name}`)
    if (checked.value === '') delete resource[def.name]
    else resource[def.name] = checked.value
  }
}

/** The `schemas` list of a stored resource: the core URN plus each extension it holds (RFC 7643 §3). */
export function schemaUrns(type: ResourceTypeDef, resource: Json): string[] {
  return [type.schema.id, ...type.extensions.map((e) => e.schema.id).filter((urn) => resource[urn] !== undefined)]
}

/** PUT: an `id` in the body must be the URL's, or absent (RFC 7644 §3.5.1: id cannot change). */
export function checkBodyId(body: unknown, id: string): void {
  if (isObject(body) && body.id !== undefined && body.id !== id) {
    throw new InvalidValue(
      `The body's id "${String(body.id).slice(0, 100)}" differs from the URL's id "${id.slice(0, 100)}"; id cannot change`,
    )
  }
}
