/** The invite email, text and HTML: it names the app, the tenant and the person, and carries the link. */
import type { MailMessage } from './mail.ts'

export interface InviteEmailInput {
  to: string
  /** How to greet the person: display name, given name or userName. */
  person: string
  appName: string
  tenantName: string
  link: string
  expiresAt: Date
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** One line of IdP-supplied text: line breaks and other control characters become spaces, runs of spaces one. */
export function oneLine(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim()
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10)
}

/** Renders the invite email; names are made one line, and escaped in the HTML. */
export function renderInviteEmail(raw: InviteEmailInput): MailMessage {
  // Names come from the IdP and the tenant: no line break survives into the Subject header or the text.
  const input = {
    ...raw,
    person: oneLine(raw.person) || 'there',
    appName: oneLine(raw.appName),
    tenantName: oneLine(raw.tenantName),
  }
  const subject = `${input.tenantName} invited you to ${input.appName}`
  const text = [
    `Hello ${input.person},`,
    '',
    `${input.tenantName} has given you access to ${input.appName}.`,
    'Open this link to accept the invitation and sign in:',
    '',
    input.link,
    '',
    `The link works until ${day(input.expiresAt)} and only for you; please do not forward it.`,
    'If you did not expect this email, you can ignore it.',
  ].join('\n')
  const e = escapeHtml
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(subject)}</title></head>
<body style="font-family:system-ui,sans-serif;color:#1a1a1a;background:#ffffff;line-height:1.5">
<p>Hello ${e(input.person)},</p>
<p>${e(input.tenantName)} has given you access to <strong>${e(input.appName)}</strong>.</p>
<p><a href="${e(input.link)}" style="display:inline-block;padding:10px 18px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:6px">Accept the invitation</a></p>
<p>Or paste this link into your browser: <br><a href="${e(input.link)}">${e(input.link)}</a></p>
<p style="color:#4a4a4a">The link works until ${day(input.expiresAt)} and only for you; please do not forward it. If you did not expect this email, you can ignore it.</p>
</body></html>`
  return { to: input.to, subject, text, html }
}
