/**
 * The invite page's frame: its style sheet, the tenant's optional logo and button colour
 * (TenantSettings.logoUrl, TenantSettings.brandColor), how it writes an expiry and the app's host, and
 * the HTML around every page of src/routes/invite.tsx. A setting is used only when it is exactly the shape asked for, so no
 * setting can add markup or CSS: the colour goes into the style sheet only as `#rrggbb`.
 */
import type { FC, PropsWithChildren } from 'hono/jsx'
import type { TenantDocument } from '../tenants/document.ts'

/** The button colours when the tenant sets none: #1d4ed8 with white text (contrast 6.7). */
const DEFAULT_BUTTON = { background: '#1d4ed8', hover: '#1e40af', text: '#fff' }

const STYLE = `
:root{--button:${DEFAULT_BUTTON.background};--button-hover:${DEFAULT_BUTTON.hover};--button-text:${DEFAULT_BUTTON.text}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f4f4f5}
main{max-width:34rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #d4d4d8;border-radius:12px}
@media (max-width:36rem){main{margin:0;padding:1.25rem;border-width:0 0 1px;border-radius:0}}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
.logo{display:block;max-width:12rem;max-height:3rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:1.25rem 0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.7rem 1.4rem;border:0;border-radius:8px;background:var(--button);color:var(--button-text);text-decoration:none;cursor:pointer}
button:hover,.button:hover{background:var(--button-hover)}
button:focus-visible,.button:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
a{color:#1d4ed8}
.note{color:#3f3f46;font-size:.95rem}
.where{margin:.75rem 0 0;overflow-wrap:anywhere}
`

/** A tenant's look on the invite page, each part present only when its setting is valid. */
export interface Brand {
  /** The logo's address: an https URL without credentials. */
  logoUrl?: string
  /** What the logo's alt text says: the tenant's name. */
  logoAlt: string
  button?: { background: string; hover: string; text: string }
}

const HEX_COLOUR = /^#[0-9a-f]{6}$/i

/** The logo URL when it is an https address of at most 2,048 characters without a user or password. */
export function brandLogo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined
  try {
    const url = new URL(value)
    if (url.protocol !== 'https:' || url.username || url.password) return undefined
    return url.href
  } catch {
    return undefined
  }
}

/** WCAG 2.x relative luminance of `#rrggbb`. */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/** `#rrggbb` moved `amount` (0..1) of the way to `target` (0 black, 255 white). */
function mix(hex: string, target: 0 | 255, amount: number): string {
  let out = '#'
  for (const i of [1, 3, 5]) {
    const c = Number.parseInt(hex.slice(i, i + 2), 16)
    out += Math.round(c + (target - c) * amount)
      .toString(16)
      .padStart(2, '0')
  }
  return out
}

/**
 * Button colours for a `#rrggbb` brand colour, else undefined. The text is white or black, whichever
 * contrasts more (at least 4.58:1 for any background); hovering moves the background away from the
 * text colour, so the contrast only grows.
 */
export function brandButton(value: unknown): Brand['button'] {
  if (typeof value !== 'string' || !HEX_COLOUR.test(value)) return undefined
  const background = value.toLowerCase()
  const l = luminance(background)
  const onWhite = 1.05 / (l + 0.05)
  const onBlack = (l + 0.05) / 0.05
  return onWhite >= onBlack
    ? { background, hover: mix(background, 0, 0.15), text: '#fff' }
    : { background, hover: mix(background, 255, 0.2), text: '#000' }
}

/** The tenant's logo and button colour from its settings, each only when valid. */
export function tenantBrand(tenant: TenantDocument): Brand {
  const settings = tenant.settings ?? {}
  return {
    logoUrl: brandLogo(settings.logoUrl),
    logoAlt: tenant.name,
    button: brandButton(settings.brandColor),
  }
}

const MONTHS = 'January February March April May June July August September October November December'.split(' ')

/** An instant as the page says it, in UTC (the server does not know the reader's zone): "8 December 2026 at 14:05 UTC". */
export function expiryText(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const time = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} at ${time} UTC`
}

/** The host the accept button leads to (the tenant's appUrl), or undefined when it is not a URL. */
export function appHost(appUrl: string): string | undefined {
  try {
    return new URL(appUrl).host || undefined
  } catch {
    return undefined
  }
}

/** The style sheet, with the button colours of `brand` when it has them. */
export function styleSheet(brand?: Brand): string {
  const b = brand?.button
  const css = b ? `${STYLE}:root{--button:${b.background};--button-hover:${b.hover};--button-text:${b.text}}\n` : STYLE
  // The text goes into <style> unescaped (escaping breaks quoted font names): nothing may close it.
  if (css.includes('<')) throw new Error('the invite page style sheet must not contain "<"')
  return css
}

/** The HTML of every invite page: standards-mode head, the style sheet, `main`, and an optional nonce'd script. */
export const Layout: FC<
  PropsWithChildren<{ title: string; brand?: Brand; script?: { nonce: string; source: string } }>
> = ({ title, brand, script, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>{title}</title>
      <style dangerouslySetInnerHTML={{ __html: styleSheet(brand) }} />
    </head>
    <body>
      <main>
        {brand?.logoUrl ? <img class="logo" src={brand.logoUrl} alt={brand.logoAlt} /> : null}
        {children}
      </main>
      {script ? <script nonce={script.nonce} dangerouslySetInnerHTML={{ __html: script.source }} /> : null}
    </body>
  </html>
)
