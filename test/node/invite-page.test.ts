/**
 * The invite page in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download), against the Worker served over HTTP (test/node/worker-server.ts), with mail going
 * through the real queue into a mail sink. Without a Chromium the browser tests are skipped, loudly.
 * Links are `/invite#{token}`: the shell's script takes the token out of the address bar and posts it
 * to /invite/status, whose page has the accept button. Also: `npm run tenant -- reinvite` against that
 * running Worker.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/tenants/cli.ts'
import { APP_API_KEY, eventually, startTestWorker, type TestWorker } from './worker-server.ts'

// CHROMIUM_PATH names the binary (an empty or missing path means none); else Debian's.
const candidates =
  process.env.CHROMIUM_PATH !== undefined
    ? [process.env.CHROMIUM_PATH]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser']
const CHROMIUM = candidates.find((p) => p && existsSync(p))
if (!CHROMIUM) {
  console.warn(
    '\n⚠️  SKIPPING the invite page browser tests: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH).\n' +
      '   .ci/run installs it in CI; without it the page is only checked by test/routes/invite-page.test.ts.\n',
  )
}

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'

let worker: TestWorker
let app: Server
let appUrl: string

let acme: { id: string; basic: string }
let hasty: { id: string; basic: string }
let resend: { id: string; basic: string }

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
  ])
  ;[acme, hasty, resend] = worker.tenants as [typeof acme, typeof hasty, typeof resend]
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

/** WCAG relative luminance contrast of two CSS rgb() colours. */
function contrast(a: string, b: string): number {
  const lum = (css: string) => {
    const [r, g, bl] = css
      .match(/\d+(\.\d+)?/g)!
      .slice(0, 3)
      .map(Number)
      .map((v) => {
        const c = v / 255
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
      })
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!
  }
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x)
  return (hi! + 0.05) / (lo! + 0.05)
}

describe.skipIf(!CHROMIUM)('the invite page in headless Chromium', () => {
  let browser: BrowserContext
  let profile: string

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'scim-edge-chromium-'))
    // A fresh profile each run; playwright passes it as --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('renders an accessible page naming app, tenant and person; its one button joins and lands on the app', async () => {
    const tenant = acme
    const email = 'grace@acme.example'
    const { id, link } = await provision(tenant, email)
    expect(link.startsWith(`${worker.url}/invite#`)).toBe(true)
    const token = tokenOf(link)

    const page = await browser.newPage()
    const response = await open(page, link)
    expect(response.status()).toBe(200)
    // The token left the address bar, and the shell's history entry has no fragment either.
    expect(page.url()).toBe(`${worker.url}/invite/status`)
    expect(page.url()).not.toContain(token)
    expect(await page.evaluate(() => document.compatMode)).toBe('CSS1Compat')
    expect(await page.getAttribute('html', 'lang')).toBe('en')
    expect(await page.title()).toBe('Join Demo App at Acme Corp')
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Join Demo App at Acme Corp')
    const text = await page.locator('main').innerText()
    expect(text).toContain('Grace Hopper')
    expect(text).toContain(email)
    expect(text).toContain('Acme Corp')

    const buttons = page.getByRole('button')
    expect(await buttons.count()).toBe(1)
    const accept = page.getByRole('button', { name: 'Accept invitation' })
    const colours = await accept.evaluate((el) => {
      const s = getComputedStyle(el)
      return {
        fg: s.color,
        bg: s.backgroundColor,
        body: getComputedStyle(document.body).color,
        page: getComputedStyle(document.querySelector('main')!).backgroundColor,
      }
    })
    expect(contrast(colours.fg, colours.bg)).toBeGreaterThanOrEqual(4.5)
    expect(contrast(colours.body, colours.page)).toBeGreaterThanOrEqual(4.5)
    // Reachable from the keyboard.
    await accept.focus()
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Accept invitation')

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
    await page.close()
  })

  it('shows an expired link its own page, with status 410 and no button', async () => {
    const tenant = hasty
    const { link } = await provision(tenant, 'late@hasty.example', 'Lou Late')
    const page = await browser.newPage()
    const response = await open(page, link)
    expect(response.status()).toBe(410)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This invite has expired')
    expect(await page.getByRole('button').count()).toBe(0)
    expect(await page.locator('body').innerText()).not.toMatch(/Error|stack|\.ts:\d+/)
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
