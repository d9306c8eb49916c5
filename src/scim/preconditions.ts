/** ETag preconditions, RFC 7644 §3.14 (weak ETags from meta.version). */
import { PreconditionFailed } from './errors.ts'
import { etag } from './resource/represent.ts'

function tags(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
}

/** True when an If-Match header names versions (absent, empty and `*` pin none). */
export function pinsVersion(header: string | undefined): header is string {
  return header !== undefined && header.trim() !== '*' && header.trim() !== ''
}

/** The version an If-Match header pins, or undefined when absent or `*`. Throws 412 when it cannot match. */
export function ifMatchVersion(header: string | undefined, current: number): number | undefined {
  if (!pinsVersion(header)) return undefined
  // Weak comparison: W/"3" and "3" name the same version.
  const wanted = tags(header).map((t) => t.replace(/^W\//, ''))
  if (!wanted.includes(`"${current}"`)) {
    throw new PreconditionFailed(
      `If-Match ${header.slice(0, 80)} does not match the current version ${etag(current)}; read the resource again`,
    )
  }
  return current
}

/** True when If-None-Match names the current version (GET answers 304). */
export function isNotModified(header: string | undefined, current: number): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  return tags(header).some((t) => t.replace(/^W\//, '') === `"${current}"`)
}
