/**
 * `webhook create|list|rotate|revoke|test|enable`: where a tenant's app is told about events
 * (src/signals/, src/webhooks/). create, rotate and revoke edit the `webhooks` of the tenant
 * document in KV; list adds each webhook's delivery progress, and test and enable act, through the
 * running Worker's app API. Signing secrets are kept as they are (the Worker signs with them) and
 * printed once, by create and rotate.
 */
import { checkId, CliError, type Command, type CommandContext } from './command.ts'
import { isKeyUrl } from './credentials.ts'
import type { TenantDocument, WebhookConfig, WebhookSecret } from './document.ts'
import { randomId } from './secrets.ts'
import { callWorker, failure } from './worker-commands.ts'

/** At most this many webhooks per tenant: each one is a fan-out of every event. */
export const MAX_WEBHOOKS = 10
const MAX_URL_LENGTH = 2000
const FORMATS = ['standard', 'set'] as const
const DEFAULT_OVERLAP = '24h'
const MAX_OVERLAP_HOURS = 30 * 24

const SHOWN_ONCE = 'The signing secret is shown once: no command prints it again (rotate to get a new one).'
const PROPAGATION = 'Remote KV is eventually consistent: edge locations may see this change up to 60 s later.'

/**
 * The event types of src/signals/event.ts (EVENT_TYPES). The support CLI may not import src/signals/
 * (.dependency-cruiser.cjs: tenant-cli-imports, and src/tenants/ sits below src/signals/), so this is
 * a copy; test/node/cli-webhooks.test.ts pins it, and parseEvents, to the originals.
 */
export const WEBHOOK_EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.deleted',
  'user.joined',
  'group.created',
  'group.renamed',
  'group.updated',
  'group.deleted',
  'group.members_added',
  'group.members_removed',
] as const

/** True when pattern `p` (`*`, an exact type, or `prefix.*`) matches `type`, as matchesEventFilter does. */
function matches(type: string, p: string): boolean {
  return p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1)))
}

/** The patterns of `--events` (comma- or space-separated), as parseEventFilter reads them; a usage error names a bad one. */
export function parseEvents(text: string): string[] {
  const patterns = text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean)
  if (!patterns.length)
    throw new CliError('invalid --events: name at least one event type, such as "user.*" or "user.deactivated"', 2)
  for (const p of patterns) {
    if (!WEBHOOK_EVENT_TYPES.some((t) => matches(t, p)))
      throw new CliError(
        `invalid --events: "${p.slice(0, 60)}" matches no event type; types are ${WEBHOOK_EVENT_TYPES.join(', ')}`,
        2,
      )
  }
  return [...new Set(patterns)]
}

/** A fresh signing secret, as newWebhookSecret (src/signals/standard-webhooks.ts): `whsec_` and the base64 of 32 random bytes. */
export function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return `whsec_${btoa(String.fromCharCode(...bytes))}`
}

/** The URL deliveries go to: https (http only on the loopback address), no credentials, at most 2000 characters. */
function checkUrl(text: string): string {
  if (text.length > MAX_URL_LENGTH) throw new CliError(`the webhook URL is longer than ${MAX_URL_LENGTH} characters`, 2)
  const shown = text.slice(0, 200)
  if (!isKeyUrl(text))
    throw new CliError(
      `invalid webhook URL "${shown}": use an https URL (http only for 127.0.0.1, localhost and [::1])`,
      2,
    )
  const url = new URL(text)
  if (url.username || url.password)
    throw new CliError('the webhook URL must not carry a user name or password; the signature authenticates', 2)
  return text
}

function checkFormat(text: string | undefined): WebhookConfig['format'] {
  const format = text ?? 'standard'
  if (!(FORMATS as readonly string[]).includes(format))
    throw new CliError(`invalid --format "${format.slice(0, 60)}": use standard or set`, 2)
  return format as WebhookConfig['format']
}

/** `--overlap`: `Nh` or `Nd`, from 1h to 30d; in milliseconds. */
export function parseOverlap(text: string): number {
  const match = /^(\d{1,4})([hd])$/.exec(text.trim())
  const hours = match ? Number(match[1]) * (match[2] === 'd' ? 24 : 1) : 0
  if (hours < 1 || hours > MAX_OVERLAP_HOURS)
    throw new CliError(`invalid --overlap "${text.slice(0, 60)}": use hours or days such as 24h or 7d, 1h to 30d`, 2)
  return hours * 3_600_000
}

async function load(ctx: CommandContext, id: string): Promise<TenantDocument> {
  const doc = await ctx.store.get(checkId(id))
  if (!doc) throw new CliError(`unknown tenant "${id}" (${ctx.store.where})`)
  return doc
}

function findWebhook(doc: TenantDocument, id: string): WebhookConfig {
  const webhook = doc.webhooks?.find((w) => w.id === id)
  if (!webhook) throw new CliError(`tenant "${doc.id}" has no webhook "${id.slice(0, 64)}"`)
  return webhook
}

function remoteNote(ctx: CommandContext): string[] {
  return ctx.store.where === 'remote' ? [PROPAGATION] : []
}

/** Secrets that still sign at `now`: those without an end, or whose end has not come. */
function liveSecrets(secrets: WebhookSecret[], now: Date): WebhookSecret[] {
  return secrets.filter((s) => !s.expiresAt || s.expiresAt > now.toISOString())
}

/** What the Worker says of one webhook's deliveries (GET /app/v1/{tenant}/webhooks). */
interface Progress {
  cursor: number
  pending: number
  delivered: number
  dead: number
  failingSince: string | null
  disabledAt: string | null
  lastSuccessAt: string | null
}

/** Each webhook's progress by id, or a warning saying why the Worker could not tell. */
async function workerProgress(
  ctx: CommandContext,
  tenantId: string,
): Promise<{ progress: Map<string, Progress> } | { warning: string }> {
  try {
    const { status, json } = await callWorker(ctx, tenantId, { method: 'GET', path: '/webhooks' })
    if (status !== 200) throw failure(status, json)
    const rows = (Array.isArray(json.webhooks) ? json.webhooks : []) as (Progress & { webhookId: string })[]
    return {
      progress: new Map(
        rows.map((r) => [
          r.webhookId,
          {
            cursor: r.cursor,
            pending: r.pending,
            delivered: r.delivered,
            dead: r.dead,
            failingSince: r.failingSince ?? null,
            disabledAt: r.disabledAt ?? null,
            lastSuccessAt: r.lastSuccessAt ?? null,
          },
        ]),
      ),
    }
  } catch (error) {
    if (!(error instanceof CliError)) throw error
    return { warning: `warning: no delivery progress: ${error.message}` }
  }
}

function progressText(p: Progress | null): string {
  if (!p) return 'progress unknown'
  return [
    p.disabledAt ? `DISABLED since ${p.disabledAt}` : '',
    p.failingSince && !p.disabledAt ? `FAILING since ${p.failingSince}` : '',
    `${p.delivered} delivered, ${p.pending} pending, ${p.dead} dead`,
    `last success ${p.lastSuccessAt ?? 'never'}`,
  ]
    .filter(Boolean)
    .join(', ')
}

/** The webhook id in an app API path. */
function webhookPath(id: string, action: 'test' | 'enable'): string {
  return `/webhooks/${encodeURIComponent(id)}/${action}`
}

export const webhookCommands: Record<string, Command> = {
  'webhook create': {
    args: ['id', 'url'],
    flags: {
      events: {
        description: 'event types it gets, comma-separated: "user.*,group.*", "user.deactivated" (default "*": all)',
      },
      format: { description: 'standard (Standard Webhooks JSON, the default) or set (RFC 8417 Security Event Tokens)' },
    },
    summary: `add a webhook (https URL) to a tenant, at most ${MAX_WEBHOOKS}; print its signing secret once`,
    async run(ctx, args, flags) {
      checkId(args.id!)
      const url = checkUrl(args.url!)
      const events = flags.events === undefined ? ['*'] : parseEvents(flags.events)
      const format = checkFormat(flags.format)
      const doc = await load(ctx, args.id!)
      const webhooks = doc.webhooks ?? []
      if (webhooks.length >= MAX_WEBHOOKS)
        throw new CliError(
          `tenant "${doc.id}" already has ${webhooks.length} webhooks, the most it may have; revoke one first`,
        )
      const now = ctx.now()
      const secret = newSecret()
      const webhook: WebhookConfig = {
        id: randomId('wh_', 16),
        url,
        events,
        format,
        secrets: [{ secret, createdAt: now.toISOString() }],
        createdAt: now.toISOString(),
      }
      await ctx.store.put({ ...doc, webhooks: [...webhooks, webhook] })
      return {
        json: { tenantId: doc.id, id: webhook.id, secret, url, events, format },
        lines: [
          `Added webhook ${webhook.id} to tenant ${doc.id} (${ctx.store.where}).`,
          `  URL:            ${url}`,
          `  Events:         ${events.join(', ')}`,
          `  Format:         ${format}`,
          `  Signing secret: ${secret}`,
          SHOWN_ONCE,
          ...remoteNote(ctx),
        ],
      }
    },
  },

  'webhook list': {
    args: ['id'],
    summary: "list a tenant's webhooks (never secrets) and their delivery progress (through the Worker's app API)",
    async run(ctx, args) {
      const doc = await load(ctx, args.id!)
      const now = ctx.now()
      const configs = doc.webhooks ?? []
      // Without webhooks there is no progress to ask the Worker for.
      const answer = configs.length ? await workerProgress(ctx, doc.id) : { progress: new Map<string, Progress>() }
      const progress = 'progress' in answer ? answer.progress : undefined
      const webhooks = configs.map((w) => {
        const live = liveSecrets(w.secrets, now)
        const ends = live.map((s) => s.expiresAt).filter((e): e is string => Boolean(e))
        return {
          id: w.id,
          url: w.url,
          events: w.events,
          format: w.format,
          createdAt: w.createdAt,
          secrets: live.length,
          rotationEndsAt: ends.length ? ends.sort().at(-1)! : null,
          progress: progress?.get(w.id) ?? null,
        }
      })
      return {
        json: { tenantId: doc.id, webhooks },
        lines: webhooks.length
          ? webhooks.flatMap((w) => [
              `${w.id}  ${w.format.padEnd(8)}  ${w.url}`,
              `    events ${w.events.join(',')}  created ${w.createdAt.slice(0, 10)}  ${w.secrets} secret${w.secrets === 1 ? '' : 's'}${w.rotationEndsAt ? ` (rotation overlap until ${w.rotationEndsAt})` : ''}`,
              `    ${progressText(w.progress)}`,
            ])
          : [`Tenant ${doc.id} has no webhooks; add one with webhook create ${doc.id} <url>.`],
        warnings: 'warning' in answer ? [answer.warning] : [],
      }
    },
  },

  'webhook rotate': {
    args: ['id', 'webhookId'],
    flags: {
      overlap: {
        description: `how long the old secret signs beside the new one: 24h, 7d (default ${DEFAULT_OVERLAP}, 1h to 30d)`,
      },
    },
    summary: 'give a webhook a new signing secret, printed once; the old one signs beside it for the overlap',
    async run(ctx, args, flags) {
      const overlap = parseOverlap(flags.overlap ?? DEFAULT_OVERLAP)
      const doc = await load(ctx, args.id!)
      const webhook = findWebhook(doc, args.webhookId!)
      const now = ctx.now()
      const secret = newSecret()
      // The new secret signs first; the current one beside it until the overlap ends. Older secrets go,
      // so at most two sign: one whose overlap has not ended yet is dropped early, with a warning.
      const [current, ...older] = liveSecrets(webhook.secrets, now)
      const end = new Date(now.getTime() + overlap).toISOString()
      const previousExpiresAt = current
        ? current.expiresAt && current.expiresAt < end
          ? current.expiresAt
          : end
        : null
      const secrets: WebhookSecret[] = [
        { secret, createdAt: now.toISOString() },
        ...(current ? [{ ...current, expiresAt: previousExpiresAt! }] : []),
      ]
      const webhooks = (doc.webhooks ?? []).map((w) => (w === webhook ? { ...w, secrets } : w))
      await ctx.store.put({ ...doc, webhooks })
      return {
        json: { tenantId: doc.id, id: webhook.id, secret, previousExpiresAt },
        lines: [
          `Rotated the signing secret of webhook ${webhook.id} of tenant ${doc.id} (${ctx.store.where}).`,
          `  Signing secret: ${secret}`,
          previousExpiresAt
            ? `Deliveries carry signatures of the new and the previous secret until ${previousExpiresAt}; the previous one stops then.`
            : 'The webhook had no live secret: deliveries are signed with the new one only.',
          SHOWN_ONCE,
          ...remoteNote(ctx),
        ],
        warnings: older.length
          ? [
              `warning: dropped ${older.length} older secret${older.length === 1 ? '' : 's'} whose overlap had not ended; only the new and the previous secret sign now`,
            ]
          : [],
      }
    },
  },

  'webhook revoke': {
    args: ['id', 'webhookId'],
    summary: 'remove a webhook from a tenant; no more deliveries go to it',
    async run(ctx, args) {
      const doc = await load(ctx, args.id!)
      const target = findWebhook(doc, args.webhookId!)
      await ctx.store.put({ ...doc, webhooks: (doc.webhooks ?? []).filter((w) => w !== target) })
      return {
        json: { tenantId: doc.id, revoked: target.id },
        lines: [`Revoked webhook ${target.id} (${target.url}) of tenant ${doc.id}.`, ...remoteNote(ctx)],
      }
    },
  },

  'webhook test': {
    args: ['id', 'webhookId'],
    summary:
      "send a signed test delivery now and show the answer; exit 1 unless it is 2xx (through the Worker's app API)",
    async run(ctx, args) {
      // The Worker reads the same document; asking KV first names an unknown webhook as such.
      const doc = await load(ctx, args.id!)
      const webhook = findWebhook(doc, args.webhookId!)
      const tenantId = doc.id
      const { status, json } = await callWorker(ctx, tenantId, {
        method: 'POST',
        path: webhookPath(webhook.id, 'test'),
      })
      if (status !== 200) throw failure(status, json)
      const result = {
        tenantId,
        webhookId: webhook.id,
        url: String(json.url ?? webhook.url),
        ok: json.ok === true,
        status: typeof json.status === 'number' ? json.status : null,
        ms: typeof json.ms === 'number' ? json.ms : null,
        ...(json.error !== undefined ? { error: String(json.error) } : {}),
      }
      const answer = `${result.status ?? 'no answer'}${result.error ? ` (${result.error})` : ''} in ${result.ms ?? '?'} ms`
      if (!result.ok)
        throw new CliError(
          `test delivery of webhook ${result.webhookId} to ${result.url} failed: ${answer}`.slice(0, 500),
        )
      return {
        json: result,
        lines: [`Test delivery of webhook ${result.webhookId} to ${result.url}: ${answer}.`],
      }
    },
  },

  'webhook enable': {
    args: ['id', 'webhookId'],
    summary: "re-enable a disabled webhook and try its dead deliveries again (through the Worker's app API)",
    async run(ctx, args) {
      // The Worker reads the same document; asking KV first names an unknown webhook as such.
      const doc = await load(ctx, args.id!)
      const id = findWebhook(doc, args.webhookId!).id
      const tenantId = doc.id
      const { status, json } = await callWorker(ctx, tenantId, { method: 'POST', path: webhookPath(id, 'enable') })
      if (status !== 200) throw failure(status, json)
      const enabled = json.enabled === true
      const retried = Number(json.retried ?? 0)
      return {
        json: { tenantId, id, enabled, retried },
        lines: [
          `${enabled ? `Webhook ${id} of tenant ${tenantId} delivers again` : `Webhook ${id} of tenant ${tenantId} was not disabled`}; ${retried} dead deliver${retried === 1 ? 'y' : 'ies'} queued again.`,
        ],
      }
    },
  },
}
