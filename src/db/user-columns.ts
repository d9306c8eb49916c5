import { canonicalOrNull } from '../scim/resource/canonical.ts'
import type { Json } from '../scim/resource/values.ts'
import { primaryEmail } from '../scim/resource/emails.ts'
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
