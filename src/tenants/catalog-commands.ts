/**
 * `entitlement add|list|remove` and `seats`: the app's catalogue of roles and entitlements (what
 * Okta Identity Governance reads at /Roles, /Licenses, ...) and its seat limits, through the
 * Worker's app API.
 */
import { CliError, type Command, type CommandContext, type CommandResult } from './command.ts'
import { callWorker, failure } from './worker-commands.ts'

interface Entry {
  type: string
  id: string
  displayName: string
  description?: string
  endpoint: string
  seatLimit: number | null
  seatsUsed: number
}

/** `--seat-limit N` or `none`: a whole number, or null for no limit; undefined when not given. */
function seatLimitFlag(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined
  if (text === 'none') return null
  if (!/^\d{1,9}$/.test(text)) throw new CliError(`invalid --seat-limit "${text}": a whole number, or none`, 2)
  return Number(text)
}

function seats(e: { seatLimit: number | null; seatsUsed: number }): string {
  return e.seatLimit === null ? `${e.seatsUsed} in use, no limit` : `${e.seatsUsed} of ${e.seatLimit} in use`
}

/** The Worker's 400 or 409 is the person's mistake: its detail says what to change. */
function refused(status: number, json: Record<string, unknown>): CliError {
  if (status === 400 || status === 409 || status === 404)
    return new CliError(String(json.detail ?? 'refused'), status === 400 ? 2 : 1)
  return failure(status, json)
}

async function addEntry(
  ctx: CommandContext,
  args: Record<string, string>,
  flags: Record<string, string | undefined>,
): Promise<CommandResult> {
  const { id: tenantId, type, entry } = args as { id: string; type: string; entry: string }
  if (!flags.name?.trim()) throw new CliError(`usage: entitlement add ${tenantId} ${type} ${entry} --name "..."`, 2)
  const seatLimit = seatLimitFlag(flags['seat-limit'])
  const { status, json } = await callWorker(ctx, tenantId, {
    method: 'PUT',
    path: `/catalog/${encodeURIComponent(type)}/${encodeURIComponent(entry)}`,
    body: {
      displayName: flags.name,
      ...(flags.description === undefined ? {} : { description: flags.description }),
      ...(seatLimit === undefined ? {} : { seatLimit }),
    },
  })
  if (status !== 200 && status !== 201) throw refused(status, json)
  const e = json as unknown as Entry
  return {
    json: { tenantId, created: status === 201, entry: json },
    lines: [
      `${status === 201 ? 'Added' : 'Changed'} ${e.type} ${e.id} ("${e.displayName}") in tenant ${tenantId}: ${seats(e)}.`,
      `IdPs see it at ${e.endpoint}; users' ${e.type === 'Role' ? 'roles' : 'entitlements'} may now name it.`,
    ],
  }
}

async function listEntries(ctx: CommandContext, tenantId: string): Promise<CommandResult> {
  const { status, json } = await callWorker(ctx, tenantId, { method: 'GET', path: '/catalog' })
  if (status !== 200) throw failure(status, json)
  const { entries, tenantSeats } = json as { entries: Entry[]; tenantSeats: Entry | null }
  return {
    json: { tenantId, entries, tenantSeats },
    lines: [
      ...(entries.length
        ? entries.map(
            (e) =>
              `${e.type.padEnd(12)} ${e.id.padEnd(24)} ${e.displayName.padEnd(28)} ${e.endpoint.padEnd(14)} ${seats(e)}`,
          )
        : [`Tenant ${tenantId} has no catalogue: roles and entitlements are kept as sent.`]),
      `Active users: ${tenantSeats ? seats(tenantSeats) : 'no limit'}.`,
    ],
  }
}

async function removeEntry(ctx: CommandContext, args: Record<string, string>): Promise<CommandResult> {
  const { id: tenantId, type, entry } = args as { id: string; type: string; entry: string }
  const { status, json } = await callWorker(ctx, tenantId, {
    method: 'DELETE',
    path: `/catalog/${encodeURIComponent(type)}/${encodeURIComponent(entry)}`,
  })
  if (status !== 204) throw refused(status, json)
  return {
    json: { tenantId, type, id: entry, removed: true },
    lines: [`Removed ${type} ${entry} from tenant ${tenantId}'s catalogue.`],
  }
}

async function tenantSeats(
  ctx: CommandContext,
  tenantId: string,
  flags: Record<string, string | undefined>,
): Promise<CommandResult> {
  const seatLimit = seatLimitFlag(flags.limit)
  if (seatLimit === undefined) {
    const listed = await listEntries(ctx, tenantId)
    const current = (listed.json as { tenantSeats: Entry | null }).tenantSeats
    return {
      json: { tenantId, seatLimit: current?.seatLimit ?? null, seatsUsed: current?.seatsUsed ?? null },
      lines: [`Active users in tenant ${tenantId}: ${current ? seats(current) : 'no limit'}.`],
    }
  }
  const { status, json } = await callWorker(ctx, tenantId, { method: 'PUT', path: '/seats', body: { seatLimit } })
  if (status !== 200) throw refused(status, json)
  const result = json as { seatLimit: number | null; seatsUsed: number }
  return {
    json: { tenantId, ...result },
    lines: [`Active users in tenant ${tenantId}: ${seats(result)}. A create or reactivation past the limit gets 403.`],
  }
}

export const catalogCommands: Record<string, Command> = {
  'entitlement add': {
    args: ['id', 'type', 'entry'],
    flags: {
      name: { description: 'the name IdPs show (required)' },
      description: { description: 'what it grants, at most 1,000 characters' },
      'seat-limit': { description: 'how many active users may hold it (a number, or none)' },
    },
    summary:
      "add or change a role or entitlement of the app's catalogue: <type> is Role, License, Permission, ...; <entry> the value users' roles or entitlements send",
    run: (ctx, args, flags) => addEntry(ctx, args, flags),
  },
  'entitlement list': {
    args: ['id'],
    summary: "the app's catalogue: each role and entitlement, its endpoint and seats in use",
    run: (ctx, args) => listEntries(ctx, args.id!),
  },
  'entitlement remove': {
    args: ['id', 'type', 'entry'],
    summary: 'remove a catalogue entry that no user holds',
    run: (ctx, args) => removeEntry(ctx, args),
  },
  seats: {
    args: ['id'],
    flags: { limit: { description: 'the most active users the tenant may have (a number, or none)' } },
    summary: "show or set the tenant's limit on active users",
    run: (ctx, args, flags) => tenantSeats(ctx, args.id!, flags),
  },
}
