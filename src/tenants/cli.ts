/**
 * The support CLI (README "Onboarding a tenant"): `npm run tenant -- <command> ...`.
 * Parses argv, picks a row of the command table in commands.ts, and prints its result: human
 * lines, or with `--json` exactly one JSON object on stdout (also for errors, as `{ "error" }`).
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { CliError, commands, type Command, type CommandResult } from './commands.ts'
import { findDevServer } from './dev-server.ts'
import { REPO_ROOT, createWranglerTenantStore, type TenantStore } from './kv-store.ts'

const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8787'

const GLOBAL_FLAGS = {
  local: { type: 'boolean', description: 'use the local storage of `wrangler dev` (default)' },
  remote: { type: 'boolean', description: 'use the Cloudflare account wrangler is logged in to' },
  json: { type: 'boolean', description: 'print exactly one JSON object on stdout' },
  as: { type: 'string', description: 'who is acting, for the journal (default: your OS user name)' },
  'public-url': {
    type: 'string',
    description: `base of the Base URL (default: $PUBLIC_URL, else the running npm start's, else http://127.0.0.1:$PORT, else ${DEFAULT_PUBLIC_URL})`,
  },
  'persist-to': {
    type: 'string',
    description: 'local persistence directory (default: .wrangler/state, as wrangler dev)',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
} as const

/** Words joined into lines of at most `width` characters, the first after `first`, the rest after `rest`. */
function wrap(words: string[], width: number, first: string, rest: string): string[] {
  const lines: string[] = []
  let line = first
  for (const word of words) {
    const blank = line === first || line === rest
    if (!blank && line.length + 1 + word.length > width) {
      lines.push(line)
      line = rest
    }
    line += line === first || line === rest ? word : ` ${word}`
  }
  lines.push(line)
  return lines
}

/** Usage text built from the command table: each command, wrapped, with its summary below it. */
export function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => {
    const words = [
      name,
      ...c.args.map((a) => `<${a}>`),
      ...Object.keys(c.flags ?? {}).map((f) => `[--${f} ${f.toUpperCase().replaceAll('-', '_')}]`),
    ]
    return [...wrap(words, 98, '  ', '    '), ...wrap(c.summary.split(' '), 98, '      ', '      '), '']
  })
  const flagRows = Object.entries(GLOBAL_FLAGS).map(
    ([f, d]) => [`--${f}${d.type === 'string' ? ' <value>' : ''}`, d.description] as const,
  )
  const fwidth = Math.max(...flagRows.map(([l]) => l.length)) + 2
  return [
    'Usage: npm run tenant -- <command> [args] [--local|--remote] [--json]',
    '',
    'Commands:',
    ...rows.flat(),
    '  help',
    '      show this help',
    '',
    'Flags:',
    ...flagRows.flatMap(([l, s]) => wrap(s.split(' '), 98, `  ${l.padEnd(fwidth)}`, ' '.repeat(fwidth + 2))),
    '',
    'Secrets are printed once; KV keeps only their SHA-256.',
    'With --json, run `npm run -s tenant -- ...` so npm adds no header to stdout.',
  ].join('\n')
}

interface Io {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
  /** Lets tests and `npm start` pass a store other than wrangler's. */
  store?: (target: { remote: boolean; persistTo?: string }) => TenantStore
  now?: () => Date
  /** Lets tests answer the Worker's app API (`reinvite`). */
  fetch?: typeof fetch
}

/** Runs the CLI on argv (without `node cli.ts`) and returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const json = argv.includes('--json')
  try {
    const result = await dispatch(argv, io)
    if (result === 'help') {
      if (json) io.stdout(JSON.stringify({ usage: usage() }) + '\n')
      else io.stdout(usage() + '\n')
      return 0
    }
    for (const w of result.warnings ?? []) io.stderr(w + '\n')
    if (json) {
      io.stdout(JSON.stringify(result.json, null, 2) + '\n')
      for (const h of result.hints ?? []) io.stderr(h + '\n')
    } else {
      io.stdout([...result.lines, ...(result.hints?.length ? ['', ...result.hints] : [])].join('\n') + '\n')
    }
    return 0
  } catch (error) {
    const known = error instanceof CliError
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!
    io.stderr(`error: ${message}${known && error.exitCode === 2 ? ' (see `help`)' : ''}\n`)
    if (json) io.stdout(JSON.stringify({ error: message }) + '\n')
    return known ? error.exitCode : 1
  }
}

async function dispatch(argv: string[], io: Io): Promise<CommandResult | 'help'> {
  const allFlags: Record<string, { type: 'string' | 'boolean'; short?: string }> = { ...GLOBAL_FLAGS }
  for (const c of Object.values(commands))
    for (const [f, d] of Object.entries(c.flags ?? {})) allFlags[f] = { type: d.boolean ? 'boolean' : 'string' }

  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: argv, options: allFlags, allowPositionals: true, strict: true })
  } catch (error) {
    throw new CliError((error as Error).message.replace(/\. To specify a positional.*$/s, ''), 2)
  }
  const { values, positionals } = parsed
  if (values.help || positionals.length === 0 || positionals[0] === 'help') return 'help'

  const { name, command } = findCommand(positionals)
  const rest = positionals.slice(name.split(' ').length)
  for (const flag of Object.keys(values)) {
    if (!(flag in GLOBAL_FLAGS) && !(flag in (command.flags ?? {})))
      throw new CliError(`${name} does not take --${flag}`, 2)
  }
  if (rest.length !== command.args.length) {
    throw new CliError(`usage: ${name} ${command.args.map((a) => `<${a}>`).join(' ')}`.trim(), 2)
  }
  if (values.local && values.remote) throw new CliError('use either --local or --remote', 2)
  if (values.remote && values['persist-to'] !== undefined) throw new CliError('--persist-to only applies to --local', 2)

  const target = {
    remote: Boolean(values.remote),
    persistTo: values['persist-to'] === undefined ? undefined : resolve(String(values['persist-to'])),
  }
  // A running `npm start` (on this state) is found whatever PORT or PUBLIC_URL it has; else PORT.
  const dev = target.remote ? undefined : findDevServer(target.persistTo ?? join(REPO_ROOT, '.wrangler'))
  const local = io.env.PORT && /^\d+$/.test(io.env.PORT) ? `http://127.0.0.1:${io.env.PORT}` : DEFAULT_PUBLIC_URL
  const chosen = values['public-url'] ?? io.env.PUBLIC_URL
  const publicUrl = String(chosen || dev?.publicUrl || local).replace(/\/+$/, '')
  const workerUrl = chosen ? undefined : dev?.url
  try {
    new URL(publicUrl)
  } catch {
    throw new CliError(`invalid public URL "${publicUrl}"`, 2)
  }
  const store = (io.store ?? createWranglerTenantStore)(target)
  const args = Object.fromEntries(command.args.map((a, i) => [a, rest[i]!]))
  const flags = Object.fromEntries(
    Object.keys(command.flags ?? {}).map((f) => [f, values[f] === true ? 'true' : (values[f] as string | undefined)]),
  )
  const appApiKey = () => io.env.APP_API_KEY || (target.remote ? undefined : devAppApiKey(target.persistTo))
  const operator = typeof values.as === 'string' ? values.as.trim() : undefined
  if (operator !== undefined && !/^[\x21-\x7e][\x20-\x7e]{0,63}$/.test(operator))
    throw new CliError('--as must be a name of at most 64 printable ASCII characters', 2)
  return command.run(
    {
      store,
      publicUrl,
      workerUrl,
      mailSink: dev?.mailSink,
      now: io.now ?? (() => new Date()),
      appApiKey,
      fetch: io.fetch,
      operator,
    },
    args,
    flags,
  )
}

/** The APP_API_KEY that `npm start` generated for the local Worker (src/dev/start.ts keeps it there). */
function devAppApiKey(persistTo: string | undefined): string | undefined {
  try {
    const file = join(persistTo ?? join(REPO_ROOT, '.wrangler'), 'dev-secrets.json')
    return (JSON.parse(readFileSync(file, 'utf8')) as { APP_API_KEY?: string }).APP_API_KEY
  } catch {
    return undefined
  }
}

function findCommand(positionals: string[]): { name: string; command: Command } {
  // Two-word commands (`group create`) win over one-word ones.
  for (const name of [positionals.slice(0, 2).join(' '), positionals[0]!]) {
    const command = commands[name]
    if (command && Object.hasOwn(commands, name)) return { name, command }
  }
  throw new CliError(`unknown command "${positionals[0]}"`, 2)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const code = await main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
  })
  process.exitCode = code
}
