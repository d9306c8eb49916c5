/**
 * Support commands that go through the running Worker's app API (`/app/v1/{tenant}/...`, with an
 * app key in APP_API_KEY): only the Worker writes D1 and the queue in one step, and reads D1 through the same
 * queries the service uses. Locally that Worker is `npm start`; remotely, `--public-url`.
 */
import { checkId, CliError, type Command, type CommandContext, type CommandResult } from './command.ts'
import { operatorName } from './operator.ts'

/** Calls the Worker's app API for a tenant; returns the status and the JSON body. */
export async function callWorker(
  ctx: CommandContext,
  tenantId: string,
  request: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; body?: unknown },
) {
  const { method, path, body } = request
  checkId(tenantId)
  const key = ctx.appApiKey?.()
  if (!key)
    throw new CliError(
      'this command needs an app key in APP_API_KEY (npm run tenant -- app-key create; npm start prints a local one and keeps it in .wrangler/dev-secrets.json)',
    )
  const worker = ctx.workerUrl ?? ctx.publicUrl
  const url = `${worker}/app/v1/${tenantId}${path}`
  let res: Response
  try {
    res = await (ctx.fetch ?? fetch)(url, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        // Support acts: the journal names who, and disabled tenants can be looked at and fixed.
        'x-operator': operatorName(ctx),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (error) {
    throw new CliError(
      `cannot reach ${worker} (${(error as Error).message}): is the Worker running (npm start), or pass --public-url`,
    )
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (res.status === 401)
    throw new CliError(`the Worker at ${worker} rejected APP_API_KEY (revoked, or not allowed on this tenant?)`)
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

/** Adds a person as the app would (joined, no invite), e.g. the first user Okta's SPEC test reads; returns its id. */
export async function addUser(ctx: CommandContext, tenantId: string, email: string): Promise<string> {
  const { status, json } = await callWorker(ctx, tenantId, {
    method: 'POST',
    path: '/users',
    body: { userName: email, emails: [{ value: email, type: 'work', primary: true }] },
  })
  if (status === 201) return String(json.id)
  if (status === 409) throw new CliError(`tenant "${tenantId}" already has a user "${email}"`)
  throw failure(status, json)
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
export function parseSince(text: string, now: Date, flag = 'since'): Date {
  const match = /^(\d+)([smhdw])$/.exec(text.trim())
  if (match) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w']
    return new Date(now.getTime() - Number(match[1]) * unit * 1000)
  }
  const date = new Date(text)
  if (Number.isNaN(date.getTime()))
    throw new CliError(`invalid --${flag} "${text}": use a duration such as 24h or 7d, or an ISO date-time`, 2)
  return date
}

interface JournalEntry {
  id: string
  at: string
  method: string
  action: string
  outcome: string
  resourceType: string | null
  resourceId: string | null
  resourceName: string | null
  credentialId: string | null
  requestId: string | null
  summary: string | null
  actor: string | null
  detail: string | null
  repeats: number
}

/** One journal entry as a line: when, what, how it went, about whom, by whom. */
function entryLine(e: JournalEntry): string {
  const about = e.resourceType ? `${e.resourceType} ${e.resourceName ?? e.resourceId ?? '-'}` : '-'
  return [
    e.at,
    e.action.padEnd(16),
    e.outcome.padEnd(9),
    about,
    e.summary ?? '',
    e.detail && e.detail !== e.summary ? `[${e.detail}]` : '',
    e.repeats > 1 ? `×${e.repeats}` : '',
    `(by ${e.actor ?? e.credentialId ?? '-'}, request ${e.requestId ?? '-'})`,
  ]
    .filter(Boolean)
    .join('  ')
}

/** The provisioning journal of a tenant, newest first: who changed what, when, and how it went. */
export async function showLog(
  ctx: CommandContext,
  tenantId: string,
  flags: Record<string, string | undefined>,
): Promise<CommandResult> {
  const params = new URLSearchParams({ limit: flags.limit ?? '100' })
  if (flags.user) params.set('userName', flags.user)
  if (flags.action) params.set('action', flags.action)
  if (flags.outcome) params.set('outcome', flags.outcome)
  if (flags.since) params.set('since', parseSince(flags.since, ctx.now()).toISOString())
  if (flags.until) params.set('until', parseSince(flags.until, ctx.now(), 'until').toISOString())
  if (flags.before) params.set('before', flags.before)
  const { status, json } = await callWorker(ctx, tenantId, { method: 'GET', path: `/journal?${params}` })
  if (status === 400) throw new CliError(String(json.detail ?? 'the Worker refused the query'), 2)
  if (status !== 200) throw failure(status, json)
  const entries = (json.entries ?? []) as JournalEntry[]
  const next = typeof json.next === 'string' ? json.next : null
  const narrowed = [
    flags.user && `user ${flags.user}`,
    flags.action && `action ${flags.action}`,
    flags.outcome && `outcome ${flags.outcome}`,
  ]
    .filter(Boolean)
    .join(', ')
  return {
    json: { tenantId, entries, next },
    lines: entries.length
      ? entries.map(entryLine)
      : [`No journal entries for tenant ${tenantId}${narrowed ? ` with ${narrowed}` : ''}.`],
    warnings: next ? [`more: add --before '${next}' for older entries`] : [],
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
      action: {
        description:
          'only this action or family: create, update, delete, invite, invite-sent, auth-failed, support, ...',
      },
      outcome: { description: 'only ok, error, or an outcome such as "error 409"' },
      since: { description: 'only entries newer than a duration (24h, 7d) or an ISO date-time' },
      until: { description: 'only entries older than a duration or an ISO date-time' },
      before: { description: 'the page after this cursor (printed as "more: --before ...")' },
      limit: { description: 'at most this many entries (1-1000, default 100)' },
    },
    summary: "show the provisioning journal, newest first (through the Worker's app API)",
    run: (ctx, args, flags) => showLog(ctx, args.id!, flags),
  },
}
