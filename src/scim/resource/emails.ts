/** The email a user is reached at (RFC 7643 §4.1.2 `emails`, `primary`). */
import type { Json } from './values.ts'

/** The primary email's value, else the first email's, else undefined. */
export function primaryEmail(resource: Json): string | undefined {
  const emails = Array.isArray(resource.emails) ? (resource.emails as Json[]) : []
  const chosen =
    emails.find((e) => e?.primary === true && typeof e.value === 'string') ??
    emails.find((e) => typeof e?.value === 'string')
  return chosen?.value as string | undefined
}
