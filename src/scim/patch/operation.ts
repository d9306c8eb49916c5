import { ScimError } from '../errors.ts'
import type { PatchPath } from '../filter/ast.ts'
import type { Json } from '../resource/values.ts'

/** The three PATCH verbs, RFC 7644 §3.5.2. */
export type PatchVerb = 'add' | 'remove' | 'replace'

/** One PATCH operation in canonical form (RFC 7644 §3.5.2), as the dialect layer hands it on. */
export interface PatchOperation {
  /** 1-based position in the request's `Operations`, for error details. Split operations share it. */
  index: number
  op: PatchVerb
  /** Absent only for a path-less `remove`, which `applyPatch` rejects with noTarget. */
  path?: PatchPath
  /** Present when the request had a `value` member (null included); a `remove` usually has none. */
  value?: unknown
  /**
   * The element to create when an add/replace value filter matches nothing, instead of noTarget.
   * Only dialects.ts sets it, for a client quirk documented there.
   */
  createIfNoMatch?: Json
}

/** Runs `fn`, prefixing any SCIM error with `operation N: ` so the client knows which one failed (RFC 7644 §3.12). */
export function inOperation<T>(index: number, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (!(error instanceof ScimError) || error.message.startsWith('operation ')) throw error
    const prefixed = new ScimError(error.status, `operation ${index}: ${error.message}`, error.scimType, error.headers)
    Object.setPrototypeOf(prefixed, Object.getPrototypeOf(error))
    throw prefixed
  }
}
