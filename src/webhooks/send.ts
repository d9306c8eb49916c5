/**
 * One HTTP delivery to a webhook: the request in the webhook's format (Standard Webhooks JSON or an
 * RFC 8417 SET pushed per RFC 8935), sent with a timeout and without following redirects, and what
 * came of it. Any 2xx is a success (and, for deactivations and deletions, the app's receipt).
 */
import type { AppEvent } from '../signals/event.ts'
import { SET_CONTENT_TYPE, securityEventToken, type SetSigner } from '../signals/set.ts'
import { signatureHeaders, standardPayload } from '../signals/standard-webhooks.ts'
import type { WebhookConfig } from '../tenants/document.ts'

/** What a delivery needs beyond the webhook and the event. */
export interface SendContext {
  fetch: typeof fetch
  timeoutMs: number
  now: () => Date
  /** The Worker's public URL: the `iss` of SETs. */
  issuer: string
  /** The tenant's SCIM Base URL. */
  baseUrl: string
  /** The key SETs are signed with; undefined when OAUTH_SIGNING_KEYS is not set. */
  signer?: SetSigner
}

/** The result of one attempt. */
export type SendResult =
  | { ok: true; status: number; ms: number }
  | { ok: false; status: number | null; error: string; ms: number; retryAfterSeconds?: number }

/** The secrets that sign now: the newest and any rotated one whose overlap has not ended. */
export function liveSecrets(webhook: WebhookConfig, now: Date): string[] {
  return webhook.secrets.filter((s) => !s.expiresAt || s.expiresAt > now.toISOString()).map((s) => s.secret)
}

/** The body and headers of `event` for this webhook. */
export async function deliveryRequest(
  webhook: WebhookConfig,
  event: AppEvent,
  ctx: SendContext,
): Promise<{ body: string; headers: Record<string, string> }> {
  const at = ctx.now()
  let body: string
  let contentType: string
  if (webhook.format === 'set') {
    if (!ctx.signer) throw new Error('OAUTH_SIGNING_KEYS is not set: SETs cannot be signed')
    body = await securityEventToken(event, {
      issuer: ctx.issuer,
      audience: webhook.url,
      baseUrl: ctx.baseUrl,
      signer: ctx.signer,
      now: at,
    })
    contentType = SET_CONTENT_TYPE
  } else {
    body = standardPayload(event)
    contentType = 'application/json'
  }
  return {
    body,
    headers: {
      'content-type': contentType,
      'user-agent': 'scim-edge-webhooks/1',
      ...signatureHeaders(event.id, at, body, liveSecrets(webhook, at)),
    },
  }
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000)
}

/**
 * Posts a prepared request; never throws. A connection the receiver closed as it was reused ("Network
 * connection lost") is tried once more at once: the receiver saw nothing, and the webhook-id makes a
 * repeat harmless anyway.
 */
export async function post(
  url: string,
  request: { body: string; headers: Record<string, string> },
  ctx: Pick<SendContext, 'fetch' | 'timeoutMs'>,
): Promise<SendResult> {
  const first = await postOnce(url, request, ctx)
  if (first.ok || first.status !== null || !/connection lost/i.test(first.error)) return first
  const again = await postOnce(url, request, ctx)
  return { ...again, ms: again.ms + first.ms }
}

async function postOnce(
  url: string,
  request: { body: string; headers: Record<string, string> },
  ctx: Pick<SendContext, 'fetch' | 'timeoutMs'>,
): Promise<SendResult> {
  const started = Date.now()
  try {
    const res = await ctx.fetch(url, {
      method: 'POST',
      body: request.body,
      headers: request.headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(ctx.timeoutMs),
    })
    // The body is not needed; reading it frees the connection.
    await res.arrayBuffer().catch(() => undefined)
    const ms = Date.now() - started
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, ms }
    if (res.status >= 300 && res.status < 400)
      return { ok: false, status: res.status, ms, error: `answered ${res.status}; redirects are not followed` }
    return {
      ok: false,
      status: res.status,
      ms,
      error: `answered ${res.status}`,
      retryAfterSeconds: retryAfter(res.headers.get('retry-after')),
    }
  } catch (error) {
    const ms = Date.now() - started
    const name = (error as Error).name
    const timedOut = name === 'TimeoutError' || name === 'AbortError'
    return {
      ok: false,
      status: null,
      ms,
      error: timedOut
        ? `no answer within ${ctx.timeoutMs} ms`
        : `could not connect: ${(error as Error).message}`.slice(0, 200),
    }
  }
}

/** Sends `event` to the webhook. */
export async function sendEvent(webhook: WebhookConfig, event: AppEvent, ctx: SendContext): Promise<SendResult> {
  let request: { body: string; headers: Record<string, string> }
  try {
    request = await deliveryRequest(webhook, event, ctx)
  } catch (error) {
    return { ok: false, status: null, ms: 0, error: (error as Error).message }
  }
  return post(webhook.url, request, ctx)
}
