/**
 * The journal's HTTP side. A SCIM change (POST, PUT, PATCH, DELETE; not searches) that applies
 * writes its entry in its own batch through the scope's journal (src/db/journal.ts). Anything else
 * (errors, no-op changes) is recorded here, after the handler ran.
 */
import { createMiddleware } from 'hono/factory'
import { summarizeChange } from '../observability/summary.ts'
import { recordOutcome } from '../provisioning/journal.ts'
import { actorLabel } from '../runtime/scopes.ts'
import type { ScopedContext, ScopedEnv } from './context.ts'
import { bodyForJournal } from './http.ts'

const ACTIONS: Record<string, string> = { POST: 'create', PUT: 'replace', PATCH: 'update', DELETE: 'delete' }

/** The resource a SCIM path names. */
function resourceOf(pathname: string): { resourceType: string | null; resourceId: string | null } {
  const match = /\/scim\/v2\/[^/]+\/(Users|Groups)(?:\/([^/?]+))?/.exec(pathname)
  return {
    resourceType: match?.[1] === 'Users' ? 'User' : match?.[1] === 'Groups' ? 'Group' : null,
    resourceId: match?.[2] ? safeDecode(match[2]) : null,
  }
}

/** How the journal names this request, and the status a change answers when it applies (201, 204 or 200). */
export function journalOrigin(c: { req: { method: string; url: string } }): {
  method: string
  path: string
  okStatus: number
} {
  const method = c.req.method
  const path = new URL(c.req.url).pathname
  const okStatus =
    method === 'POST'
      ? 201
      : method === 'DELETE' || (method === 'PATCH' && resourceOf(path).resourceType === 'Group')
        ? 204
        : 200
  return { method, path: path.slice(0, 300), okStatus }
}

/**
 * The summary of the request's body: the JSON the handler read, or the body read under the same
 * limits (MAX_BODY_BYTES while streaming, MAX_JSON_DEPTH) when no handler read it. A body refused as
 * too large (413) is never read again, not even for the summary.
 */
async function bodySummary(c: ScopedContext): Promise<string | null> {
  if (c.res.status === 413) return null
  const body = await bodyForJournal(c.req.raw)
  return body === undefined ? null : summarizeChange(c.req.method, body)
}

/** Records SCIM changes that did not commit an entry with their batch: errors and no-ops. */
export const journal = createMiddleware<ScopedEnv>(async (c, next) => {
  const action = ACTIONS[c.req.method]
  const url = new URL(c.req.url)
  if (!action || url.pathname.endsWith('/.search')) return next()
  await next()
  const scope = c.var.scope
  if (scope.journal.committed) return
  // /Bulk journals its operations itself; only a refused request is recorded here.
  if (/\/Bulk\/?$/.test(url.pathname) && c.res.status < 400) return
  const location = c.res.headers.get('location')
  const { resourceType, resourceId } = resourceOf(url.pathname)
  const status = c.res.status
  const entry = {
    at: new Date().toISOString(),
    credentialId: scope.actor.kind === 'idp' ? scope.actor.credentialId : null,
    requestId: scope.requestId,
    method: c.req.method,
    path: url.pathname.slice(0, 300),
    resourceType,
    resourceId: resourceId ?? (location ? location.slice(location.lastIndexOf('/') + 1) : null),
    action,
    outcome: status < 400 ? `ok ${status}` : `error ${status}`,
    summary: await bodySummary(c),
    actor: actorLabel(scope.actor),
    detail: status >= 400 ? await errorDetail(c.res) : null,
  }
  // Recorded before the response goes out.
  await recordOutcome(scope, entry)
})

/**
 * A SCIM error's scimType and detail, for the journal: every quoted value (a userName, an email, a
 * filter literal) becomes "…", so the entry says what went wrong without the personal data.
 */
export async function errorDetail(res: Response): Promise<string | null> {
  if (!/json/.test(res.headers.get('content-type') ?? '')) return null
  return errorBodyDetail(
    await res
      .clone()
      .json()
      .catch(() => undefined),
  )
}

/** The same from an Error message's body (a /Bulk operation's `response`). */
export function errorBodyDetail(value: unknown): string | null {
  const body = value as { scimType?: unknown; detail?: unknown } | undefined
  if (!body || typeof body !== 'object') return null
  const detail = typeof body.detail === 'string' ? redactValues(body.detail) : ''
  const scimType = typeof body.scimType === 'string' ? body.scimType.slice(0, 40) : ''
  return [scimType, detail].filter(Boolean).join(': ').slice(0, 500) || null
}

/** Text with its quoted values replaced by "…". */
export function redactValues(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|“[^”]*”/g, '"…"')
}

/** A URL path segment decoded, or as it came when its percent-encoding is malformed (the route already answered). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment).slice(0, 200)
  } catch {
    return segment.slice(0, 200)
  }
}
