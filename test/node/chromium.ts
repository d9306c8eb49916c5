/**
 * Debian's Chromium for the node-side browser tests, driven by playwright-core (no browser download):
 * finding it (tests skip loudly without one), launching it with flags that work on a machine without a
 * network, running axe-core in a page, and reading what the browser rendered. Nothing leaves 127.0.0.1:
 * a page's requests elsewhere are answered by `context.route` or fail.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { expect } from 'vitest'

// CHROMIUM_PATH names the binary (an empty or missing path means none); else Debian's.
const candidates =
  process.env.CHROMIUM_PATH !== undefined
    ? [process.env.CHROMIUM_PATH]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser']

/** The Chromium binary, or undefined when this machine has none. */
export const CHROMIUM = candidates.find((p) => p && existsSync(p))

/** Says loudly that `what` is skipped when there is no Chromium; `instead` tells what still checks it. */
export function warnWithoutChromium(what: string, instead: string): void {
  if (CHROMIUM) return
  // Straight to stderr: the node config's `silent: 'passed-only'` drops console output of skipped tests.
  process.stderr.write(
    `\n⚠️  SKIPPING ${what}: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH).\n` +
      `   .ci/run installs it in CI; without it ${instead}.\n\n`,
  )
}

/** A headless Chromium with a fresh profile; `close()` ends it and removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'scim-edge-chromium-'))
  // Playwright passes the profile as --user-data-dir. Without the background-networking flags Chromium
  // keeps trying hosts this machine cannot reach.
  const context = await chromium.launchPersistentContext(profile, {
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
  return {
    context,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/**
 * The few browser globals the tests read. The tsconfig has no DOM lib, so a callback passed to
 * `page.evaluate` reaches them as `(globalThis as unknown as Web)`; the cast is gone once compiled.
 */
export interface Web {
  document: {
    compatMode: string
    body: unknown
    documentElement: { scrollWidth: number; clientWidth: number }
    activeElement: { textContent: string | null } | null
    querySelector(selector: string): unknown
  }
  getComputedStyle(element: unknown): { color: string; backgroundColor: string; fontFamily: string }
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** One axe-core rule a page breaks, with the elements that break it. */
export interface Violation {
  id: string
  impact: string | null
  help: string
  targets: string[]
}

/**
 * Runs axe-core on the page as it is now and returns its serious and critical violations. The source is
 * evaluated rather than added as a script tag: the pages' Content-Security-Policy rightly blocks an
 * injected inline script, and bypassing the policy would hide whether the page works under it.
 */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate<Violation[]>(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => String(n.target)) })))`)
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

/** Serious or critical axe violations at the default viewport (1280×720) and at 390 px wide; the viewport is restored. */
export async function violationsAtBothWidths(page: Page): Promise<{ desktop: Violation[]; phone: Violation[] }> {
  const before = page.viewportSize()
  const desktop = await seriousViolations(page)
  await page.setViewportSize({ width: 390, height: 844 })
  const phone = await seriousViolations(page)
  if (before) await page.setViewportSize(before)
  return { desktop, phone }
}

/** Whether the page is wider than its viewport (a sideways scroll on a phone). */
export function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const root = (globalThis as unknown as Web).document.documentElement
    return root.scrollWidth > root.clientWidth
  })
}

/** Collects what the page reports as Content-Security-Policy violations (console errors naming the policy). */
export function cspViolations(page: Page): string[] {
  const seen: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) seen.push(message.text())
  })
  return seen
}

/** The font families Chromium really drew the text inside the first element matching `selector` with (DevTools CSS domain). */
export async function renderedFonts(page: Page, selector: string): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page)
  try {
    await cdp.send('DOM.enable')
    await cdp.send('CSS.enable')
    const { root } = await cdp.send('DOM.getDocument')
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector })
    if (!nodeId) throw new Error(`no element matches ${selector}`)
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId })
    return fonts.map((f) => f.familyName)
  } finally {
    await cdp.detach()
  }
}

/** WCAG relative luminance contrast of two CSS rgb() colours. */
export function contrast(a: string, b: string): number {
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

/** No serious or critical axe-core violation at either width, and no sideways scroll at 390 px. */
export async function expectAccessible(page: Page) {
  const { desktop, phone } = await violationsAtBothWidths(page)
  expect(desktop, JSON.stringify(desktop, null, 1)).toEqual([])
  expect(phone, JSON.stringify(phone, null, 1)).toEqual([])
  await page.setViewportSize({ width: 390, height: 844 })
  expect(await overflowsSideways(page)).toBe(false)
  await page.setViewportSize({ width: 1280, height: 720 })
}
