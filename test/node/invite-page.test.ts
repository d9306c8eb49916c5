/**
 * The invite page in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download), against the Worker served over HTTP (test/node/worker-server.ts), with mail going
 * through the real queue into a mail sink. Without a Chromium the browser tests are skipped, loudly.
 * Links are `/invite#{token}`: the shell's script takes the token out of the address bar and posts it
 * to /invite/status, whose page has the accept button. Also: `npm run tenant -- reinvite` against that
 * running Worker.
 */
import { createServer, type Server } from 'node:http'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/tenants/cli.ts'
import {
  CHROMIUM,
  contrast,
  cspViolations,
  launchChromium,
  expectAccessible,
  renderedFonts,
  warnWithoutChromium,
  type Web,
} from './chromium.ts'
import { APP_API_KEY, eventually, startTestWorker, type TestWorker } from './worker-server.ts'

warnWithoutChromium('the invite page browser tests', 'the page is only checked by test/routes/invite-page.test.ts')

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'

let worker: TestWorker
let app: Server
let appUrl: string

let acme: { id: string; basic: string }
let hasty: { id: string; basic: string }
let resend: { id: string; basic: string }
let brand: { id: string; basic: string }

/** The brand tenant's logo: answered inside the browser by `context.route`, never fetched from a network. */
const LOGO_URL = 'https://logo.example/brand.png'
const PNG_1PX = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)

beforeAll(async () => {
  // Stands in for the tenant's app: where the accept button leads.
  app = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' })
    res.end('<!doctype html><html lang="en"><title>App</title><h1>Welcome to the app</h1></html>')
  })
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
  const address = app.address()
  appUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/welcome`
  worker = await startTestWorker([
    { appUrl, name: 'Acme Corp' },
    // inviteTtlDays 0: the link expires the moment the mail is sent.
    { appUrl, name: 'Hasty Inc', settings: { inviteTtlDays: 0 } },
    { appUrl, name: 'Resend Ltd' },
    { appUrl, name: 'Brand Co', settings: { brandColor: '#ffcc00', logoUrl: LOGO_URL } },
  ])
  ;[acme, hasty, resend, brand] = worker.tenants as [typeof acme, typeof hasty, typeof resend, typeof brand]
}, 180_000)

afterAll(async () => {
  await worker?.close()
  await new Promise((r) => (app ? app.close(r) : r(null)))
})

/** Provisions a user over SCIM and waits for the invite mail; returns its link. */
async function provision(
  tenant: { id: string; basic: string },
  email: string,
  name = 'Grace Hopper',
): Promise<{ id: string; link: string }> {
  const [givenName, familyName] = name.split(' ')
  const res = await fetch(`${worker.url}/scim/v2/${tenant.id}/Users`, {
    method: 'POST',
    headers: { authorization: tenant.basic, 'content-type': 'application/scim+json' },
    body: JSON.stringify({
      schemas: [USER],
      userName: email,
      name: { givenName, familyName },
      emails: [{ value: email, primary: true }],
    }),
  })
  expect(res.status, await res.clone().text()).toBe(201)
  const { id } = (await res.json()) as { id: string }
  const link = await eventually(
    () => worker.sink.messages.filter((m) => m.to === email).at(-1)?.link,
    `the invite mail to ${email}`,
  )
  return { id, link: fragmentLink(link) }
}

/**
 * A link as the page expects it, `/invite#{token}`. While the queue consumer still sends the older
 * `/invite/{token}`, that link is rewritten here so the page's own flow is what is tested.
 */
function fragmentLink(link: string): string {
  const url = new URL(link)
  const old = /^\/invite\/([^/]+)$/.exec(url.pathname)
  return old ? `${url.origin}/invite#${old[1]}` : link
}

const tokenOf = (link: string) => decodeURIComponent(new URL(link).hash.slice(1))

/** Opens a link in the browser; returns the answer of /invite/status, the page the shell posts to. */
async function open(page: Page, link: string) {
  const [status] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/invite/status'),
    page.goto(link),
  ])
  await page.waitForURL(`${worker.url}/invite/status`)
  await page.waitForLoadState()
  return status
}

/** The status a link answers with over plain HTTP (the token posted as the shell's script does). */
async function linkStatus(link: string): Promise<number> {
  const res = await fetch(`${worker.url}/invite/status`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: tokenOf(link) }).toString(),
  })
  return res.status
}

async function access(tenantId: string, email: string) {
  const res = await fetch(`${worker.url}/app/v1/${tenantId}/access?email=${encodeURIComponent(email)}`, {
    headers: { authorization: `Bearer ${APP_API_KEY}` },
  })
  return res.json()
}

/** The page's style element text, what the body is set in, and what Chromium really drew the heading with. */
async function typography(page: Page) {
  const css = await page.evaluate(() => {
    const w = globalThis as unknown as Web
    const style = w.document.querySelector('style') as { textContent: string } | null
    return { style: style?.textContent ?? '', body: w.getComputedStyle(w.document.body).fontFamily }
  })
  return { ...css, drawn: await renderedFonts(page, 'h1') }
}

/** Checks the page's type: the style sheet arrived unescaped and the text is drawn in a sans-serif face. */
async function expectSansSerif(page: Page) {
  const { style, body, drawn } = await typography(page)
  expect(style).toContain('"Segoe UI"')
  expect(style).not.toContain('&quot;')
  expect(body).toContain('system-ui')
  expect(body).toMatch(/sans-serif$/)
  // An escaped sheet leaves the browser's default serif face (Times or its Linux stand-ins).
  expect(drawn.length).toBeGreaterThan(0)
  for (const family of drawn) expect(family).not.toMatch(/times|tinos|nimbus roman|(?<!sans[ -]?)serif/i)
}

/** The accept button's colours against the page, and the body text's. */
async function colours(page: Page) {
  return page.getByRole('button', { name: 'Accept invitation' }).evaluate((el) => {
    const w = globalThis as unknown as Web
    const s = w.getComputedStyle(el)
    return {
      fg: s.color,
      bg: s.backgroundColor,
      body: w.getComputedStyle(w.document.body).color,
      page: w.getComputedStyle(w.document.querySelector('main')).backgroundColor,
    }
  })
}

describe.skipIf(!CHROMIUM)('the invite page in headless Chromium', () => {
  let browser: BrowserContext
  let close: () => Promise<void>

  beforeAll(async () => {
    ;({ context: browser, close } = await launchChromium())
    await browser.route(`${LOGO_URL}*`, (route) =>
      route.fulfill({ status: 200, contentType: 'image/png', body: PNG_1PX }),
    )
  }, 60_000)

  afterAll(async () => {
    await close?.()
  })

  it('renders an accessible page naming app, tenant and person; its one button joins and lands on the app', async () => {
    const tenant = acme
    const email = 'grace@acme.example'
    const before = Date.now()
    const { id, link } = await provision(tenant, email)
    const after = Date.now()
    expect(link.startsWith(`${worker.url}/invite#`)).toBe(true)
    const token = tokenOf(link)

    const page = await browser.newPage()
    const csp = cspViolations(page)
    const response = await open(page, link)
    expect(response.status()).toBe(200)
    // The token left the address bar, and the shell's history entry has no fragment either.
    expect(page.url()).toBe(`${worker.url}/invite/status`)
    expect(page.url()).not.toContain(token)
    expect(await page.evaluate(() => (globalThis as unknown as Web).document.compatMode)).toBe('CSS1Compat')
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    expect(await page.title()).toBe('Join Demo App at Acme Corp')
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Join Demo App at Acme Corp')
    const text = await page.locator('main').innerText()
    expect(text).toContain('Grace Hopper')
    expect(text).toContain(email)
    expect(text).toContain('Acme Corp')

    // The expiry: the link works for 7 days from sending, said in UTC.
    const expiry = page.locator('dd time')
    expect(await expiry.isVisible()).toBe(true)
    const expiresAt = Date.parse((await expiry.getAttribute('datetime'))!)
    expect(expiresAt).toBeGreaterThanOrEqual(before + 7 * 86_400_000 - 1000)
    expect(expiresAt).toBeLessThanOrEqual(after + 7 * 86_400_000 + 1000)
    const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })
    const at = new Date(expiresAt)
    expect(await expiry.textContent()).toBe(`${day.format(at)} at ${at.toISOString().slice(11, 16)} UTC`)
    // Where the button leads: the app's host.
    const where = page.getByText(`Accepting takes you to ${new URL(appUrl).host}.`)
    expect(await where.isVisible()).toBe(true)

    await expectSansSerif(page)
    const buttons = page.getByRole('button')
    expect(await buttons.count()).toBe(1)
    const c = await colours(page)
    expect(c.bg).toBe('rgb(29, 78, 216)')
    expect(c.fg).toBe('rgb(255, 255, 255)')
    expect(contrast(c.fg, c.bg)).toBeGreaterThanOrEqual(4.5)
    expect(contrast(c.body, c.page)).toBeGreaterThanOrEqual(4.5)
    expect(await page.locator('img').count()).toBe(0)
    await expectAccessible(page)
    expect(csp).toEqual([])

    // Reachable from the keyboard.
    const accept = page.getByRole('button', { name: 'Accept invitation' })
    await accept.focus()
    expect(await page.evaluate(() => (globalThis as unknown as Web).document.activeElement?.textContent)).toBe(
      'Accept invitation',
    )

    await Promise.all([page.waitForURL(appUrl), accept.click()])
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Welcome to the app')
    expect(await access(tenant.id, email)).toEqual({ allowed: true, state: 'joined', userId: id })

    // Back to the link: it is used now, and says so with a way to the app.
    const again = await open(page, link)
    expect(again.status()).toBe(410)
    expect(page.url()).not.toContain(token)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'This invite has already been used',
    )
    expect(await page.getByRole('button').count()).toBe(0)
    await expectAccessible(page)
    await page.close()
  })

  it("shows the tenant's logo and its brand colour on the button, with black text on the light colour", async () => {
    const { link } = await provision(brand, 'bea@brand.example', 'Bea Brand')
    const page = await browser.newPage()
    const csp = cspViolations(page)
    expect((await open(page, link)).status()).toBe(200)
    const logo = page.getByRole('img', { name: 'Brand Co' })
    expect(await logo.isVisible()).toBe(true)
    expect(await logo.getAttribute('src')).toBe(LOGO_URL)
    // Loaded under the page's policy (img-src https:), from the route above.
    const loaded = await logo.evaluate((el) => {
      const img = el as unknown as { complete: boolean; naturalWidth: number }
      return img.complete && img.naturalWidth > 0
    })
    expect(loaded).toBe(true)
    const c = await colours(page)
    expect(c.bg).toBe('rgb(255, 204, 0)')
    expect(c.fg).toBe('rgb(0, 0, 0)')
    expect(contrast(c.fg, c.bg)).toBeGreaterThanOrEqual(4.5)
    await expectSansSerif(page)
    await expectAccessible(page)
    expect(csp).toEqual([])
    await page.close()
  })

  it('shows an expired link its own accessible page, with status 410 and no button', async () => {
    const tenant = hasty
    const { link } = await provision(tenant, 'late@hasty.example', 'Lou Late')
    const page = await browser.newPage()
    const response = await open(page, link)
    expect(response.status()).toBe(410)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This invite has expired')
    expect(await page.getByRole('button').count()).toBe(0)
    expect(await page.locator('body').innerText()).not.toMatch(/Error|stack|\.ts:\d+/)
    await expectSansSerif(page)
    await expectAccessible(page)
    await page.close()
  })
})

describe('npm run tenant -- reinvite', () => {
  it('asks the running Worker for a fresh invite: a second mail, and the first link is withdrawn', async () => {
    const tenant = resend
    const email = 'again@resend.example'
    const { link: first } = await provision(tenant, email, 'Re Send')
    const out: string[] = []
    const err: string[] = []
    const io = {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
      env: { APP_API_KEY },
    }
    const code = await main(['reinvite', tenant.id, email, '--public-url', worker.url], io)
    expect(err.join('')).toBe('')
    expect(code).toBe(0)
    expect(out.join('')).toMatch(/Queued a fresh invite for again@resend\.example/)
    const second = await eventually(() => {
      const mails = worker.sink.messages.filter((m) => m.to === email)
      return mails.length === 2 ? mails[1]!.link : undefined
    }, 'the second invite mail')
    expect(second).not.toBe(first)
    expect(await linkStatus(first!)).toBe(410)
    expect(await linkStatus(fragmentLink(second!))).toBe(200)

    // A wrong key and a joined person are one-line errors.
    const bad = await main(['reinvite', tenant.id, email, '--public-url', worker.url], {
      ...io,
      env: { APP_API_KEY: 'wrong' },
    })
    expect(bad).toBe(1)
    expect(err.join('')).toMatch(/rejected APP_API_KEY/)
  })

  it('says so when no Worker answers', async () => {
    const err: string[] = []
    const code = await main(['reinvite', 'acme', 'x@y', '--public-url', 'http://127.0.0.1:9'], {
      stdout: () => {},
      stderr: (t) => void err.push(t),
      env: { APP_API_KEY: 'k' },
    })
    expect(code).toBe(1)
    expect(err.join('')).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9.*npm start/)
  })
})
