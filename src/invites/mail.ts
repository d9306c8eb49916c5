/**
 * The mail API client: one interface, small adapters for a
 * Resend-style JSON API (the default), Postmark and SendGrid. The invite id travels as the
 * Idempotency-Key header and as a mail header, so a provider that dedupes never sends twice.
 */

/** One email to one person. */
export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
}

/** What a send came to: accepted, worth retrying (429, 5xx, timeout, network), or refused for good (other 4xx). */
export type MailResult =
  | { ok: true; status: number }
  | { ok: false; retry: true; status?: number; reason: string; retryAfterSeconds?: number }
  | { ok: false; retry: false; status: number; reason: string }

export interface MailClient {
  readonly provider: MailProvider
  send(message: MailMessage, options: { idempotencyKey: string }): Promise<MailResult>
}

export type MailProvider = 'resend' | 'postmark' | 'sendgrid'

export interface MailClientOptions {
  fetch: typeof fetch
  /** The provider's send endpoint, e.g. https://api.resend.com/emails. */
  url: string
  apiKey: string
  /** `Name <address>` or a bare address. */
  from: string
  provider?: string
  /** Abort a send after this long and treat it as retryable (default 10 s). */
  timeoutMs?: number
}

/** `"Name <a@x>"` → { name, email }; a bare address → { email }. */
export function parseAddress(text: string): { email: string; name?: string } {
  const match = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(text)
  if (!match) return { email: text.trim() }
  const name = match[1]!.replace(/^"(.*)"$/, '$1')
  return name ? { email: match[2]!.trim(), name } : { email: match[2]!.trim() }
}

type Request = { headers: Record<string, string>; body: unknown }
type Adapter = (message: MailMessage, from: string, apiKey: string, idempotencyKey: string) => Request

const ADAPTERS: Record<MailProvider, Adapter> = {
  // Resend: POST /emails, bearer key, Idempotency-Key honoured for 24 h.
  resend: (m, from, apiKey, key) => ({
    headers: { Authorization: `Bearer ${apiKey}`, 'Idempotency-Key': key },
    body: { from, to: [m.to], subject: m.subject, text: m.text, html: m.html, headers: { 'X-Entity-Ref-ID': key } },
  }),
  // Postmark: POST /email, server token header; it has no idempotency header, so the key rides along as a mail header.
  postmark: (m, from, apiKey, key) => ({
    headers: { 'X-Postmark-Server-Token': apiKey, Accept: 'application/json', 'Idempotency-Key': key },
    body: {
      From: from,
      To: m.to,
      Subject: m.subject,
      TextBody: m.text,
      HtmlBody: m.html,
      MessageStream: 'outbound',
      Headers: [{ Name: 'X-Entity-Ref-ID', Value: key }],
    },
  }),
  // SendGrid v3: POST /v3/mail/send, bearer key, 202 on success.
  sendgrid: (m, from, apiKey, key) => ({
    headers: { Authorization: `Bearer ${apiKey}`, 'Idempotency-Key': key },
    body: {
      personalizations: [{ to: [{ email: m.to }] }],
      from: parseAddress(from),
      subject: m.subject,
      content: [
        { type: 'text/plain', value: m.text },
        { type: 'text/html', value: m.html },
      ],
      headers: { 'X-Entity-Ref-ID': key },
    },
  }),
}

/** True for a provider name this client has an adapter for. */
export function isMailProvider(name: string): name is MailProvider {
  return Object.hasOwn(ADAPTERS, name)
}

/** Most bytes of an error body the client reads; the rest is cancelled unread. */
export const ERROR_BODY_LIMIT = 4096

/** Longest recipient address accepted (the SMTP path limit). */
const MAX_ADDRESS_LENGTH = 254

/**
 * Why `to` is not exactly one plain address, or undefined when it is: one `@`, no whitespace or
 * control characters, none of `,;<>"()[]\\`, at most 254 characters, no empty label in the domain.
 */
export function recipientProblem(to: string): string | undefined {
  if (to.length === 0) return 'the recipient address is empty'
  if (to.length > MAX_ADDRESS_LENGTH) return `the recipient address is longer than ${MAX_ADDRESS_LENGTH} characters`
  if (/[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(to))
    return 'the recipient address contains a line break or control character'
  if (/[,;<>"()[\]\\\s]/.test(to))
    return 'the recipient address is not exactly one plain address (it contains a separator, bracket or space)'
  const parts = to.split('@')
  if (parts.length !== 2) return 'the recipient address must contain exactly one @'
  const [local, domain] = parts as [string, string]
  if (!local || !domain || local.length > 64) return 'the recipient address has an empty or overlong part around @'
  if (!/^[^.]+(\.[^.]+)*$/.test(domain)) return 'the recipient address has an invalid domain'
  return undefined
}

/** Reads at most `limit` bytes of a body chunk by chunk, cancelling the stream past the limit. */
export async function readLimited(response: Response, limit = ERROR_BODY_LIMIT): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < limit) {
      const { done, value } = await reader.read()
      if (done) break
      const take = value.subarray(0, limit - size)
      chunks.push(take)
      size += take.byteLength
    }
  } catch {
    // A broken body says nothing more; what was read is kept.
  } finally {
    reader.cancel().catch(() => {})
  }
  const bytes = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    bytes.set(chunk, at)
    at += chunk.byteLength
  }
  return new TextDecoder().decode(bytes)
}

/** The host a Location header points at, or a placeholder when there is none or it does not parse. */
function locationHost(location: string | null, base: string): string {
  if (!location) return 'no Location'
  try {
    return new URL(location, base).host || 'no host'
  } catch {
    return 'an unparsable Location'
  }
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date), if any. */
function retryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds)
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000))
}

/** Builds the client for MAIL_PROVIDER (default resend); an unknown provider is a configuration error. */
export function createMailClient(options: MailClientOptions): MailClient {
  const provider = (options.provider || 'resend').toLowerCase()
  if (!isMailProvider(provider))
    throw new Error(`MAIL_PROVIDER "${provider}" is not one of ${Object.keys(ADAPTERS).join(', ')}`)
  const adapter = ADAPTERS[provider]
  const timeoutMs = options.timeoutMs ?? 10_000
  return {
    provider,
    async send(message, { idempotencyKey }) {
      const problem = recipientProblem(message.to)
      if (problem) return { ok: false, retry: false, status: 0, reason: problem }
      const request = adapter(message, options.from, options.apiKey, idempotencyKey)
      let response: Response
      try {
        response = await options.fetch(options.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...request.headers },
          body: JSON.stringify(request.body),
          signal: AbortSignal.timeout(timeoutMs),
          // A redirect would resend the message and the API key to wherever it points.
          redirect: 'manual',
        })
      } catch (error) {
        const name = (error as Error).name
        const reason =
          name === 'TimeoutError' || name === 'AbortError'
            ? `timed out after ${timeoutMs} ms`
            : `network error: ${(error as Error).message}`
        return { ok: false, retry: true, reason }
      }
      const status = response.status
      if (status >= 200 && status < 300) {
        response.body?.cancel().catch(() => {})
        return { ok: true, status }
      }
      if (status >= 300 && status < 400) {
        const host = locationHost(response.headers.get('location'), options.url)
        response.body?.cancel().catch(() => {})
        return {
          ok: false,
          retry: false,
          status,
          reason: `${provider} answered ${status} redirecting to ${host}; not followed`,
        }
      }
      const text = await readLimited(response)
      const reason = `${provider} answered ${status}: ${text.slice(0, 300)}`
      if (status === 429 || status >= 500 || status === 408) {
        return {
          ok: false,
          retry: true,
          status,
          reason,
          retryAfterSeconds: retryAfter(response.headers.get('retry-after')),
        }
      }
      return { ok: false, retry: false, status, reason }
    },
  }
}
