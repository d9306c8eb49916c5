/** Input limits: what one request may carry, so a bad or hostile client cannot exhaust the Worker. */

/** Longest string value of any attribute except binary ones (characters). */
export const MAX_STRING_LENGTH = 4096
/** Longest binary (base64) value, e.g. an x509 certificate (characters). */
export const MAX_BINARY_LENGTH = 65536
/** Most values of a multi-valued attribute in one request, except group members. */
export const MAX_MULTI_VALUES = 100
/** Most members one request may name (a PUT carries the whole list; Okta PATCHes carry at most 1,000). */
export const MAX_MEMBERS_PER_REQUEST = 20000
/** Most PATCH operations in one request. */
export const MAX_PATCH_OPERATIONS = 1000
/** Deepest nesting of objects and arrays in a request body (a SCIM resource nests about 4 levels). */
export const MAX_JSON_DEPTH = 32
/** Largest request body (bytes); a larger one is 413 and is not read past this. */
export const MAX_BODY_BYTES = 1024 * 1024
/** Most operations in one /Bulk request (ServiceProviderConfig bulk.maxOperations). */
export const MAX_BULK_OPERATIONS = 1000
/**
 * Most /Bulk operations other than user creates (PUT, PATCH, DELETE, group creates) in one request.
 * Each takes up to two database calls (its read and its atomic batch), and a Worker invocation may
 * make 1,000 to D1; user creates are written 100 to a call, so 400 of these and 600 creates fit.
 */
export const MAX_BULK_CHANGES = 400
/** Largest /Bulk request body (bytes; ServiceProviderConfig bulk.maxPayloadSize): 1,000 users of about 4 KB. */
export const MAX_BULK_PAYLOAD_BYTES = 4 * 1024 * 1024

/**
 * Bound parameters a compiled filter may use. D1 allows 100 per statement; a page statement binds up
 * to 6 of its own (tenant, mark lookup, offset, limit), so 90 leaves room for them.
 */
export const MAX_FILTER_SQL_PARAMS = 90
/**
 * SQL text a compiled filter may take (bytes). D1 refuses statements over 100 KB; 64 KB leaves room
 * for the page statement around the filter and for its mark lookup.
 */
export const MAX_FILTER_SQL_BYTES = 64 * 1024

/** The first position where `text` nests objects and arrays deeper than `max`, or -1; strings are skipped, no recursion. */
export function jsonDepthExceeded(text: string, max: number): number {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 0x5c)
        i++ // a backslash escapes the next character
      else if (ch === 0x22) inString = false
    } else if (ch === 0x22) inString = true
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return i
    } else if (ch === 0x7d || ch === 0x5d) depth--
  }
  return -1
}
