/**
 * The invite page: links `/invite#{token}`, the shell at GET /invite, the token posted to
 * POST /invite/status and POST /invite/accept, old links `/invite/{token}` moved into the fragment,
 * and every dead link with its status.
 */
import { SELF, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { getUser } from '../../src/db/users.ts'
import { reinvite } from '../../src/invites/reinvite.ts'
import { deleteScimUser, patchScimUser } from '../../src/provisioning/users.ts'
import { styleSheet } from '../../src/routes/invite-layout.tsx'
import { tenantDocumentKey } from '../../src/tenants/document.ts'
import { PATCH, consume, consumerDeps, newSink, userWithInvite } from '../invites/helpers.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'
import { scopeOf } from '../helpers/scope.ts'

/**
 * The token of an invite link: from the fragment (`/invite#{token}`), or from the path of a link in
 * the older shape (`/invite/{token}`) that a consumer not yet updated still sends.
 */
function linkToken(link: string): string {
  const url = new URL(link)
  if (url.pathname === '/invite' && url.hash.length > 1) return decodeURIComponent(url.hash.slice(1))
  const old = /^\/invite\/([^/]+)$/.exec(url.pathname)
  if (old) return decodeURIComponent(old[1]!)
  throw new Error(`not an invite link: ${link}`)
}

/** A user whose invite mail went out; returns the link from the mail and its token. */
async function invited(tenant: TestTenant, userName: string, sentAt = new Date(), extra: Record<string, unknown> = {}) {
  const sink = await newSink()
  const { user, invite } = await userWithInvite(tenant, userName, extra)
  await consume(consumerDeps(sink.url, { now: () => sentAt }), [{ v: 2, tenantKey: tenant.key, inviteId: invite.id }])
  const [mail] = await sink.messages()
  return { user, invite, link: mail!.link!, token: linkToken(mail!.link!) }
}

/** POSTs the token as the shell's form does (or as JSON), each from its own address (the page is rate limited per address). */
function post(path: 'status' | 'accept', token: string, as: 'form' | 'json' = 'form') {
  return SELF.fetch(`${env.PUBLIC_URL}/invite/${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': as === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
      'cf-connecting-ip': crypto.randomUUID(),
    },
    body: as === 'form' ? new URLSearchParams({ token }).toString() : JSON.stringify({ token }),
  })
}
const status = (token: string, as?: 'form' | 'json') => post('status', token, as)
const accept = (token: string, as?: 'form' | 'json') => post('accept', token, as)

async function expectPage(res: Response, code: number, heading: string | RegExp) {
  const text = await res.text()
  expect(res.status, text).toBe(code)
  expect(res.headers.get('content-type')).toContain('text/html')
  expect(res.headers.get('cache-control')).toBe('no-store')
  expect(res.headers.get('referrer-policy')).toBe('no-referrer')
  expect(text.startsWith('<!doctype html><html lang="en">')).toBe(true)
  expect(text).toMatch(heading)
  expect(text).not.toMatch(/at .*\.ts:\d+|Error:|stack/)
  return text
}

describe('GET /invite', () => {
  it('serves the same shell for every link: a script that posts the fragment, and a note without JavaScript', async () => {
    const res = await SELF.fetch(`${env.PUBLIC_URL}/invite`)
    const html = await expectPage(res, 200, '<h1>Opening your invitation…</h1>')
    expect(html).toContain('<form id="invite-open" method="post" action="/invite/status">')
    expect(html).toContain('<input type="hidden" name="token" value=""/>')
    expect(html).toMatch(/<noscript><p>This page needs JavaScript to open your invitation\./)
    expect(html).toContain('location.hash')
    expect(html).toContain('history.replaceState')
    expect(html.match(/<button/g)).toBeNull()
  })
})

describe('POST /invite/status', () => {
  it('shows the app, the tenant and the person, with one button that posts the token to /invite/accept', async () => {
    const tenant = await newTenant({ name: 'Acme <Corp>' })
    const { link, token } = await invited(tenant, 'ada@example.com')
    expect(link).toContain(token)
    const html = await expectPage(await status(token), 200, /<h1>Join Demo App at Acme &lt;Corp&gt;<\/h1>/)
    expect(html).toContain('Ada Lovelace')
    expect(html).toContain('ada@example.com')
    expect(html.match(/<button/g)).toHaveLength(1)
    expect(html).toContain('<form method="post" action="/invite/accept">')
    expect(html).toContain(`<input type="hidden" name="token" value="${token}"/>`)
    expect(html).toContain('<button type="submit">Accept invitation</button>')
  })

  it('takes the token as JSON too', async () => {
    const tenant = await newTenant()
    const { token } = await invited(tenant, 'json@example.com')
    await expectPage(await status(token, 'json'), 200, /<h1>Join Demo App at /)
  })

  it('answers 404 for unknown, malformed, missing and oversized tokens', async () => {
    await expectPage(await status('A'.repeat(43)), 404, 'This invite link is not valid')
    await expectPage(await status('short'), 404, 'This invite link is not valid')
    await expectPage(await status(''), 404, 'This invite link is not valid')
    await expectPage(await status('A'.repeat(5000)), 404, 'This invite link is not valid')
    await expectPage(
      await SELF.fetch(`${env.PUBLIC_URL}/invite/status`, {
        method: 'POST',
        body: '{not json',
        headers: { 'content-type': 'application/json' },
      }),
      404,
      'This invite link is not valid',
    )
    await expectPage(await accept('A'.repeat(43)), 404, 'This invite link is not valid')
  })

  it('answers 410 for an expired link, and accepting it changes nothing', async () => {
    const tenant = await newTenant()
    const { user, token } = await invited(tenant, 'late@example.com', new Date(Date.now() - 8 * 86_400_000))
    await expectPage(await status(token), 410, 'This invite has expired')
    await expectPage(await accept(token), 410, 'This invite has expired')
    expect((await getUser(scopeOf(tenant), user.id))!.state).toBe('invited')
  })

  it('answers 410 for a link replaced by a reinvite', async () => {
    const tenant = await newTenant()
    const { token } = await invited(tenant, 'again@example.com')
    await reinvite(scopeOf(tenant, { outbox: { announce: async () => {} } }), { userName: 'again@example.com' })
    await expectPage(await status(token), 410, 'This invite was withdrawn')
  })

  it('answers 403 once the person is deactivated and 410 once deleted', async () => {
    const tenant = await newTenant()
    const off = await invited(tenant, 'off@example.com')
    await patchScimUser(scopeOf(tenant), off.user.id, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    })
    await expectPage(await status(off.token), 403, 'Your access has been turned off')
    const gone = await invited(tenant, 'gone@example.com')
    await deleteScimUser(scopeOf(tenant), gone.user.id)
    await expectPage(await status(gone.token), 410, 'This account no longer exists')
    await expectPage(await accept(gone.token), 410, 'This account no longer exists')
  })

  it('answers 403 while the tenant is disabled', async () => {
    const tenant = await newTenant()
    const { token } = await invited(tenant, 'paused@example.com')
    await env.TENANTS.put(tenantDocumentKey(tenant.id), JSON.stringify({ ...tenant.doc, status: 'disabled' }))
    await expectPage(await status(token), 403, 'This organisation is not available')
  })
})

/** A tenant whose document carries `settings` (the page reads it from KV). */
async function tenantWith(settings: Record<string, unknown>, options: { name?: string; appUrl?: string } = {}) {
  const tenant = await newTenant(options)
  tenant.doc.settings = { ...tenant.doc.settings, ...settings }
  await env.TENANTS.put(tenantDocumentKey(tenant.id), JSON.stringify(tenant.doc))
  return tenant
}

/** The text of the page's one style element. */
function styleText(html: string): string {
  const styles = [...html.matchAll(/<style>([^]*?)<\/style>/g)]
  expect(styles).toHaveLength(1)
  return styles[0]![1]!
}

describe("the status page: style, expiry, where Accept leads, the tenant's logo and colour", () => {
  it('sends the style sheet unescaped, says when the invite expires and names the host Accept leads to', async () => {
    const tenant = await newTenant({ appUrl: 'https://app.example.com/start?from=invite' })
    // Sent on 4 March 2099 at 05:06:07 UTC: the link works 7 days, until 11 March.
    const { token } = await invited(tenant, 'when@example.com', new Date('2099-03-04T05:06:07Z'))
    const res = await status(token)
    const html = await expectPage(res, 200, /<h1>Join Demo App at /)
    const css = styleText(html)
    expect(css).toContain('font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif')
    expect(html).not.toContain('&quot;Segoe UI&quot;')
    expect(css).toContain('--button:#1d4ed8')
    expect(html).toContain(
      '<dt>Invite expires</dt><dd><time datetime="2099-03-11T05:06:07.000Z">11 March 2099 at 05:06 UTC</time></dd>',
    )
    expect(html).toContain('<p class="where">Accepting takes you to <strong>app.example.com</strong>.</p>')
    expect(html).not.toContain('<img')
    expect(res.headers.get('content-security-policy')).toContain("img-src 'none'")
    expect(res.headers.get('content-security-policy')).toContain("style-src 'unsafe-inline'")
  })

  it("shows the tenant's https logo with its name as alt text, and its colour on the button with black or white text", async () => {
    const tenant = await tenantWith(
      { logoUrl: 'https://cdn.example.com/acme logo.png', brandColor: '#FFCC00' },
      { name: 'Acme "Yellow" <Co>' },
    )
    const { token } = await invited(tenant, 'brand@example.com')
    const res = await status(token)
    const html = await expectPage(res, 200, /<h1>Join Demo App at Acme &quot;Yellow&quot; &lt;Co&gt;<\/h1>/)
    expect(html).toContain(
      '<img class="logo" src="https://cdn.example.com/acme%20logo.png" alt="Acme &quot;Yellow&quot; &lt;Co&gt;"/>',
    )
    // A light colour gets black text; the hover is lighter still.
    expect(styleText(html)).toContain(':root{--button:#ffcc00;--button-hover:#ffd633;--button-text:#000}')
    expect(res.headers.get('content-security-policy')).toContain('img-src https:;')

    const dark = await tenantWith({ brandColor: '#14532d' })
    const darkHtml = await expectPage(await status((await invited(dark, 'dark@example.com')).token), 200, /<h1>/)
    expect(styleText(darkHtml)).toContain(':root{--button:#14532d;--button-hover:#114726;--button-text:#fff}')
  })

  it('ignores a logo that is not https and a colour that is not #rrggbb: no setting adds markup or CSS', async () => {
    const hostile = [
      { logoUrl: 'http://cdn.example.com/logo.png', brandColor: 'red' },
      { logoUrl: 'javascript:alert(1)', brandColor: '#fff' },
      { logoUrl: '"><script>alert(1)</script>', brandColor: '#123456;}</style><script>alert(1)</script>' },
      { logoUrl: 'https://user:pw@cdn.example.com/logo.png', brandColor: '#12345g' },
      { logoUrl: 42, brandColor: ['#123456'] },
    ]
    for (const [i, settings] of hostile.entries()) {
      const tenant = await tenantWith(settings)
      const { token } = await invited(tenant, `hostile${i}@example.com`)
      const res = await status(token)
      const html = await expectPage(res, 200, /<h1>Join Demo App at /)
      expect(html, JSON.stringify(settings)).not.toContain('<img')
      expect(html).not.toContain('<script')
      expect(html).not.toContain('alert(1)')
      expect(styleText(html)).not.toMatch(/:root\{--button:(?!#1d4ed8)/)
      expect(res.headers.get('content-security-policy')).toContain("img-src 'none'")
    }
  })

  it('the style sheet refuses any text that could close its element', () => {
    const button = { background: '#000</style><script>', hover: '#000', text: '#fff' }
    expect(() => styleSheet({ logoAlt: 'x', button })).toThrow('must not contain "<"')
    expect(styleSheet()).not.toContain('<')
  })

  it('dead-link pages get the same unescaped style sheet', async () => {
    const html = await expectPage(await status('A'.repeat(43)), 404, 'This invite link is not valid')
    expect(styleText(html)).toContain('"Segoe UI"')
    expect(html).not.toContain('&quot;')
  })
})

describe('POST /invite/accept', () => {
  it('marks the person joined and redirects to the app with 303; accepting twice is harmless', async () => {
    const tenant = await newTenant({ appUrl: 'https://acme.example.com/start' })
    const { user, token } = await invited(tenant, 'yes@example.com')
    const first = await accept(token)
    expect(first.status).toBe(303)
    expect(first.headers.get('location')).toBe('https://acme.example.com/start')
    expect(first.headers.get('cache-control')).toBe('no-store')
    expect((await getUser(scopeOf(tenant), user.id))!.state).toBe('joined')

    const again = await accept(token, 'json')
    expect(again.status).toBe(303)
    expect(again.headers.get('location')).toBe('https://acme.example.com/start')
    const html = await expectPage(await status(token), 410, 'This invite has already been used')
    expect(html).toContain('<a href="https://acme.example.com/start">Go to the app</a>')
  })

  it('two accepts at once both land on the app and join once', async () => {
    const tenant = await newTenant()
    const { user, token } = await invited(tenant, 'race@example.com')
    const [a, b] = await Promise.all([accept(token), accept(token)])
    expect([a.status, b.status]).toEqual([303, 303])
    const record = (await getUser(scopeOf(tenant), user.id))!
    expect(record.state).toBe('joined')
  })
})

describe('old links /invite/{token}', () => {
  it('move the token into the fragment with a 303, and neither GET nor POST accepts anything', async () => {
    const tenant = await newTenant()
    const { user, token } = await invited(tenant, 'old@example.com')
    for (const method of ['GET', 'POST']) {
      const res = await SELF.fetch(`${env.PUBLIC_URL}/invite/${token}`, { method, redirect: 'manual' })
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toBe(`/invite#${token}`)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    }
    expect((await getUser(scopeOf(tenant), user.id))!.state).toBe('invited')
    // What follows the redirect is the shell, which knows no token.
    await expectPage(await SELF.fetch(`${env.PUBLIC_URL}/invite/${token}`), 200, 'Opening your invitation…')
  })

  it('a GET of /invite/status or /invite/accept (a reload by address) starts over at the shell', async () => {
    for (const path of ['status', 'accept']) {
      const res = await SELF.fetch(`${env.PUBLIC_URL}/invite/${path}`, { redirect: 'manual' })
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toBe('/invite')
    }
  })
})
