/**
 * Support actions in the journal. Commands that change a tenant in KV (`set`, `rotate`, `revoke`,
 * `disable`, ...) run outside the Worker, so after each one the CLI tells the Worker's app API what
 * was done and by whom (`--as`, else the OS user name). The change stands even when the Worker
 * cannot be reached; the command then says it was not journaled.
 */
import type { Command, CommandContext, CommandResult } from './command.ts'
import { callWorker } from './worker-commands.ts'

type Json = Record<string, unknown>

/** What each journaled command records: its summary from its arguments and its result, never a secret. */
const JOURNALED: Record<string, (args: Record<string, string>, json: Json) => string | undefined> = {
  create: (_a, j) => `tenant created; credentials ${String(j.username)} (basic) and ${bearerId(j)} (bearer)`,
  set: (_a, j) =>
    `changed ${Object.entries((j.changed as Json) ?? {})
      .map(([k, v]) => `${k}=${v === null ? '(removed)' : String(v)}`)
      .join(', ')}`,
  rotate: (_a, j) => `added credentials ${String(j.username)} (basic) and ${bearerId(j)} (bearer)`,
  revoke: (_a, j) => `revoked ${String(j.kind)} credential ${String(j.revoked)}`,
  disable: (_a, j) => (j.changed ? 'tenant disabled: every request is refused' : undefined),
  enable: (_a, j) => (j.changed ? 'tenant enabled again' : undefined),
  'oauth-client create': (_a, j) => `added OAuth client ${String(j.clientId)}`,
  'oauth-client revoke': (_a, j) => `revoked OAuth client ${String(j.revoked)}`,
  'webhook create': (_a, j) => `added webhook ${String(j.id)} to ${String(j.url)}`,
  'webhook rotate': (_a, j) => `rotated the signing secret of webhook ${String(j.id)}`,
  'webhook revoke': (_a, j) => `revoked webhook ${String(j.revoked)}`,
  'webhook enable': (_a, j) => `re-enabled webhook ${String(j.id)}; ${String(j.retried)} dead deliveries queued again`,
  canonicalize: () => 'rewrote rows to the canonical name form',
  'schema add': (_a, j) => `declared User attribute ${String((j.added as Json)?.name)}`,
  'schema remove': (_a, j) => `removed User attribute ${String(j.removed)}`,
}

/** The id part of a minted bearer token `scim_{id}_{secret}`. */
function bearerId(json: Json): string {
  return String(json.bearerToken ?? '').split('_')[1] ?? '?'
}

/** Tells the Worker what a command did; a warning when it could not. */
async function journal(ctx: CommandContext, tenantId: string, action: string, summary: string): Promise<string[]> {
  try {
    const { status, json } = await callWorker(ctx, tenantId, {
      method: 'POST',
      path: '/support/actions',
      body: { action: action.replace(' ', '-'), summary: summary.slice(0, 500) },
    })
    if (status === 201) return []
    return [
      `note: the change is done, but the journal did not record it (the Worker answered ${status}: ${String(json.detail ?? '')})`,
    ]
  } catch (error) {
    return [`note: the change is done, but the journal did not record it: ${(error as Error).message}`]
  }
}

/** The command table with each journaled command recording its action after it succeeds. */
export function withSupportJournal(commands: Record<string, Command>): Record<string, Command> {
  return Object.fromEntries(
    Object.entries(commands).map(([name, command]) => {
      const summarize = JOURNALED[name]
      if (!summarize || !command.args.includes('id')) return [name, command]
      const run = async (
        ctx: CommandContext,
        args: Record<string, string>,
        flags: Record<string, string | undefined>,
      ): Promise<CommandResult> => {
        const result = await command.run(ctx, args, flags)
        const summary = summarize(args, result.json)
        if (!summary) return result
        const warnings = await journal(ctx, args.id!, name, summary)
        return { ...result, warnings: [...(result.warnings ?? []), ...warnings] }
      }
      return [name, { ...command, run }]
    }),
  )
}
