/**
 * Reads a PatchOp request body, RFC 7644 §3.5.2. Decision: a body without `schemas` is accepted (no client
 * we know omits it, but nothing is lost by tolerating one that does, docs/idp-quirks.md#entra-capitalised-ops);
 * a `schemas` that is present must list the PatchOp URN, because anything else is a different message sent
 * to the wrong endpoint. Member names (`Operations`, `op`, `path`, `value`) are matched case-insensitively
 * (RFC 7643 §2.1).
 */
import { InvalidSyntax, TooMany } from '../errors.ts'
import { describe, isObject, type Json } from '../resource/values.ts'
import type { ResourceTypeDef } from '../schemas/index.ts'
import { URN } from '../urns.ts'
import { canonicalOperations } from './dialects.ts'
import { MAX_PATCH_OPERATIONS } from '../limits.ts'
import { inOperation, type PatchOperation } from './operation.ts'
import { findKey } from '../resource/keys.ts'

export type { PatchOperation } from './operation.ts'

/** Validates a PatchOp message and returns its operations in canonical form, RFC 7644 §3.5.2. */
export function parsePatchRequest(type: ResourceTypeDef, body: unknown): PatchOperation[] {
  if (!isObject(body))
    throw new InvalidSyntax('The PATCH body must be a JSON object with "schemas" and "Operations" (RFC 7644 §3.5.2).')
  const schemas = member(body, 'schemas')
  if (schemas.found) {
    const ok =
      Array.isArray(schemas.value) &&
      schemas.value.some((s) => typeof s === 'string' && s.toLowerCase() === URN.patchOp.toLowerCase())
    if (!ok) throw new InvalidSyntax(`"schemas" must be ["${URN.patchOp}"]`)
  }
  const operations = member(body, 'Operations').value
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new InvalidSyntax(
      `"Operations" must be a non-empty array of {"op", "path", "value"}, got ${describe(operations ?? null)}`,
    )
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw new TooMany(
      `The PATCH has ${operations.length} operations; at most ${MAX_PATCH_OPERATIONS} are accepted in one request`,
    )
  }
  return operations.flatMap((raw, i) => {
    const index = i + 1
    const fields = inOperation(index, () => {
      if (!isObject(raw))
        throw new InvalidSyntax(`must be an object with "op", "path" and "value", got ${describe(raw)}`)
      return raw
    })
    const value = member(fields, 'value')
    return canonicalOperations(
      type,
      { op: member(fields, 'op').value, path: member(fields, 'path').value, value: value.value, hasValue: value.found },
      index,
    )
  })
}

/** A member of a JSON object by case-insensitive name (RFC 7643 §2.1). */
function member(object: Json, name: string): { found: boolean; value: unknown } {
  if (name in object) return { found: true, value: object[name] }
  const key = findKey(object, name)
  return key === undefined ? { found: false, value: undefined } : { found: true, value: object[key] }
}
