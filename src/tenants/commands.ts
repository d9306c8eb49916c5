/**
 * The support CLI's commands, as a table: each entry names its positionals and flags and returns
 * one result (a JSON object plus human-readable lines). They talk to KV through a TenantStore, so
 * new commands (`group create`, `reinvite`, `log`) are a new row, not a new parser.
 */
import {
  DEFAULT_INVITE_TTL_DAYS,
  DEFAULT_RECEIPT_MINUTES,
  tenantBaseUrl,
  tenantKey,
  type Credential,
  type TenantDocument,
  type TenantSettings,
} from './document.ts'
import { accessTokenMinutes, credentialExpired, credentialScopes, formatScopes, tokenEndpoint } from './credentials.ts'
import { parseExpiry } from './expiry.ts'
import { oauthClientCommands } from './oauth-client-commands.ts'
import { parseScopeFlag } from './scope-flag.ts'
import { setCommands } from './set-command.ts'
import { signingKeyCommands } from './signing-key-commands.ts'
import { webhookCommands } from './webhook-commands.ts'
import { checkId, CliError, type Command, type CommandContext, type CommandResult } from './command.ts'
export { checkId, CliError, type Command, type CommandContext, type CommandResult }
import {
  DEFAULT_APP_URL,
  mintCredentials,
  newTenantDocument,
  type CredentialLimits,
  type MintedSecrets,
} from './mint.ts'
import { appKeyCommands } from './app-key-commands.ts'
import { erasureCommands } from './erasure-commands.ts'
import { addUser, workerCommands } from './worker-commands.ts'
import { nextSteps } from './next-steps.ts'
import { userCommands } from './user-commands.ts'
import { catalogCommands } from './catalog-commands.ts'
import { schemaCommands } from './schema-commands.ts'
import { withSupportJournal } from './support-journal.ts'

/** The Base URL an IdP admin configures. */
export const baseUrl = tenantBaseUrl

const SHOWN_ONCE = 'These secrets are shown once; only their SHA-256 is stored.'
const PROPAGATION = 'Remote KV is eventually consistent: edge locations may see this change up to 60 s later.'

async function load(ctx: CommandContext, id: string): Promise<TenantDocument> {
  const doc = await ctx.store.get(checkId(id))
  if (!doc) throw new CliError(`unknown tenant "${id}" (${ctx.store.where})`)
  return doc
}

function secretLines(url: string, secrets: MintedSecrets): string[] {
  return [
    `  Base URL:     ${url}`,
    `  Username:     ${secrets.username}`,
    `  Password:     ${secrets.password}`,
    `  Bearer token: ${secrets.bearerToken}`,
    SHOWN_ONCE,
  ]
}

/** When new credentials start working: at once locally, within KV's propagation remotely. */
function firstUseNote(ctx: CommandContext): string[] {
  return ctx.store.where === 'remote'
    ? ['They work within about 60 s, once Cloudflare KV has carried them to every location.']
    : ['They work on their first use: the Worker reads the tenant again when it sees a credential it does not know.']
}

/** Adds a first user through the Worker's app API; a warning instead when it cannot. */
async function addSeedUser(
  ctx: CommandContext,
  tenantId: string,
  email: string,
): Promise<{ userId?: string; warning?: string }> {
  const later = `add it later with: npm run tenant -- user add ${tenantId} ${email}`
  try {
    const userId = await addUser(ctx, tenantId, email)
    return { userId }
  } catch (error) {
    return {
      warning: `warning: the tenant is created, but the first user was not added (${(error as Error).message}); ${later}`,
    }
  }
}

function remoteNote(ctx: CommandContext): string[] {
  return ctx.store.where === 'remote' ? [PROPAGATION] : []
}

/** One credential as support sees it: never a hash or a secret. */
export function describeCredential(c: Credential, now: Date, lastUsed?: string | null) {
  return {
    id: c.id,
    kind: c.kind,
    ...(c.kind === 'oauth-client' ? { method: c.auth.method } : {}),
    scope: formatScopes(credentialScopes(c)),
    createdAt: c.createdAt,
    expiresAt: c.expiresAt ?? null,
    expired: credentialExpired(c, now),
    ...(lastUsed !== undefined ? { lastUsed } : {}),
  }
}

/** The settings in effect: what the document says, else the defaults. */
export function effectiveSettings(settings: TenantSettings) {
  return {
    inviteTtlDays: settings.inviteTtlDays ?? DEFAULT_INVITE_TTL_DAYS,
    rateLimitTier: settings.rateLimitTier ?? 'standard',
    accessTokenMinutes: accessTokenMinutes(settings),
    receiptMinutes: settings.receiptMinutes ?? DEFAULT_RECEIPT_MINUTES,
    logoUrl: settings.logoUrl ?? 'none',
    brandColor: settings.brandColor ?? '#1d4ed8',
  }
}

/** The public view of a tenant: never a hash or a secret. `lastUsed` maps credential ids to days. */
export function describeTenant(
  doc: TenantDocument,
  publicUrl: string,
  options: { now?: Date; lastUsed?: Map<string, string> } = {},
): Record<string, unknown> {
  const now = options.now ?? new Date()
  return {
    tenantId: doc.id,
    name: doc.name,
    status: doc.status,
    appUrl: doc.appUrl,
    createdAt: doc.createdAt,
    baseUrl: baseUrl(publicUrl, doc.id),
    tokenEndpoint: tokenEndpoint(publicUrl, doc.id),
    settings: doc.settings,
    effectiveSettings: effectiveSettings(doc.settings),
    credentials: doc.credentials.map((c) =>
      describeCredential(c, now, options.lastUsed ? (options.lastUsed.get(c.id) ?? null) : undefined),
    ),
  }
}

/** The day each credential of the tenant last worked, from D1 (`credential_use`); undefined when D1 cannot be read. */
async function lastUsedDays(ctx: CommandContext, doc: TenantDocument): Promise<Map<string, string> | undefined> {
  const key = tenantKey(doc)
  if (!ctx.store.d1Query || !/^[a-z0-9.-]+$/.test(key)) return undefined
  try {
    const rows = await ctx.store.d1Query(`SELECT credential_id, used_on FROM credential_use WHERE tenant_id = '${key}'`)
    return new Map(rows.map((r) => [String(r.credential_id), String(r.used_on)]))
  } catch {
    return undefined
  }
}

/** The limits `--expires` and `--scope` give a minted Basic + bearer pair. */
function limitsFromFlags(ctx: CommandContext, flags: Record<string, string | undefined>): CredentialLimits {
  const scope = parseScopeFlag(flags.scope)
  return {
    ...(flags.expires !== undefined ? { expiresAt: parseExpiry(flags.expires, ctx.now()).toISOString() } : {}),
    ...(scope ? { scope } : {}),
  }
}

const LIMIT_FLAGS = {
  expires: { description: 'when the credentials stop working: 90d, 18m, 2y or a date (default: never; at most 3y)' },
  scope: { description: '"scim:read scim:write" (default) or "scim:read" for read-only credentials' },
}

/** Creates a tenant with a fresh Basic + bearer pair; fails if the id is taken. */
export async function createTenant(
  ctx: CommandContext,
  input: { id: string; name?: string; appUrl?: string; limits?: CredentialLimits },
) {
  checkId(input.id)
  if (input.appUrl !== undefined && !isHttpUrl(input.appUrl))
    throw new CliError(`invalid --app-url "${input.appUrl}": use an http(s) URL`, 2)
  if (input.name !== undefined && !input.name.trim()) throw new CliError('--name must not be empty', 2)
  if (await ctx.store.get(input.id))
    throw new CliError(`tenant "${input.id}" already exists (${ctx.store.where}); nothing changed`)
  const { doc, secrets } = await newTenantDocument(input, ctx.now())
  await ctx.store.put(doc)
  return { doc, secrets }
}

/** Adds a new Basic + bearer pair beside the existing credentials (rotation without downtime). */
export async function rotateTenant(ctx: CommandContext, id: string, limits: CredentialLimits = {}) {
  const doc = await load(ctx, id)
  const previous = doc.credentials.filter((c) => c.kind !== 'oauth-client').map((c) => c.id)
  const { credentials, secrets } = await mintCredentials(ctx.now(), limits)
  const next: TenantDocument = { ...doc, credentials: [...doc.credentials, ...credentials] }
  await ctx.store.put(next)
  return { doc: next, secrets, previous }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

async function setStatus(ctx: CommandContext, id: string, status: TenantDocument['status']): Promise<CommandResult> {
  const doc = await load(ctx, id)
  const changed = doc.status !== status
  if (changed) await ctx.store.put({ ...doc, status })
  return {
    json: { tenantId: doc.id, status, changed },
    lines: [
      changed ? `Tenant ${doc.id} is now ${status}.` : `Tenant ${doc.id} was already ${status}; nothing changed.`,
      ...(changed ? remoteNote(ctx) : []),
    ],
  }
}

/** The command table. Keys may be two words (`group create`); the CLI matches the longest first. */
export const commands: Record<string, Command> = withSupportJournal({
  create: {
    args: ['id'],
    flags: {
      name: { description: 'display name (default: the id)' },
      'app-url': {
        description:
          "where invitees land after accepting (required with --remote; locally npm start's /signed-in page)",
      },
      'seed-user': { description: "add a first user with this email (Okta's SPEC test needs one; through the Worker)" },
      ...LIMIT_FLAGS,
    },
    summary: 'create a tenant and print its Base URL and credentials once, and the next steps for Okta and Entra',
    async run(ctx, args, flags) {
      // Invitees land on the app URL: a remote tenant must not default to this machine.
      if (ctx.store.where === 'remote' && flags['app-url'] === undefined)
        throw new CliError(
          `create --remote needs --app-url: invitees are sent there after accepting (the local default is the running npm start's mail sink page, else ${DEFAULT_APP_URL})`,
          2,
        )
      const seedUser = flags['seed-user']?.trim()
      if (seedUser !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(seedUser))
        throw new CliError(`invalid --seed-user "${flags['seed-user']}": use an email address`, 2)
      const limits = limitsFromFlags(ctx, flags)
      const { doc, secrets } = await createTenant(ctx, {
        id: args.id!,
        name: flags.name,
        // Locally, with `npm start` running, invitees land on its "you are in" page.
        appUrl: flags['app-url'] ?? (ctx.mailSink ? `${ctx.mailSink}/signed-in` : undefined),
        limits,
      })
      const url = baseUrl(ctx.publicUrl, doc.id)
      const seeded = seedUser ? await addSeedUser(ctx, doc.id, seedUser) : undefined
      return {
        json: {
          tenantId: doc.id,
          baseUrl: url,
          ...secrets,
          ...(limits.expiresAt ? { expiresAt: limits.expiresAt } : {}),
          ...(seeded?.userId ? { seedUserId: seeded.userId } : {}),
        },
        lines: [
          `Created tenant ${doc.id} (${ctx.store.where}).`,
          ...secretLines(url, secrets),
          ...(seeded?.userId ? [`Added the first user ${seedUser} (${seeded.userId}).`] : []),
          ...firstUseNote(ctx),
        ],
        warnings: seeded?.warning ? [seeded.warning] : [],
        hints: nextSteps({ tenantId: doc.id, baseUrl: url, secrets, seeded: Boolean(seeded?.userId) }),
      }
    },
  },

  show: {
    args: ['id'],
    summary:
      'show a tenant, its settings and its credentials (kind, scope, created, expires, last used; never secrets)',
    async run(ctx, args) {
      const doc = await load(ctx, args.id!)
      const now = ctx.now()
      const lastUsed = await lastUsedDays(ctx, doc)
      const view = describeTenant(doc, ctx.publicUrl, { now, lastUsed })
      const credentials = view.credentials as ReturnType<typeof describeCredential>[]
      return {
        json: view,
        lines: [
          `Tenant ${doc.id}: ${doc.name} (${doc.status})`,
          `  Base URL:   ${view.baseUrl}`,
          `  Token URL:  ${view.tokenEndpoint}`,
          `  App URL:    ${doc.appUrl}`,
          `  Created:    ${doc.createdAt}`,
          `  Settings:   ${Object.entries(effectiveSettings(doc.settings))
            .map(([k, v]) => `${k}=${v}${k in doc.settings ? '' : ' (default)'}`)
            .join(', ')}`,
          `  Credentials (${doc.credentials.length}):`,
          ...credentials.map(
            (c) =>
              `    ${c.id}  ${(c.method ? `${c.kind}/${c.method}` : c.kind).padEnd(26)}  ${c.scope.padEnd(20)}  created ${c.createdAt.slice(0, 10)}  expires ${c.expiresAt?.slice(0, 10) ?? 'never'}${c.expired ? ' (EXPIRED)' : ''}  last used ${c.lastUsed ?? (lastUsed ? 'never' : 'unknown')}`,
          ),
        ],
        warnings: lastUsed ? [] : ['warning: could not read D1 for last-used days; they show as unknown'],
      }
    },
  },

  list: {
    args: [],
    summary: 'list tenants',
    async run(ctx) {
      const tenants = []
      for (const entry of await ctx.store.list()) {
        // Documents written without metadata (not by this CLI) are read one by one.
        const summary =
          entry.summary ??
          (await ctx.store
            .get(entry.id)
            .then(
              (d) => d && { name: d.name, status: d.status, createdAt: d.createdAt, credentials: d.credentials.length },
            ))
        if (summary) tenants.push({ tenantId: entry.id, ...summary })
      }
      return {
        json: { tenants },
        lines: tenants.length
          ? tenants.map(
              (t) =>
                `${t.tenantId.padEnd(24)} ${t.status.padEnd(8)} ${String(t.credentials).padStart(2)} credentials  ${t.createdAt}  ${t.name}`,
            )
          : [`No tenants (${ctx.store.where}).`],
      }
    },
  },

  rotate: {
    args: ['id'],
    flags: LIMIT_FLAGS,
    summary: 'add a new Basic + bearer credential pair beside the old ones; print it once',
    async run(ctx, args, flags) {
      const limits = limitsFromFlags(ctx, flags)
      const { doc, secrets, previous } = await rotateTenant(ctx, args.id!, limits)
      const url = baseUrl(ctx.publicUrl, doc.id)
      return {
        json: {
          tenantId: doc.id,
          baseUrl: url,
          ...secrets,
          ...(limits.expiresAt ? { expiresAt: limits.expiresAt } : {}),
          previousCredentials: previous,
        },
        lines: [
          `Added credentials ${secrets.username} (basic) and ${secrets.bearerToken.split('_')[1]} (bearer) to tenant ${doc.id}.`,
          ...secretLines(url, secrets),
          ...firstUseNote(ctx),
          previous.length ? `Once the IdP uses them, revoke the old ones: ${previous.join(', ')}` : '',
        ].filter(Boolean),
      }
    },
  },

  revoke: {
    args: ['id', 'credentialId'],
    summary: 'remove one credential from a tenant',
    async run(ctx, args) {
      const doc = await load(ctx, args.id!)
      const target = doc.credentials.find((c) => c.id === args.credentialId)
      if (!target) throw new CliError(`tenant "${doc.id}" has no credential "${args.credentialId}"`)
      const credentials = doc.credentials.filter((c) => c !== target)
      await ctx.store.put({ ...doc, credentials })
      const warnings =
        credentials.length === 0
          ? [`warning: tenant "${doc.id}" has no credentials left; its IdP cannot connect until you run rotate`]
          : []
      return {
        json: { tenantId: doc.id, revoked: target.id, kind: target.kind, remaining: credentials.length },
        lines: [
          `Revoked ${target.kind} credential ${target.id} of tenant ${doc.id}; ${credentials.length} left.`,
          ...remoteNote(ctx),
        ],
        warnings,
      }
    },
  },

  disable: {
    args: ['id'],
    summary: 'reject every request for the tenant (data is kept)',
    run: (ctx, args) => setStatus(ctx, args.id!, 'disabled'),
  },

  enable: {
    args: ['id'],
    summary: 'accept requests for a disabled tenant again',
    run: (ctx, args) => setStatus(ctx, args.id!, 'active'),
  },

  ...workerCommands,

  ...appKeyCommands,

  ...erasureCommands,

  ...oauthClientCommands,

  ...signingKeyCommands,

  ...setCommands,

  ...webhookCommands,

  ...userCommands,

  ...catalogCommands,

  ...schemaCommands,
})
