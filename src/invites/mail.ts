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
      const request = adapter(message, options.from, options.apiKey, idempotencyKey)
      let response: Response
      try {
        response = await options.fetch(options.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...request.headers },
          body: JSON.stringify(request.body),
          signal: AbortSignal.timeout(timeoutMs),
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
      const text = await response.text().catch(() => '')
      if (status >= 200 && status < 300) return { ok: true, status }
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
