/** What every support command shares: its context, its result, its errors. */
import { isTenantId } from './document.ts'
import type { TenantStore } from './kv-store.ts'

/** A user mistake or a missing tenant: one line on stderr, non-zero exit, nothing written. */
export class CliError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

/** What a command needs besides its arguments. */
export interface CommandContext {
  store: TenantStore
  /** `{PUBLIC_URL}` without a trailing slash; the Base URL is `{publicUrl}/scim/v2/{tenantId}`. */
  publicUrl: string
  now: () => Date
  /** The running Worker's APP_API_KEY, for commands that go through its app API (`reinvite`). */
  appApiKey?: () => string | undefined
  /** Where those commands call the Worker when it is not `publicUrl` (the local `npm start` behind a tunnel). */
  workerUrl?: string
  /** The local mail sink of a running `npm start`: local tenants' invitees land on its `/signed-in`. */
  mailSink?: string
  /** How those commands reach the Worker (tests pass a fake). */
  fetch?: typeof fetch
  /** Who is acting, for the journal: `--as`, else the OS user name. */
  operator?: string
}

/** A command's output: `json` is printed with `--json`, `lines` otherwise; warnings go to stderr. */
export interface CommandResult {
  json: Record<string, unknown>
  lines: string[]
  warnings?: string[]
  /** What to do next: printed after the lines, or on stderr with `--json`. */
  hints?: string[]
}

/** One row of the command table. */
export interface Command {
  /** Positional parameter names, in order; all required. */
  args: string[]
  /** Command-specific string flags (global flags are handled by the CLI). */
  /** Command-specific flags: strings, or switches (`boolean`) that read as 'true' when given. */
  flags?: Record<string, { description: string; boolean?: true }>
  summary: string
  run(
    ctx: CommandContext,
    args: Record<string, string>,
    flags: Record<string, string | undefined>,
  ): Promise<CommandResult>
}

/** A valid tenant id, or a usage error. */
export function checkId(id: string): string {
  if (!isTenantId(id))
    throw new CliError(
      `invalid tenant id "${id}": use 2-63 characters a-z, 0-9 and "-", not starting or ending with "-"`,
      2,
    )
  return id
}
