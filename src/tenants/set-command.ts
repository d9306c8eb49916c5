/** `set <tenant>`: change a tenant's name, app URL or settings in place, each value checked first. */
import { checkId, CliError, type Command } from './command.ts'
import { ACCESS_TOKEN_MINUTES } from './credentials.ts'
import type { TenantDocument, TenantSettings } from './document.ts'

const TIER_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/

/** A whole number within bounds, or a usage error naming the flag and the bounds. */
function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || n < min || n > max)
    throw new CliError(`--${flag} must be a whole number from ${min} to ${max}, not "${text}"`, 2)
  return n
}

function isLogoUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'https:' && !url.username && !url.password && text.length <= 2048
  } catch {
    return false
  }
}

function httpUrl(text: string): string {
  try {
    const url = new URL(text)
    if (url.protocol === 'http:' || url.protocol === 'https:') return text
  } catch {}
  throw new CliError(`invalid --app-url "${text}": use an http(s) URL`, 2)
}

/** The settings `set` changes, each a flag. */
const SET_FLAGS = {
  name: { description: 'display name' },
  'app-url': { description: 'where invitees land after accepting' },
  'invite-ttl-days': { description: 'days an invite link stays valid (1 to 90)' },
  'rate-tier': { description: 'rate limit tier: standard, another tier of wrangler.toml, or off' },
  'access-token-minutes': {
    description: `OAuth access token lifetime (${ACCESS_TOKEN_MINUTES.min} to ${ACCESS_TOKEN_MINUTES.max})`,
  },
  'receipt-minutes': {
    description: 'minutes the app has to confirm a deactivation or deletion before it is flagged (1 to 1440)',
  },
  'logo-url': { description: 'an https image shown on the invite page ("" removes it)' },
  'brand-color': { description: 'the invite button colour, #rrggbb ("" removes it)' },
}

export const setCommands: Record<string, Command> = {
  set: {
    args: ['id'],
    flags: SET_FLAGS,
    summary: "change a tenant's name, app URL or settings",
    async run(ctx, args, flags) {
      const doc = await ctx.store.get(checkId(args.id!))
      if (!doc) throw new CliError(`unknown tenant "${args.id}" (${ctx.store.where})`)
      const changed: Record<string, unknown> = {}
      const next: TenantDocument = { ...doc, settings: { ...doc.settings } }
      const settings: TenantSettings = next.settings
      if (flags.name !== undefined) {
        if (!flags.name.trim()) throw new CliError('--name must not be empty', 2)
        next.name = changed.name = flags.name.trim()
      }
      if (flags['app-url'] !== undefined) next.appUrl = changed.appUrl = httpUrl(flags['app-url'])
      if (flags['invite-ttl-days'] !== undefined)
        settings.inviteTtlDays = changed.inviteTtlDays = wholeNumber('invite-ttl-days', flags['invite-ttl-days'], 1, 90)
      if (flags['rate-tier'] !== undefined) {
        const tier = flags['rate-tier'].trim().toLowerCase()
        if (!TIER_PATTERN.test(tier))
          throw new CliError(`invalid --rate-tier "${flags['rate-tier']}": use standard, off or a tier name`, 2)
        settings.rateLimitTier = changed.rateLimitTier = tier
      }
      if (flags['access-token-minutes'] !== undefined)
        settings.accessTokenMinutes = changed.accessTokenMinutes = wholeNumber(
          'access-token-minutes',
          flags['access-token-minutes'],
          ACCESS_TOKEN_MINUTES.min,
          ACCESS_TOKEN_MINUTES.max,
        )
      if (flags['receipt-minutes'] !== undefined)
        settings.receiptMinutes = changed.receiptMinutes = wholeNumber(
          'receipt-minutes',
          flags['receipt-minutes'],
          1,
          1440,
        )
      if (flags['logo-url'] !== undefined) {
        const logo = flags['logo-url'].trim()
        if (logo && !isLogoUrl(logo))
          throw new CliError(`invalid --logo-url "${flags['logo-url']}": use an https URL of an image`, 2)
        if (logo) settings.logoUrl = logo
        else delete settings.logoUrl
        changed.logoUrl = logo || null
      }
      if (flags['brand-color'] !== undefined) {
        const color = flags['brand-color'].trim().toLowerCase()
        if (color && !/^#[0-9a-f]{6}$/.test(color))
          throw new CliError(`invalid --brand-color "${flags['brand-color']}": use #rrggbb, e.g. #1d4ed8`, 2)
        if (color) settings.brandColor = color
        else delete settings.brandColor
        changed.brandColor = color || null
      }
      if (!Object.keys(changed).length)
        throw new CliError(
          `set needs at least one of ${Object.keys(SET_FLAGS)
            .map((f) => `--${f}`)
            .join(', ')}`,
          2,
        )
      await ctx.store.put(next)
      return {
        json: { tenantId: doc.id, changed, settings: next.settings },
        lines: [
          `Changed tenant ${doc.id}: ${Object.entries(changed)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(', ')}.`,
          ...(ctx.store.where === 'remote' ? ['Remote KV takes up to 60 s to reach every location.'] : []),
        ],
      }
    },
  },
}
