/**
 * The mail sink's pages in headless Chromium (test/node/chromium.ts): the empty list, a mail sent
 * through the Resend endpoint listed and opened, its HTML body in a sandboxed frame whose script never
 * runs, its first link followed to `/signed-in`; axe-core finds nothing serious at 1280 and 390 px.
 * Without a Chromium these are skipped, loudly; test/node/mail-sink.test.ts checks the HTML over HTTP.
 */
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMailSink, type MailSink } from '../../src/dev/mail-sink.ts'
import {
  CHROMIUM,
  cspViolations,
  launchChromium,
  expectAccessible,
  renderedFonts,
  warnWithoutChromium,
} from './chromium.ts'

warnWithoutChromium('the mail sink browser tests', 'its pages are only checked by test/node/mail-sink.test.ts')

let sink: MailSink
beforeAll(async () => {
  sink = await startMailSink({ port: 0, log: false })
})
afterAll(() => sink?.close())

/** Sends one mail through the sink's Resend endpoint, as the Worker does. */
async function sendMail(mail: Record<string, unknown>) {
  const res = await fetch(`${sink.url}/emails`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer dev-key' },
    body: JSON.stringify({ from: 'Demo App <noreply@demo.example>', ...mail }),
  })
  expect(res.status).toBe(200)
}

describe.skipIf(!CHROMIUM)('the mail sink in headless Chromium', () => {
  let browser: BrowserContext
  let close: () => Promise<void>

  beforeAll(async () => {
    ;({ context: browser, close } = await launchChromium())
  }, 60_000)
  afterAll(async () => {
    await close?.()
  })

  it('an empty sink says there is no mail yet and how it gets there', async () => {
    sink.messages.length = 0
    const page = await browser.newPage()
    await page.goto(`${sink.url}/`)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('No mail yet')
    expect(await page.getByText('provision a user over SCIM').isVisible()).toBe(true)
    expect(await page.getByText(`${sink.url}/emails`).isVisible()).toBe(true)
    expect((await renderedFonts(page, 'h1')).join()).not.toMatch(/(?<!sans[ -]?)serif|times/i)
    await expectAccessible(page)
    await page.close()
  })

  it('lists mail newest first; a click opens one with its headers, its frame and its first link to /signed-in', async () => {
    sink.messages.length = 0
    await sendMail({ to: 'old@acme.example', subject: 'An older mail', text: 'nothing here' })
    const signedIn = `${sink.url}/signed-in?from=invite`
    await sendMail({
      to: 'grace@acme.example',
      subject: 'Join Demo App at <Acme>',
      text: `Accept your invitation: ${signedIn}`,
      // The script must not run: the frame is sandboxed without allow-scripts, under the page's policy.
      html: `<p id="greeting">Hello Grace, accept your invitation.</p><script>parent.document.title = 'ran'; document.body.textContent = 'ran'</script><a href="${signedIn}">Accept</a>`,
    })

    const page = await browser.newPage()
    const csp = cspViolations(page)
    await page.goto(`${sink.url}/`)
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Received mail')
    const rows = page.locator('tbody tr')
    expect(await rows.count()).toBe(2)
    expect(await rows.nth(0).innerText()).toMatch(
      /^grace@acme\.example\tJoin Demo App at <Acme>\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    )
    expect(await rows.nth(1).innerText()).toContain('old@acme.example\tAn older mail')
    await expectAccessible(page)

    const id = sink.messages[1]!.id
    await Promise.all([
      page.waitForURL(`${sink.url}/messages/${id}`),
      page.getByRole('link', { name: 'Join Demo App at <Acme>' }).click(),
    ])
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Join Demo App at <Acme>')
    const headers = await page.locator('dl').innerText()
    expect(headers).toContain('Demo App <noreply@demo.example>')
    expect(headers).toContain('grace@acme.example')
    const first = page.getByRole('link', { name: signedIn })
    expect(await first.isVisible()).toBe(true)
    expect(await first.getAttribute('href')).toBe(signedIn)
    // The HTML body is drawn in its frame, and its script did nothing.
    const frame = page.frameLocator('iframe[title="The HTML body of this mail"]')
    expect(await frame.locator('#greeting').textContent()).toBe('Hello Grace, accept your invitation.')
    expect(await page.title()).toBe('Join Demo App at <Acme>: mail sink')
    expect(await page.locator('pre').textContent()).toBe(`Accept your invitation: ${signedIn}`)
    await expectAccessible(page)
    // The inline style and the srcdoc frame work under the page's policy: nothing was reported blocked.
    expect(csp).toEqual([])

    await Promise.all([page.waitForURL(signedIn), first.click()])
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe("You're in")
    expect(await page.getByText('The invite was accepted.').isVisible()).toBe(true)
    expect(await page.locator('dl').innerText()).toBe('from\ninvite')
    await expectAccessible(page)
    await page.goto(`${sink.url}/signed-in`)
    expect(await page.getByText('The redirect carried no query parameters.').isVisible()).toBe(true)
    await page.close()
  })
})
