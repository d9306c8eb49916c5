/**
 * Support commands that go through the running Worker's app API (`/app/v1/{tenant}/...`, with an
 * app key in APP_API_KEY): only the Worker writes D1 and the queue in one step, and reads D1 through the same
 * queries the service uses. Locally that Worker is `npm start`; remotely, `--public-url`.
 */
import { checkId, CliError, type Command, type CommandContext, type CommandResult } from './command.ts'

/** Calls the Worker's app API for a tenant; returns the status and the JSON body. */
export async function callWorker(
  ctx: CommandContext,
  tenantId: string,
  request: { method: 'GET' | 'POST'; path: string; body?: unknown },
) {
  const { method, path, body } = request
  checkId(tenantId)
  const key = ctx.appApiKey?.()
  if (!key)
    throw new CliError(
      'this command needs an app key in APP_API_KEY (npm run tenant -- app-key create; npm start prints a local one and keeps it in .wrangler/dev-secrets.json)',
    )
  const url = `${ctx.publicUrl}/app/v1/${tenantId}${path}`
  let res: Response
  try {
    res = await (ctx.fetch ?? fetch)(url, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (error) {
    throw new CliError(
      `cannot reach ${ctx.publicUrl} (${(error as Error).message}): is the Worker running (npm start), or pass --public-url`,
    )
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (res.status === 401)
    throw new CliError(`the Worker at ${ctx.publicUrl} rejected APP_API_KEY (revoked, or not allowed on this tenant?)`)
  if (res.status === 404 && typeof json.detail === 'string' && /tenant/i.test(json.detail))
    throw new CliError(`unknown tenant "${tenantId}"`)
  return { status: res.status, json }
}

/** The error for an answer of the Worker that the command did not expect. */
export function failure(status: number, json: Record<string, unknown>): CliError {
  return new CliError(`the Worker answered ${status}: ${String(json.detail ?? json.reason ?? 'no detail')}`)
}

/**
 * Support's resend: asks the Worker to void the person's open invite and queue a fresh one.
 */
export async function reinviteUser(ctx: CommandContext, tenantId: string, userName: string): Promise<CommandResult> {
  const { status, json } = await callWorker(ctx, tenantId, { method: 'POST', path: '/reinvite', body: { userName } })
  if (status === 202) {
    return {
      json: { tenantId, userName, userId: json.userId, inviteId: json.inviteId },
      lines: [
        `Queued a fresh invite for ${userName} in tenant ${tenantId} (invite ${String(json.inviteId)}); earlier links no longer work.`,
      ],
    }
  }
  const why: Record<string, string> = {
    unknown: `tenant "${tenantId}" has no user "${userName}"`,
    ambiguous: `"${userName}" names more than one user`,
    deactivated: `${userName} is deactivated; reactivate them in the IdP (that sends a fresh invite)`,
    joined: `${userName} has already joined; there is nothing to resend`,
  }
  throw why[String(json.reason ?? '')] ? new CliError(why[String(json.reason)]!) : failure(status, json)
}

/** Creates a group that exists in the app before any IdP, so an Okta import can find and link it. */
export async function createGroup(ctx: CommandContext, tenantId: string, displayName: string): Promise<CommandResult> {
  if (!displayName.trim()) throw new CliError('the group needs a displayName', 2)
  const { status, json } = await callWorker(ctx, tenantId, { method: 'POST', path: '/groups', body: { displayName } })
  if (status === 201) {
    return {
      json: { tenantId, groupId: json.id, displayName },
      lines: [`Created group "${displayName}" (${String(json.id)}) in tenant ${tenantId}.`],
    }
  }
  if (status === 409)
    throw new CliError(`tenant "${tenantId}" already has a group named "${displayName}"; nothing changed`)
  throw failure(status, json)
}

/** `1h`, `30m`, `7d` or `2w` before now, or an ISO date-time. */
export function parseSince(text: string, now: Date): Date {
  const match = /^(\d+)([smhdw])$/.exec(text.trim())
  if (match) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w']
    return new Date(now.getTime() - Number(match[1]) * unit * 1000)
  }
  const date = new Date(text)
  if (Number.isNaN(date.getTime()))
    throw new CliError(`invalid --since "${text}": use a duration such as 24h or 7d, or an ISO date-time`, 2)
  return date
}

interface JournalEntry {
  at: string
  method: string
  action: string
  outcome: string
  resourceType: string | null
  resourceId: string | null
  credentialId: string | null
  requestId: string | null
  summary: string | null
}

/** The provisioning journal of a tenant, newest first: who changed what, when, and how it went. */
export async function showLog(
  ctx: CommandContext,
  tenantId: string,
  flags: Record<string, string | undefined>,
): Promise<CommandResult> {
  const params = new URLSearchParams({ limit: flags.limit ?? '100' })
  if (flags.user) params.set('userName', flags.user)
  if (flags.since) params.set('since', parseSince(flags.since, ctx.now()).toISOString())
  const { status, json } = await callWorker(ctx, tenantId, { method: 'GET', path: `/journal?${params}` })
  if (status !== 200) throw failure(status, json)
  const entries = (json.entries ?? []) as JournalEntry[]
  return {
    json: { tenantId, entries },
    lines: entries.length
      ? entries.map((e) =>
          [
            e.at,
            e.action.padEnd(7),
            e.outcome.padEnd(9),
            `${e.resourceType ?? '-'} ${e.resourceId ?? '-'}`,
            e.summary ?? '',
            `(credential ${e.credentialId ?? '-'}, request ${e.requestId ?? '-'})`,
          ]
            .join('  ')
            .trim(),
        )
      : [`No journal entries for tenant ${tenantId}${flags.user ? ` and user ${flags.user}` : ''}.`],
  }
}

interface Canonicalized {
  scanned: number
  updated: number
  collisions: { canonical: string; ids: string[] }[]
}

/** Rewrites the comparison columns of rows written before the canonical form; lists collisions. */
export async function canonicalize(ctx: CommandContext, tenantId: string): Promise<CommandResult> {
  const { status, json } = await callWorker(ctx, tenantId, { method: 'POST', path: '/canonicalize' })
  if (status !== 200) throw failure(status, json)
  const { users, groups } = json as unknown as { users: Canonicalized; groups: Canonicalized }
  const collisions = [
    ...users.collisions.map((c) => ({ kind: 'User', ...c })),
    ...groups.collisions.map((c) => ({ kind: 'Group', ...c })),
  ]
  return {
    json: { tenantId, users, groups },
    lines: [
      `Tenant ${tenantId}: ${users.updated} of ${users.scanned} users and ${groups.updated} of ${groups.scanned} groups rewritten.`,
      ...collisions.map(
        (c) => `  collision (${c.kind}) "${c.canonical}": ${c.ids.join(', ')} — left unchanged; rename one in the IdP`,
      ),
    ],
    warnings: collisions.length ? [`${collisions.length} names collide in canonical form; see above`] : [],
  }
}

/** The rows these commands add to the command table. */
export const workerCommands: Record<string, Command> = {
  reinvite: {
    args: ['id', 'userName'],
    summary: "send a fresh invite to a person who has not joined (through the running Worker's app API)",
    run: (ctx, args) => reinviteUser(ctx, args.id!, args.userName!),
  },
  'group create': {
    args: ['id', 'displayName'],
    summary: "create a group that exists before any IdP, for Okta to import and link (through the Worker's app API)",
    run: (ctx, args) => createGroup(ctx, args.id!, args.displayName!),
  },
  canonicalize: {
    args: ['id'],
    summary:
      "bring rows written before the canonical name form to it; report collisions (through the Worker's app API)",
    run: (ctx, args) => canonicalize(ctx, args.id!),
  },
  log: {
    args: ['id'],
    flags: {
      user: { description: 'only entries about this userName (deleted users included)' },
      since: { description: 'only entries newer than a duration (24h, 7d) or an ISO date-time' },
      limit: { description: 'at most this many entries (1-1000, default 100)' },
    },
    summary: "show the provisioning journal, newest first (through the Worker's app API)",
    run: (ctx, args, flags) => showLog(ctx, args.id!, flags),
  },
}
