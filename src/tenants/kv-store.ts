/**
 * The support CLI's view of the TENANTS namespace, through `wrangler kv key get|put|delete|list`,
 * so local mode uses the very persistence `wrangler dev` uses and remote mode uses the real account.
 * Runs in Node only (child_process); the Worker reads KV through its binding instead.
 */
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TENANT_KEY_PREFIX, parseTenantDocument, tenantDocumentKey, type TenantDocument } from './document.ts'

/** The repository root: wrangler runs there, so it finds wrangler.toml and the default `.wrangler/state`. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Where wrangler lives; it is run with NODE_BIN, not through `#!/usr/bin/env node`. */
export const WRANGLER_BIN = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js')

/** A Node that wrangler accepts (>= 22.12): this one, else the `node` devDependency. */
export const NODE_BIN = nodeAtLeast(22, 12) ? process.execPath : join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node')

function nodeAtLeast(major: number, minor: number): boolean {
  const [a = 0, b = 0] = process.versions.node.split('.').map(Number)
  return a > major || (a === major && b >= minor)
}

/** Local (the dev server's storage, or `persistTo`) or the Cloudflare account wrangler is logged in to. */
export interface KvTarget {
  remote: boolean
  /** Local persistence directory, passed to wrangler as `--persist-to`; default `.wrangler/state`. */
  persistTo?: string
}

/** Listing entry: the tenant summary is also kept as KV metadata so `list` needs one call. */
export interface TenantListing {
  id: string
  summary?: TenantSummary
}

/** What `list` shows per tenant; written as KV metadata beside each document. */
export interface TenantSummary {
  name: string
  status: TenantDocument['status']
  createdAt: string
  credentials: number
}

/** Reads and writes tenant documents; the CLI commands depend on this interface, not on wrangler. */
export interface TenantStore {
  get(id: string): Promise<TenantDocument | undefined>
  put(doc: TenantDocument): Promise<void>
  delete(id: string): Promise<void>
  list(): Promise<TenantListing[]>
  /** Other documents of the namespace under one prefix (`app-key:`, `erasure:`), as text. */
  records(prefix: string): RecordStore
  /** Runs SQL statements on the D1 database (`wrangler d1 execute`); the rows each one changed. */
  d1?(statements: string[]): Promise<number[]>
  /** Runs one read on the D1 database; its rows. */
  d1Query?(sql: string): Promise<Record<string, unknown>[]>
  /** Where the store writes, for messages ("local" or "remote"). */
  readonly where: string
}

/** The documents under one KV prefix; names are without the prefix. */
export interface RecordStore {
  get(name: string): Promise<string | undefined>
  put(name: string, text: string): Promise<void>
  delete(name: string): Promise<void>
  list(): Promise<string[]>
}

/** An error from wrangler itself (not logged in, bad config, ...), with its last meaningful line. */
export class WranglerError extends Error {}

/** The summary stored as metadata; never holds hashes. */
export function summarize(doc: TenantDocument): TenantSummary {
  return { name: doc.name, status: doc.status, createdAt: doc.createdAt, credentials: doc.credentials.length }
}

// `wrangler kv key get --text` prints this on stdout with exit code 0 when the key is absent.
// A stored tenant document is JSON, so it can never be this exact text.
const NOT_FOUND = 'Value not found'

/** A TenantStore backed by `wrangler kv key ... --binding TENANTS`. */
export function createWranglerTenantStore(target: KvTarget, binding = 'TENANTS'): TenantStore {
  const where = target.remote ? '--remote' : '--local'
  const common = ['--binding', binding, where]
  if (!target.remote && target.persistTo) common.push('--persist-to', target.persistTo)

  return {
    where: target.remote ? 'remote' : target.persistTo ? `local ${target.persistTo}` : 'local',

    async get(id) {
      const out = (await wrangler(['kv', 'key', 'get', tenantDocumentKey(id), '--text', ...common])).replace(/\n$/, '')
      if (out === NOT_FOUND) return undefined
      const doc = parseTenantDocument(out)
      // Refuse to treat a malformed value as absent: `create` would overwrite it.
      if (!doc) throw new WranglerError(`the value under ${tenantDocumentKey(id)} is not a tenant document`)
      return doc
    },

    async put(doc) {
      const metadata = JSON.stringify(summarize(doc))
      await wrangler([
        'kv',
        'key',
        'put',
        tenantDocumentKey(doc.id),
        JSON.stringify(doc),
        '--metadata',
        metadata,
        ...common,
      ])
    },

    async delete(id) {
      await wrangler(['kv', 'key', 'delete', tenantDocumentKey(id), ...common])
    },

    async d1(statements) {
      const d1Args = ['d1', 'execute', 'DB', where, '--json', '--command', statements.join('; ')]
      if (!target.remote && target.persistTo) d1Args.push('--persist-to', target.persistTo)
      const out = JSON.parse(await wrangler(d1Args)) as { meta?: { changes?: number } }[]
      return out.map((r) => r.meta?.changes ?? 0)
    },

    async d1Query(sql) {
      const d1Args = ['d1', 'execute', 'DB', where, '--json', '--command', sql]
      if (!target.remote && target.persistTo) d1Args.push('--persist-to', target.persistTo)
      const out = JSON.parse(await wrangler(d1Args)) as { results?: Record<string, unknown>[] }[]
      return out[0]?.results ?? []
    },

    records(prefix) {
      return {
        async get(name) {
          const out = (await wrangler(['kv', 'key', 'get', `${prefix}${name}`, '--text', ...common])).replace(/\n$/, '')
          return out === NOT_FOUND ? undefined : out
        },
        async put(name, text) {
          await wrangler(['kv', 'key', 'put', `${prefix}${name}`, text, ...common])
        },
        async delete(name) {
          await wrangler(['kv', 'key', 'delete', `${prefix}${name}`, ...common])
        },
        async list() {
          const keys = JSON.parse(await wrangler(['kv', 'key', 'list', '--prefix', prefix, ...common])) as {
            name: string
          }[]
          return keys.map((k) => k.name.slice(prefix.length))
        },
      }
    },

    async list() {
      const out = await wrangler(['kv', 'key', 'list', '--prefix', TENANT_KEY_PREFIX, ...common])
      let keys: { name: string; metadata?: unknown }[]
      try {
        keys = JSON.parse(out)
      } catch {
        throw new WranglerError('wrangler kv key list did not print JSON')
      }
      return keys.map((k) => ({ id: k.name.slice(TENANT_KEY_PREFIX.length), summary: asSummary(k.metadata) }))
    },
  }
}

function asSummary(metadata: unknown): TenantSummary | undefined {
  const m = metadata as Partial<TenantSummary> | undefined
  if (!m || typeof m.name !== 'string' || typeof m.status !== 'string') return undefined
  return m as TenantSummary
}

/** The environment wrangler runs with: offline, no metrics, and a compile cache (about a third less CPU per call). */
export function wranglerEnv(): Record<string, string | undefined> {
  return {
    // Offline by design: miniflare would otherwise try to download the Request.cf placeholder.
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    NODE_COMPILE_CACHE: join(tmpdir(), 'scim-edge-node-compile-cache'),
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
  }
}

/** Runs wrangler and resolves with its stdout; rejects with a one-line WranglerError. */
function wrangler(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      NODE_BIN,
      [WRANGLER_BIN, ...args],
      {
        cwd: REPO_ROOT,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...wranglerEnv(), FORCE_COLOR: '0', NO_COLOR: '1' },
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(String(stdout))
        reject(
          new WranglerError(
            `wrangler ${args.slice(0, 3).join(' ')} failed: ${lastLine(String(stderr) || String(stdout)) || error.message}`,
          ),
        )
      },
    )
  })
}

/** The most telling line of wrangler's output: its "✘ [ERROR]" line, else the last non-empty one. */
function lastLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = text
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  const error = lines.find((l) => l.includes('[ERROR]'))
  return (error ?? lines.filter((l) => !l.startsWith('🪵')).at(-1) ?? '').replace(/^✘\s*\[ERROR\]\s*/, '')
}
