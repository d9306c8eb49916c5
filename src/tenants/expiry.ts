/** `--expires` of the support CLI: `90d`, `18m`, `2y` or a date, at most MAX_EXPIRY_DAYS ahead. */
import { CliError } from './command.ts'
import { MAX_EXPIRY_DAYS } from './credentials.ts'

const DAY_MS = 86_400_000

/** The instant `text` names, counted from `now`; a usage error for anything else or beyond 3 years. */
export function parseExpiry(text: string, now: Date): Date {
  const relative = /^(\d{1,4})([dmy])$/.exec(text.trim())
  let at: Date
  if (relative) {
    const n = Number(relative[1])
    at = new Date(now)
    if (relative[2] === 'd') at.setUTCDate(at.getUTCDate() + n)
    if (relative[2] === 'm') at.setUTCMonth(at.getUTCMonth() + n)
    if (relative[2] === 'y') at.setUTCFullYear(at.getUTCFullYear() + n)
  } else if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(text.trim())) {
    at = realDay(text.trim()) ? new Date(text.trim()) : new Date(Number.NaN)
  } else {
    throw new CliError(`invalid --expires "${text}": use a duration such as 90d, 18m or 2y, or a date (2028-06-30)`, 2)
  }
  if (Number.isNaN(at.getTime())) throw new CliError(`invalid --expires "${text}": not a real date`, 2)
  if (at.getTime() <= now.getTime()) throw new CliError(`--expires "${text}" is not in the future`, 2)
  if (at.getTime() > now.getTime() + MAX_EXPIRY_DAYS * DAY_MS)
    throw new CliError(`--expires "${text}" is more than 3 years away; credentials live at most 3 years`, 2)
  return at
}

/** Whether the YYYY-MM-DD that `text` starts with names a day of the calendar (not 2027-02-30). */
function realDay(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number]
  const day = new Date(Date.UTC(y, m - 1, d))
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d
}
