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
