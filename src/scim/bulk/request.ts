/**
 * Reads a BulkRequest, RFC 7644 §3.7. What is wrong with the request as a whole (not an object, no
 * Operations, more than MAX_BULK_OPERATIONS, a bad failOnErrors) refuses the request; what is wrong
 * with one operation (its method, path, a POST without bulkId, a bulkId used twice) becomes that
 * operation's error, so the others still run. Member names match case-insensitively (RFC 7643 §2.1).
 */
import { InvalidSyntax, InvalidValue, PayloadTooLarge, type ScimError } from '../errors.ts'
import { MAX_BULK_CHANGES, MAX_BULK_OPERATIONS } from '../limits.ts'
import { valueOf } from '../resource/keys.ts'
import { describe, isObject } from '../resource/values.ts'
import { URN } from '../urns.ts'

export type BulkMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE'
export type BulkEndpoint = 'Users' | 'Groups'

/** One operation as sent, checked. */
export interface BulkOperation {
  /** 1-based position in the request. */
  index: number
  method: BulkMethod
  endpoint: BulkEndpoint
  /** The resource id of PUT, PATCH and DELETE: an id, or `bulkId:{id}` of a POST in the same request. */
  target?: string
  bulkId?: string
  /** The operation's `version`: an ETag the resource must still have (RFC 7644 §3.14). */
  version?: string
  data?: unknown
}

/** An operation that cannot run as sent: its error is its response. */
export interface RefusedOperation {
  index: number
  method: string
  bulkId?: string
  error: ScimError
}

export interface BulkRequest {
  /** Errors after which the rest is not attempted; undefined: run everything. */
  failOnErrors?: number
  operations: (BulkOperation | RefusedOperation)[]
}

const METHODS = new Set<string>(['POST', 'PUT', 'PATCH', 'DELETE'])

/** `/Users`, `/Groups/{id}`, `Users/bulkId:x`: the endpoint and the id, or undefined when it names neither. */
function parsePath(path: string): { endpoint: BulkEndpoint; target?: string } | undefined {
  const match = /^\/?(Users|Groups)(?:\/([^/?#]+))?\/?$/i.exec(path.trim())
  if (!match) return undefined
  const endpoint: BulkEndpoint = match[1]!.toLowerCase() === 'users' ? 'Users' : 'Groups'
  let target = match[2]
  if (target) {
    try {
      target = decodeURIComponent(target)
    } catch {
      return undefined
    }
  }
  return { endpoint, target }
}

function operation(raw: unknown, index: number, seen: Set<string>): BulkOperation | RefusedOperation {
  if (!isObject(raw))
    return {
      index,
      method: '',
      error: new InvalidSyntax(`Operation ${index} must be an object with "method" and "path", got ${describe(raw)}`),
    }
  const methodValue = valueOf(raw, 'method')
  const method = typeof methodValue === 'string' ? methodValue.toUpperCase() : ''
  const bulkIdValue = valueOf(raw, 'bulkId')
  const bulkId = typeof bulkIdValue === 'string' && bulkIdValue ? bulkIdValue : undefined
  const refuse = (error: ScimError): RefusedOperation => ({ index, method, bulkId, error })
  if (!METHODS.has(method))
    return refuse(
      new InvalidValue(`Operation ${index}: "method" must be POST, PUT, PATCH or DELETE, got ${describe(methodValue)}`),
    )
  if (bulkIdValue !== undefined && bulkIdValue !== null && !bulkId)
    return refuse(new InvalidValue(`Operation ${index}: "bulkId" must be a non-empty string`))
  const pathValue = valueOf(raw, 'path')
  const path = typeof pathValue === 'string' ? parsePath(pathValue) : undefined
  if (!path)
    return refuse(
      new InvalidValue(
        `Operation ${index}: "path" must be /Users or /Groups, with /{id} for ${method === 'POST' ? 'PUT, PATCH and DELETE' : method}; got ${describe(pathValue ?? null)}`,
      ),
    )
  if (method === 'POST' && path.target)
    return refuse(new InvalidValue(`Operation ${index}: POST goes to /${path.endpoint}, not to a resource's path`))
  if (method !== 'POST' && !path.target)
    return refuse(
      new InvalidValue(`Operation ${index}: ${method} needs the resource in "path", e.g. /${path.endpoint}/{id}`),
    )
  if (method === 'POST') {
    if (!bulkId)
      return refuse(
        new InvalidValue(
          `Operation ${index}: a POST needs a "bulkId" (RFC 7644 §3.7), so its result can be told apart`,
        ),
      )
    if (seen.has(bulkId))
      return refuse(
        new InvalidValue(
          `Operation ${index}: bulkId "${bulkId.slice(0, 60)}" is used by an earlier POST of this request`,
        ),
      )
    seen.add(bulkId)
  }
  const data = valueOf(raw, 'data')
  if (method !== 'DELETE' && !isObject(data))
    return refuse(new InvalidSyntax(`Operation ${index}: ${method} needs "data", the resource or PatchOp as an object`))
  const versionValue = valueOf(raw, 'version')
  return {
    index,
    method: method as BulkMethod,
    endpoint: path.endpoint,
    target: path.target,
    bulkId,
    version: typeof versionValue === 'string' && versionValue ? versionValue : undefined,
    data,
  }
}

/** Validates a BulkRequest (RFC 7644 §3.7) and returns its operations, checked one by one. */
export function parseBulkRequest(body: unknown): BulkRequest {
  if (!isObject(body))
    throw new InvalidSyntax('The /Bulk body must be a JSON object with "schemas" and "Operations" (RFC 7644 §3.7).')
  const schemas = valueOf(body, 'schemas')
  if (
    schemas !== undefined &&
    !(
      Array.isArray(schemas) &&
      schemas.some((s) => typeof s === 'string' && s.toLowerCase() === URN.bulkRequest.toLowerCase())
    )
  )
    throw new InvalidSyntax(`"schemas" must be ["${URN.bulkRequest}"]`)
  const operations = valueOf(body, 'Operations')
  if (!Array.isArray(operations) || operations.length === 0)
    throw new InvalidSyntax(`"Operations" must be a non-empty array of operations, got ${describe(operations ?? null)}`)
  if (operations.length > MAX_BULK_OPERATIONS)
    throw new PayloadTooLarge(
      `The request has ${operations.length} operations; at most ${MAX_BULK_OPERATIONS} are accepted in one /Bulk request (ServiceProviderConfig bulk.maxOperations). Split it.`,
    )
  const failValue = valueOf(body, 'failOnErrors')
  if (failValue !== undefined && failValue !== null && !(Number.isInteger(failValue) && (failValue as number) >= 1))
    throw new InvalidValue(`"failOnErrors" must be an integer of at least 1, got ${describe(failValue)}`)
  const seen = new Set<string>()
  const parsed = operations.map((raw, i) => operation(raw, i + 1, seen))
  const changes = parsed.filter((o) => 'endpoint' in o && !(o.method === 'POST' && o.endpoint === 'Users')).length
  if (changes > MAX_BULK_CHANGES)
    throw new PayloadTooLarge(
      `The request has ${changes} operations other than user creates (PUT, PATCH, DELETE, group creates); at most ${MAX_BULK_CHANGES} are accepted in one /Bulk request, since each is written on its own while user creates are written 100 at a time (up to bulk.maxOperations, ${MAX_BULK_OPERATIONS}). Split it.`,
    )
  return { failOnErrors: typeof failValue === 'number' ? failValue : undefined, operations: parsed }
}
