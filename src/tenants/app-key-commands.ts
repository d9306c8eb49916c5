/** `app-key create|list|revoke`: the keys the app and support's Worker-backed commands use (src/tenants/app-keys.ts). */
import { APP_KEY_PREFIX, mintAppKey, parseAppKeyDocument, type AppKeyDocument } from './app-keys.ts'
import { checkId, CliError, type Command, type CommandContext } from './command.ts'

function keys(ctx: CommandContext) {
  return ctx.store.records(APP_KEY_PREFIX)
}

/** `a,b` into checked tenant ids; undefined (every tenant) when the flag is absent. */
function tenantList(flag: string | undefined): string[] | undefined {
  if (flag === undefined) return undefined
  const ids = flag
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
  if (!ids.length) throw new CliError('--tenants needs at least one tenant id (leave it out for every tenant)', 2)
  return ids.map(checkId)
}

function describe(doc: AppKeyDocument) {
  return { id: doc.id, tenants: doc.tenants ?? 'all', createdAt: doc.createdAt }
}

export const appKeyCommands: Record<string, Command> = {
  'app-key create': {
    args: [],
    flags: { tenants: { description: 'comma-separated tenant ids the key may act on (default: every tenant)' } },
    summary: 'create an app key for the app API and the Directory; print it once',
    async run(ctx, _args, flags) {
      const tenants = tenantList(flags.tenants)
      const { doc, key } = await mintAppKey(tenants, ctx.now())
      await keys(ctx).put(doc.id, JSON.stringify(doc))
      return {
        json: { id: doc.id, key, tenants: doc.tenants ?? 'all' },
        lines: [
          `Created app key ${doc.id} for ${tenants ? `tenants ${tenants.join(', ')}` : 'every tenant'} (${ctx.store.where}).`,
          `  Key: ${key}`,
          'This key is shown once; only its SHA-256 is stored. The app sends it as Authorization: Bearer <key>.',
        ],
      }
    },
  },

  'app-key list': {
    args: [],
    summary: 'list app keys (ids and tenants, never secrets or hashes)',
    async run(ctx) {
      const store = keys(ctx)
      const docs: AppKeyDocument[] = []
      for (const id of await store.list()) {
        const doc = parseAppKeyDocument((await store.get(id)) ?? null)
        if (doc) docs.push(doc)
      }
      return {
        json: { appKeys: docs.map(describe) },
        lines: docs.length
          ? docs.map((d) => `${d.id}  ${d.createdAt}  ${d.tenants ? d.tenants.join(',') : 'every tenant'}`)
          : [`No app keys (${ctx.store.where}).`],
      }
    },
  },

  'app-key revoke': {
    args: ['keyId'],
    summary: 'revoke an app key: the app API refuses it within a minute',
    async run(ctx, args) {
      const store = keys(ctx)
      if (!(await store.get(args.keyId!))) throw new CliError(`no app key "${args.keyId}" (${ctx.store.where})`)
      await store.delete(args.keyId!)
      return { json: { revoked: args.keyId }, lines: [`Revoked app key ${args.keyId}.`] }
    },
  },
}
