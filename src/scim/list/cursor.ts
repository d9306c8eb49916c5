/** RFC 9865 cursors: opaque to clients, here base64url JSON of where the page ended and for which query. */
import { base64urlDecode, base64urlEncode } from '../base64url.ts'
import { CursorError } from '../errors.ts'

/** Seconds a cursor stays valid (advertised as pagination.cursorTimeout). */
export const CURSOR_TIMEOUT_SECONDS = 3600

interface CursorBody {
  v: 1
  /** The query the cursor belongs to (resource type and filter), see queryKey. */
  k: string
  /** The seq of the last row of the page it follows. */
  s: number
  /** Issued at, epoch seconds. */
  t: number
}

/** Encodes a cursor for the page after `seq` (RFC 9865 §2 "nextCursor"). */
export function encodeCursor(queryKey: string, seq: number, now: Date): string {
  const body: CursorBody = { v: 1, k: queryKey, s: seq, t: Math.floor(now.getTime() / 1000) }
  return base64urlEncode(JSON.stringify(body))
}

/**
 * Decodes a `cursor` parameter: empty means the first page (seq 0). A cursor that is not ours or
 * belongs to another query is invalidCursor; one older than CURSOR_TIMEOUT_SECONDS is expiredCursor.
 */
export function decodeCursor(cursor: string, queryKey: string, now: Date): number {
  if (cursor === '') return 0
  let body: CursorBody
  try {
    body = JSON.parse(base64urlDecode(cursor)) as CursorBody
  } catch {
    throw new CursorError('invalidCursor', 'The cursor is not one this server issued; start again without a cursor')
  }
  if (body?.v !== 1 || typeof body.s !== 'number' || typeof body.t !== 'number' || typeof body.k !== 'string') {
    throw new CursorError('invalidCursor', 'The cursor is not one this server issued; start again without a cursor')
  }
  if (body.k !== queryKey) {
    throw new CursorError(
      'invalidCursor',
      'The cursor belongs to a different query: keep filter and sorting the same between pages (RFC 9865)',
    )
  }
  if (now.getTime() / 1000 - body.t > CURSOR_TIMEOUT_SECONDS) {
    throw new CursorError(
      'expiredCursor',
      `The cursor expired after ${CURSOR_TIMEOUT_SECONDS} seconds; start again without a cursor`,
    )
  }
  return body.s
}

/** A short stable key for a query: resource type and filter text (FNV-1a, 64 bits as hex). */
export function queryKey(resourceType: string, filter: string | undefined): string {
  const text = `${resourceType}\u0000${filter ?? ''}`
  let h1 = 0x811c9dc5
  let h2 = 0x01000193
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')
}
