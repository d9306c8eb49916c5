/**
 * A local stand-in for the mail API: accepts Resend (`POST /emails`),
 * Postmark (`POST /email`) and SendGrid (`POST /v3/mail/send`) requests, prints each message's
 * recipient, subject and first link, and serves them back at `GET /messages` as JSON (`DELETE` clears).
 * A browser gets pages (src/dev/mail-sink-pages.ts): the list at `/`, each message at `/messages/{id}`
 * (JSON there for clients that do not ask for HTML), and `/signed-in`, where a local tenant's app URL can
 * point. `node src/dev/mail-sink.ts` runs it on MAIL_SINK_PORT (default 8025); tests use startMailSink.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { listPage, messagePage, notFoundPage, PAGE_HEADERS, signedInPage } from './mail-sink-pages.ts'

/** One received message, normalised across providers. */
export interface SinkMessage {
  id: string
  provider: 'resend' | 'postmark' | 'sendgrid'
  from: string
  /** Recipients as a To header would list them: comma-separated addresses. */
  to: string
  subject: string
  text: string
  html: string
  /** The HTTP request headers (lower-case names), e.g. authorization and idempotency-key. */
  headers: Record<string, string>
  /** Mail headers carried in the payload (Resend `headers`, Postmark `Headers`, SendGrid `headers`). */
  emailHeaders: Record<string, string>
  /** The first http(s) link in the text or HTML body, if any. */
  link?: string
  receivedAt: string
}

/** A running sink. `url` is the origin (`http://127.0.0.1:8025`); Resend-style clients post to `${url}/emails`. */
export interface MailSink {
  url: string
  port: number
  /** Received messages, oldest first (the live array). */
  messages: SinkMessage[]
  /** Answers the next `count` sends with `status` (e.g. 503, 429, 422) instead of accepting them. */
  failNext(status: number, count?: number): void
  close(): Promise<void>
}

interface Options {
  port?: number
  host?: string
  /** Print one line per message (default true). */
  log?: boolean | ((line: string) => void)
}

type Parsed = Omit<SinkMessage, 'id' | 'headers' | 'link' | 'receivedAt'>

class BadRequest extends Error {}

const PROVIDERS: Record<string, (body: any) => Parsed> = {
  '/emails': (b) => ({
    provider: 'resend',
    from: str(b.from),
    to: addresses(b.to),
    subject: str(b.subject),
    text: str(b.text),
    html: str(b.html),
    emailHeaders: stringRecord(b.headers),
  }),
  '/email': (b) => ({
    provider: 'postmark',
    from: str(b.From),
    to: addresses(b.To),
    subject: str(b.Subject),
    text: str(b.TextBody),
    html: str(b.HtmlBody),
    emailHeaders: Object.fromEntries(
      (Array.isArray(b.Headers) ? b.Headers : []).map((h: any) => [str(h?.Name), str(h?.Value)]),
    ),
  }),
  '/v3/mail/send': (b) => {
    const personalizations: any[] = Array.isArray(b.personalizations) ? b.personalizations : []
    const content: any[] = Array.isArray(b.content) ? b.content : []
    return {
      provider: 'sendgrid',
      from: addresses(b.from),
      to: addresses(personalizations.flatMap((p) => (Array.isArray(p?.to) ? p.to : []))),
      subject: str(personalizations[0]?.subject ?? b.subject),
      text: str(content.find((c) => c?.type === 'text/plain')?.value),
      html: str(content.find((c) => c?.type === 'text/html')?.value),
      emailHeaders: { ...stringRecord(b.headers), ...stringRecord(personalizations[0]?.headers) },
    }
  },
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/** `"a@x"`, `["a@x", "b@y"]`, `{ email }` or `[{ email, name }]`, as "a@x, b@y". */
function addresses(value: unknown): string {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]
  return list
    .map((v) => (typeof v === 'string' ? v : str((v as { email?: unknown })?.email)))
    .filter(Boolean)
    .join(', ')
}

function stringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {}
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]))
}

/** The first http(s) URL in a text, without trailing punctuation or a closing quote. */
export function firstLink(...bodies: string[]): string | undefined {
  for (const body of bodies) {
    const match = /https?:\/\/[^\s"'<>]+/.exec(body)
    if (match) return match[0].replace(/[).,;:!?]+$/, '').replaceAll('&amp;', '&')
  }
  return undefined
}

/** Starts a sink on 127.0.0.1; port 0 picks a free port. */
export function startMailSink(options: Options = {}): Promise<MailSink> {
  const messages: SinkMessage[] = []
  const failures: number[] = []
  let seq = 0
  /** This sink's own origin, once it listens (the empty-list page names it). */
  let origin = ''
  const log =
    options.log === false
      ? () => {}
      : typeof options.log === 'function'
        ? options.log
        : (line: string) => console.log(line)

  const server = createServer(async (req, res) => {
    try {
      await handle(req, res)
    } catch (error) {
      const status = error instanceof BadRequest ? 400 : 500
      send(res, status, {
        statusCode: status,
        name: status === 400 ? 'validation_error' : 'internal_error',
        message: (error as Error).message,
      })
    }
  })

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sink')
    const path = url.pathname
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/') return sendPage(res, 200, listPage(messages, origin))
      if (path === '/signed-in') return sendPage(res, 200, signedInPage(url.searchParams))
      const one = /^\/messages\/([^/]+)$/.exec(path)
      if (one) {
        const id = decoded(one[1]!)
        const message = messages.find((m) => m.id === id)
        if (wantsHtml(req)) {
          return message
            ? sendPage(res, 200, messagePage(message))
            : sendPage(res, 404, notFoundPage(`There is no message ${id ?? one[1]} (it may have been cleared).`))
        }
        return message
          ? send(res, 200, message)
          : send(res, 404, { statusCode: 404, message: `no message ${id ?? one[1]}` })
      }
    }
    if (path === '/messages' && req.method === 'GET') return send(res, 200, messages)
    if (path === '/messages' && req.method === 'DELETE') {
      messages.length = 0
      return send(res, 200, { cleared: true })
    }
    // For black-box tests against `npm start`: POST /_fail {"status":503,"count":2}.
    if (path === '/_fail' && req.method === 'POST') {
      const { status, count } = parseJson(await readBody(req)) as { status?: number; count?: number }
      if (typeof status !== 'number' || status < 200 || status > 599)
        throw new BadRequest('status must be an HTTP status')
      for (let i = 0; i < (count ?? 1); i++) failures.push(status)
      return send(res, 200, { queued: failures.length })
    }
    const parse = PROVIDERS[path]
    if (!parse || !Object.hasOwn(PROVIDERS, path)) {
      if (req.method === 'GET' && wantsHtml(req)) return sendPage(res, 404, notFoundPage(`Nothing is at ${path}.`))
      return send(res, 404, { statusCode: 404, message: `no route ${req.method} ${path}` })
    }
    if (req.method !== 'POST') return send(res, 405, { statusCode: 405, message: 'use POST' })

    const body = parseJson(await readBody(req))
    const failure = failures.shift()
    if (failure !== undefined) {
      log(`mail-sink: answered ${path} with ${failure} (failNext)`)
      return send(res, failure, { statusCode: failure, message: 'failure injected by the mail sink' })
    }
    const parsed = parse(body)
    if (!parsed.to) return send(res, 422, { statusCode: 422, name: 'validation_error', message: 'missing recipient' })

    const message: SinkMessage = {
      id: `sink-${++seq}`,
      ...parsed,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
      ),
      link: firstLink(parsed.text, parsed.html),
      receivedAt: new Date().toISOString(),
    }
    messages.push(message)
    log(`mail-sink: ✉  to ${message.to}  "${message.subject}"${message.link ? `\n           ${message.link}` : ''}`)

    if (parsed.provider === 'postmark') {
      return send(res, 200, {
        To: message.to,
        SubmittedAt: message.receivedAt,
        MessageID: message.id,
        ErrorCode: 0,
        Message: 'OK',
      })
    }
    if (parsed.provider === 'sendgrid') {
      res.writeHead(202, { 'X-Message-Id': message.id })
      return res.end()
    }
    return send(res, 200, { id: message.id })
  }

  return new Promise((resolvePromise, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 8025, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : (options.port ?? 8025)
      origin = `http://${options.host ?? '127.0.0.1'}:${port}`
      resolvePromise({
        url: origin,
        port,
        messages,
        failNext(status, count = 1) {
          for (let i = 0; i < count; i++) failures.push(status)
        },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text || 'null') ?? {}
  } catch {
    throw new BadRequest('body is not JSON')
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')))
    req.on('error', fail)
  })
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

function sendPage(res: ServerResponse, status: number, html: string) {
  res.writeHead(status, PAGE_HEADERS)
  res.end(html)
}

/** Whether the client asks for a page (a browser's Accept names text/html); fetch and curl accept anything and get JSON. */
function wantsHtml(req: IncomingMessage): boolean {
  return /\btext\/html\b/.test(req.headers.accept ?? '')
}

/** A percent-decoded path segment, or undefined when its encoding is broken. */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const sink = await startMailSink({ port: Number(process.env.MAIL_SINK_PORT ?? 8025) })
  console.log(
    `mail-sink: listening on ${sink.url} (open it in a browser; POST /emails, /email, /v3/mail/send; GET|DELETE /messages)`,
  )
  const stop = () => void sink.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
