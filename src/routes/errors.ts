/** The one place SCIM errors become responses (RFC 7644 §3.12). */
import { isStorageError } from '../db/errors.ts'
import { log } from '../observability/log.ts'
import { NotFound, ScimError, ServiceUnavailable } from '../scim/errors.ts'
import { URN } from '../scim/urns.ts'
import type { AppContext } from './context.ts'
import { SCIM_CONTENT_TYPE } from './http.ts'

/** Renders a ScimError as application/scim+json with `status` as a string. */
export function errorResponse(error: ScimError, requestId?: string): Response {
  const body: Record<string, unknown> = { schemas: [URN.error], status: String(error.status) }
  if (error.scimType) body.scimType = error.scimType
  body.detail = error.message
  const headers: Record<string, string> = { 'Content-Type': SCIM_CONTENT_TYPE, ...error.headers }
  if (requestId) headers['X-Request-Id'] = requestId
  return new Response(JSON.stringify(body), { status: error.status, headers })
}

/** Hono onError: SCIM errors as they are, storage failures as 503 with Retry-After, the rest as a logged 500. */
export function onError(error: Error, c: AppContext): Response {
  const requestId = c.get('requestId')
  if (error instanceof ScimError) {
    if (error.status >= 500) log('error', 'scim_error', { requestId, status: error.status, detail: error.message })
    return errorResponse(error, requestId)
  }
  if (isStorageError(error)) {
    // drizzle's message carries the bound parameters (userNames, emails): log the SQL and D1's cause only.
    const cause = (error as { cause?: unknown }).cause
    log('error', 'storage_error', { requestId, message: error.message.split('\nparams:')[0]!.slice(0, 500), cause: cause instanceof Error ? cause.message.slice(0, 300) : undefined })
    // The change's batch (with its journal entry) may have committed before a later read failed.
    const detail = c.var.journal?.written
      ? 'Storage became unavailable after the change was saved; read the resource again before retrying.'
      : 'Storage is temporarily unavailable; nothing was changed. Retry shortly.'
    return errorResponse(new ServiceUnavailable(detail), requestId)
  }
  log('error', 'unhandled_error', { requestId, message: error.message, stack: error.stack?.slice(0, 2000) })
  return errorResponse(new ScimError(500, `Internal error; quote request id ${requestId ?? 'unknown'} to support.`), requestId)
}

/** Hono notFound: the same Error shape for unknown paths. */
export function onNotFound(c: AppContext): Response {
  return errorResponse(new NotFound(`No endpoint at ${new URL(c.req.url).pathname}`), c.get('requestId'))
}
