/**
 * The mail sink's pages for a person (src/dev/mail-sink.ts): the list of received mail at `/`, one
 * message at `/messages/{id}`, the local "you are in" page at `/signed-in` that stands in for a
 * tenant's app, and a page for an address that is not there. Every value is escaped; a mail's HTML is
 * shown only inside a sandboxed iframe (no scripts, no same origin), and the pages load nothing else.
 */
/** What the pages show of a received message (SinkMessage of src/dev/mail-sink.ts has these fields). */
export interface ShownMail {
  id: string
  provider: string
  from: string
  to: string
  subject: string
  text: string
  html: string
  emailHeaders: Record<string, string>
  link?: string
  receivedAt: string
}

/** `&`, `<`, `>`, `"` and `'` as character references: safe in text and in quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/**
 * Headers of every page: no caching, never framed, no Referer, and a policy that loads nothing (no
 * script, image or font) but the inline style. A mail's iframe inherits the same policy.
 */
export const PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'self'",
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f4f4f5}
main{max-width:60rem;margin:2rem auto;padding:1.5rem;background:#fff;border:1px solid #d4d4d8;border-radius:12px}
@media (max-width:36rem){main{margin:0;padding:1rem;border-width:0 0 1px;border-radius:0}}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
a{color:#1d4ed8}
a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e4e4e7;vertical-align:top;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:1rem 0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
iframe{width:100%;height:28rem;border:1px solid #d4d4d8;border-radius:8px;background:#fff}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f4f5;padding:1rem;border-radius:8px;margin:0}
.note{color:#3f3f46}
.link{font-size:1.05rem;overflow-wrap:anywhere}
nav{margin:0 0 1rem}
`

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`
}

/** An ISO instant as "2026-11-02 11:20:03 UTC" inside a <time>. */
function time(iso: string): string {
  const text = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : iso
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(text)}</time>`
}

const messagePath = (m: ShownMail) => `/messages/${encodeURIComponent(m.id)}`
const subjectOf = (m: ShownMail) => m.subject || '(no subject)'

/** `/`: every received mail, newest first, or how mail gets here when there is none. */
export function listPage(messages: readonly ShownMail[], origin: string): string {
  if (messages.length === 0) {
    return page(
      'Mail sink: no mail yet',
      `<h1>No mail yet</h1>
<p>Mail lands here when the Worker sends an invite: provision a user over SCIM (or run
<code>npm run tenant -- reinvite &lt;tenant&gt; &lt;userName&gt;</code>) and reload this page.</p>
<p class="note">The Worker's <code>MAIL_API_URL</code> points here: <code>${escapeHtml(origin)}/emails</code> (Resend),
<code>/email</code> (Postmark) or <code>/v3/mail/send</code> (SendGrid). <code>npm start</code> sets it up.
The same list as JSON: <a href="/messages">/messages</a>.</p>`,
    )
  }
  const rows = [...messages]
    .reverse()
    .map(
      (m) =>
        `<tr><td>${escapeHtml(m.to)}</td><td><a href="${escapeHtml(messagePath(m))}">${escapeHtml(subjectOf(m))}</a></td><td>${time(m.receivedAt)}</td></tr>`,
    )
    .join('')
  const count = messages.length === 1 ? '1 message' : `${messages.length} messages`
  return page(
    `Mail sink: ${count}`,
    `<h1>Received mail</h1>
<p class="note">${count}, newest first. Reload for new mail; the same list as JSON: <a href="/messages">/messages</a>.</p>
<table><thead><tr><th scope="col">To</th><th scope="col">Subject</th><th scope="col">Received</th></tr></thead><tbody>${rows}</tbody></table>`,
  )
}

/** `/messages/{id}`: the headers, the first link, the HTML body in a sandboxed frame and the text body. */
export function messagePage(m: ShownMail): string {
  const headers = Object.entries(m.emailHeaders)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('')
  const link = m.link
    ? `<p class="link">First link: <a href="${escapeHtml(m.link)}">${escapeHtml(m.link)}</a></p>`
    : '<p class="note">This mail has no link.</p>'
  // Links in the mail open in a new tab: a sandboxed frame may not navigate the page itself.
  const html = m.html
    ? `<h2>HTML body</h2><iframe title="The HTML body of this mail" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="${escapeHtml(`<base target="_blank">${m.html}`)}"></iframe>`
    : ''
  const text = m.text ? `<h2>Text body</h2><pre>${escapeHtml(m.text)}</pre>` : ''
  return page(
    `${subjectOf(m)}: mail sink`,
    `<nav><a href="/">All mail</a></nav>
<h1>${escapeHtml(subjectOf(m))}</h1>
<dl><dt>From</dt><dd>${escapeHtml(m.from || '(none)')}</dd><dt>To</dt><dd>${escapeHtml(m.to)}</dd><dt>Subject</dt><dd>${escapeHtml(subjectOf(m))}</dd><dt>Received</dt><dd>${time(m.receivedAt)}</dd><dt>Sent as</dt><dd>${escapeHtml(m.provider)}</dd>${headers}</dl>
${link}${html}${text}${html || text ? '' : '<p class="note">This mail has no body.</p>'}`,
  )
}

/** `/signed-in`: where the demo tenant's app would take over after the invite was accepted. */
export function signedInPage(query: URLSearchParams): string {
  const params = [...query].map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')
  return page(
    "You're in",
    `<h1>You're in</h1>
<p>The invite was accepted. This page stands in for the tenant's app: a real app would take over here and sign the
person in.</p>
${params ? `<h2>Query parameters of the redirect</h2><dl>${params}</dl>` : '<p class="note">The redirect carried no query parameters.</p>'}
<p><a href="/">Back to the received mail</a></p>`,
  )
}

/** Any other address a browser asks for. */
export function notFoundPage(what: string): string {
  return page('Not found: mail sink', `<h1>Not found</h1><p>${escapeHtml(what)}</p><p><a href="/">All mail</a></p>`)
}
