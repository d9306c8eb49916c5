/** The one place errors become responses (RFC 7644 §3.12). */
import { ConstraintViolation, StorageUnavailable } from '../d1/errors.ts'
import { OAuthError, oauthErrorBody } from '../oauth/errors.ts'
import { log } from '../observability/log.ts'
import { NotFound, ScimError, ServiceUnavailable } from '../scim/errors.ts'
import { URN } from '../scim/urns.ts'
import type { RootContext } from './context.ts'
import { SCIM_CONTENT_TYPE } from './http.ts'

/** A ScimError as the SCIM Error message: `status` as a string (also a /Bulk operation's `response`). */
export function errorBody(error: ScimError): Record<string, unknown> {
  const body: Record<string, unknown> = { schemas: [URN.error], status: String(error.status) }
  if (error.scimType) body.scimType = error.scimType
  body.detail = error.message
  return body
}

/** Renders a ScimError as application/scim+json with `status` as a string. */
export function errorResponse(error: ScimError, requestId?: string): Response {
  const body = errorBody(error)
  const headers: Record<string, string> = { 'Content-Type': SCIM_CONTENT_TYPE, ...error.headers }
  if (requestId) headers['X-Request-Id'] = requestId
  return new Response(JSON.stringify(body), { status: error.status, headers })
}

/** Renders an OAuthError as RFC 6749 §5.2 JSON, never cached. */
export function oauthErrorResponse(error: OAuthError, requestId?: string): Response {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    ...error.headers,
  }
  if (requestId) headers['X-Request-Id'] = requestId
  return new Response(JSON.stringify(oauthErrorBody(error)), { status: error.status, headers })
}

/**
 * Any failure as the ScimError a client sees: SCIM errors as they are, D1 failures as 503 with
 * Retry-After (`committed`: the change was saved before a later read failed), the rest as a logged 500.
 */
export function toScimError(error: unknown, requestId: string | undefined, committed = false): ScimError {
  if (error instanceof ScimError) {
    if (error.status >= 500) log('error', 'scim_error', { requestId, status: error.status, detail: error.message })
    return error
  }
  if (error instanceof StorageUnavailable) {
    // The message is D1's without bound parameters (they carry userNames and emails).
    log('error', 'storage_error', { requestId, message: error.message })
    return new ServiceUnavailable(
      committed
        ? 'Storage became unavailable after the change was saved; read the resource again before retrying.'
        : 'Storage is temporarily unavailable; nothing was changed. Retry shortly.',
    )
  }
  if (error instanceof ConstraintViolation) {
    // A constraint that the write did not expect to hit is our bug (src/db/constraints.ts logged which one).
    log('error', 'constraint_bug', {
      requestId,
      table: error.table ?? null,
      columns: error.columns,
      message: error.message,
    })
  } else {
    const e = error as Error | undefined
    log('error', 'unhandled_error', { requestId, message: String(e?.message ?? e), stack: e?.stack?.slice(0, 2000) })
  }
  return new ScimError(500, `Internal error; quote request id ${requestId ?? 'unknown'} to support.`)
}

/** Hono onError: token endpoint errors in OAuth's shape, everything else through toScimError. */
export function onError(error: Error, c: RootContext): Response {
  const requestId = c.get('requestId')
  if (error instanceof OAuthError) return oauthErrorResponse(error, requestId)
  return errorResponse(toScimError(error, requestId, c.get('scope')?.journal.committed), requestId)
}

/** Hono notFound: the same Error shape for unknown paths. */
export function onNotFound(c: RootContext): Response {
  return errorResponse(new NotFound(`No endpoint at ${new URL(c.req.url).pathname}`), c.get('requestId'))
}
