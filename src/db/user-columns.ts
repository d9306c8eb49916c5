import { canonicalOrNull } from '../scim/resource/canonical.ts'
import type { Json } from '../scim/resource/values.ts'
import { primaryEmail } from '../scim/resource/emails.ts'
import { declaredSchema } from '../scim/schemas/extension.ts'
import type { AttributeDef, ResourceTypeDef } from '../scim/schemas/types.ts'
import { URN } from '../scim/urns.ts'

/**
 * The comparison form (canonicalName: width mapping, NFC, toLowerCase, NFC); columns of caseExact:false
 * attributes hold this (schema.ts header), so NFC and NFD, fullwidth and case variants of one userName
 * share a value and the unique index refuses the second.
 */
const fold = canonicalOrNull

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

/** One row of user_emails per email of the resource. */
export interface EmailRow {
  value: string
  type: string
  primary: boolean
}

/** The indexed columns of a stored user resource: what filters and sorting read. */
export function userColumns(resource: Json) {
  const name = (resource.name ?? {}) as Json
  const enterprise = (resource[URN.enterpriseUser] ?? {}) as Json
  const manager = (enterprise.manager ?? {}) as Json
  return {
    userName: fold(resource.userName) ?? '',
    externalId: text(resource.externalId),
    displayName: fold(resource.displayName),
    givenName: fold(name.givenName),
    familyName: fold(name.familyName),
    email: fold(primaryEmail(resource)),
    employeeNumber: fold(enterprise.employeeNumber),
    department: fold(enterprise.department),
    managerId: text(manager.value),
    active: resource.active !== false,
  }
}

/** The emails of a resource in comparison form, one per (value, type). */
export function userEmails(resource: Json): EmailRow[] {
  const list = Array.isArray(resource.emails) ? (resource.emails as Json[]) : []
  const seen = new Set<string>()
  const out: EmailRow[] = []
  for (const e of list) {
    const value = fold(e.value)
    if (!value) continue
    const type = fold(e.type) ?? ''
    const key = `${value}\u0000${type}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ value, type, primary: e.primary === true })
  }
  return out
}

/** One row of user_attribute_values: a declared attribute's name and one value in its stored form. */
export interface AttributeRow {
  attr: string
  value: string | number
}

/**
 * A declared attribute's value in the form user_attribute_values holds and filters compare with:
 * canonicalName() for strings that are not caseExact, 0/1 for booleans, toISOString() for dateTimes;
 * undefined for a value that has no such form.
 */
export function attributeForm(def: AttributeDef, value: unknown): string | number | undefined {
  switch (def.type) {
    case 'boolean':
      return typeof value === 'boolean' ? (value ? 1 : 0) : undefined
    case 'integer':
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined
    case 'dateTime': {
      const date = typeof value === 'string' ? new Date(value) : undefined
      return date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined
    }
    default:
      if (typeof value !== 'string' || value === '') return undefined
      return def.caseExact ? value : (fold(value) ?? undefined)
  }
}

/** The rows of user_attribute_values for a resource: every value of every attribute the tenant declared. */
export function attributeRows(type: ResourceTypeDef, resource: Json): AttributeRow[] {
  const schema = declaredSchema(type)
  const values = schema && resource[schema.id]
  if (!schema || !values || typeof values !== 'object') return []
  const out: AttributeRow[] = []
  for (const def of schema.attributes) {
    const raw = (values as Json)[def.name]
    const seen = new Set<string | number>()
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      const form = attributeForm(def, v)
      if (form === undefined || seen.has(form)) continue
      seen.add(form)
      out.push({ attr: def.name, value: form })
    }
  }
  return out
}
