/**
 * `user show` and `user find`: support's questions about people ("did Ada get her invite, did she
 * accept, what state is she in, which groups, may she sign in?"), answered by the running Worker.
 */
import { CliError, type Command, type CommandContext, type CommandResult } from './command.ts'
import { addUser, callWorker, failure } from './worker-commands.ts'

interface Report {
  user: {
    id: string
    userName: string
    displayName: string | null
    email: string | null
    active: boolean
    state: string
    source: string
    createdAt: string
    updatedAt: string
    deletedAt: string | null
  }
  created: Entry | null
  lastChange: Entry | null
  invites: {
    id: string
    status: string
    createdAt: string
    sentAt: string | null
    expiresAt: string | null
    acceptedAt: string | null
    attempts: number
    reason: string | null
  }[]
  groups: { id: string; displayName: string }[]
  signIn: { allowed: boolean; why: string }
  recent: Entry[]
}

interface Entry {
  at: string
  action: string
  outcome: string
  actor: string | null
  summary: string | null
}

function by(e: Entry | null): string {
  return e ? `${e.at} by ${e.actor ?? 'unknown'}` : 'not in the journal (older than its retention?)'
}

/** Everything about one person, as lines. */
function reportLines(tenantId: string, r: Report): string[] {
  const u = r.user
  return [
    `${u.userName} (${u.id}) in tenant ${tenantId}`,
    `  Name:       ${u.displayName ?? '-'}   Email: ${u.email ?? '-'}`,
    `  State:      ${u.state}, active=${u.active}${u.deletedAt ? `, deleted ${u.deletedAt}` : ''} (source ${u.source})`,
    `  Sign-in:    ${r.signIn.allowed ? 'ALLOWED' : 'REFUSED'}: ${r.signIn.why}`,
    `  Created:    ${u.createdAt} (${by(r.created)})`,
    `  Changed:    ${u.updatedAt} (${by(r.lastChange)}${r.lastChange ? `: ${r.lastChange.action}` : ''})`,
    `  Groups (${r.groups.length}): ${r.groups.map((g) => g.displayName).join(', ') || '-'}`,
    `  Invites (${r.invites.length}):`,
    ...(r.invites.length
      ? r.invites.map(
          (i) =>
            `    ${i.id}  ${i.status.padEnd(9)}  queued ${i.createdAt}${i.sentAt ? `  sent ${i.sentAt}` : ''}${i.expiresAt ? `  expires ${i.expiresAt}` : ''}${i.acceptedAt ? `  accepted ${i.acceptedAt}` : ''}  attempts ${i.attempts}${i.reason ? `  (${i.reason})` : ''}`,
        )
      : ['    none']),
    '  Recent journal:',
    ...r.recent
      .slice(0, 10)
      .map((e) =>
        `    ${e.at}  ${e.action.padEnd(16)}  ${e.outcome.padEnd(9)}  ${e.actor ?? '-'}  ${e.summary ?? ''}`.trimEnd(),
      ),
  ]
}

export async function showUser(ctx: CommandContext, tenantId: string, who: string): Promise<CommandResult> {
  const { status, json } = await callWorker(ctx, tenantId, {
    method: 'GET',
    path: `/support/user?${new URLSearchParams({ who })}`,
  })
  if (status === 404 && json.reason === 'unknown') throw new CliError(`tenant "${tenantId}" has no user "${who}"`)
  if (status === 409)
    throw new CliError(`"${who}" names more than one user; use the id (user find ${tenantId} --filter ...)`)
  if (status !== 200) throw failure(status, json)
  const report = json as unknown as Report
  return { json: { tenantId, ...json }, lines: reportLines(tenantId, report) }
}

export async function findUser(
  ctx: CommandContext,
  tenantId: string,
  flags: Record<string, string | undefined>,
): Promise<CommandResult> {
  if (!flags.filter?.trim()) throw new CliError(`usage: user find ${tenantId} --filter 'userName sw "ada"'`, 2)
  const params = new URLSearchParams({ filter: flags.filter, count: flags.count ?? '50' })
  const { status, json } = await callWorker(ctx, tenantId, { method: 'GET', path: `/support/users?${params}` })
  if (status === 400) throw new CliError(`invalid filter: ${String(json.detail ?? 'no detail')}`, 2)
  if (status !== 200) throw failure(status, json)
  const { totalResults, users } = json as { totalResults: number; users: Report['user'][] }
  return {
    json: { tenantId, totalResults, users },
    lines: users.length
      ? [
          ...users.map(
            (u) => `${u.id}  ${u.userName.padEnd(32)}  ${u.state.padEnd(11)}  active=${u.active}  ${u.email ?? '-'}`,
          ),
          ...(totalResults > users.length ? [`(${users.length} of ${totalResults}; more: --count up to 200)`] : []),
        ]
      : [`No users in tenant ${tenantId} match ${flags.filter}.`],
  }
}

export const userCommands: Record<string, Command> = {
  'user show': {
    args: ['id', 'who'],
    summary:
      "everything about one person (id, userName or email): state, who changed it, invites, groups, may they sign in and why (through the Worker's app API)",
    run: (ctx, args) => showUser(ctx, args.id!, args.who!),
  },
  'user add': {
    args: ['id', 'email'],
    summary:
      "add a person as the app would (joined, no invite), e.g. the one user Okta's SPEC test reads (through the Worker's app API)",
    async run(ctx, args) {
      const email = args.email!.trim()
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new CliError(`invalid email "${args.email}"`, 2)
      const userId = await addUser(ctx, args.id!, email)
      return {
        json: { tenantId: args.id, userId, userName: email },
        lines: [
          `Added ${email} (${userId}) to tenant ${args.id}; the IdP can import and link it by userName or email.`,
        ],
      }
    },
  },
  'user find': {
    args: ['id'],
    flags: {
      filter: { description: 'a SCIM filter, e.g. userName sw "ada" or active eq false' },
      count: { description: 'at most this many (1-200, default 50)' },
    },
    summary: "the people a SCIM filter selects, one line each (through the Worker's app API)",
    run: (ctx, args, flags) => findUser(ctx, args.id!, flags),
  },
}
