/**
 * `npm start`: the whole service on 127.0.0.1 (README "Quick start").
 * Applies local D1 migrations, makes sure the demo tenant exists with credentials it can print,
 * starts the mail sink, then runs `wrangler dev` in its own process group; SIGINT/SIGTERM stop it all.
 *
 * Environment: PORT (8787), MAIL_SINK_PORT (8025), PUBLIC_URL (a tunnel's https URL, else http://127.0.0.1:PORT), APP_API_KEY (an app key) / MAIL_API_KEY / INVITE_TOKEN_KEY (else generated once
 * and kept in .wrangler/dev-secrets.json). Flag: --persist-to <dir> (default .wrangler/state).
 */
import { startLocalCron, TEST_SCHEDULED_FLAG } from './local-cron.ts'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { baseUrl, createTenant, rotateTenant, type CommandContext } from '../tenants/commands.ts'
import type { TenantDocument } from '../tenants/document.ts'
import { credentialExpired, DEFAULT_CLIENT_EXPIRY, secretHash, tokenEndpoint } from '../tenants/credentials.ts'
import { parseExpiry } from '../tenants/expiry.ts'
import { newSecretClient } from '../tenants/oauth-client-commands.ts'
import { newSigningKey } from '../tenants/signing-key-commands.ts'
import { APP_KEY_PREFIX, mintAppKey, parseAppKey, parseAppKeyDocument } from '../tenants/app-keys.ts'
import {
  NODE_BIN,
  REPO_ROOT,
  WRANGLER_BIN,
  createWranglerTenantStore,
  wranglerEnv,
  type TenantStore,
} from '../tenants/kv-store.ts'
import type { MintedSecrets } from '../tenants/mint.ts'
import { parseBearerToken, randomSecret, sha256Hex } from '../tenants/secrets.ts'
import { DEFAULT_APP_URL } from '../tenants/mint.ts'
import { devServerFile, type DevServer } from '../tenants/dev-server.ts'
import { startMailSink, type MailSink } from './mail-sink.ts'

const DEMO_TENANT = 'demo'

/** What `.wrangler/demo-tenant.json` holds: the shape of `tenant create --json`, plus a demo OAuth client. */
export interface DemoCredentials extends MintedSecrets {
  tenantId: string
  baseUrl: string
  oauthClientId?: string
  oauthClientSecret?: string
}

/**
 * Gives the demo tenant an OAuth client (client_secret_basic) unless the saved one still works, so
 * `npm start` prints a Client ID, secret and Token URL to try the token endpoint with.
 */
export async function ensureDemoOAuthClient(
  ctx: CommandContext,
  file: string,
  creds: DemoCredentials,
): Promise<DemoCredentials> {
  const doc = await ctx.store.get(DEMO_TENANT)
  if (!doc) return creds
  const saved = doc.credentials.find((c) => c.id === creds.oauthClientId && c.kind === 'oauth-client')
  const now = ctx.now()
  if (
    saved &&
    creds.oauthClientSecret &&
    !credentialExpired(saved, now) &&
    secretHash(saved) === (await sha256Hex(creds.oauthClientSecret))
  )
    return creds
  const { client, secret } = await newSecretClient(now, parseExpiry(DEFAULT_CLIENT_EXPIRY, now).toISOString())
  await ctx.store.put({ ...doc, credentials: [...doc.credentials, client] })
  const next = { ...creds, oauthClientId: client.id, oauthClientSecret: secret }
  writeJson(file, next)
  return next
}

/** True when the saved secrets still match credentials in the stored document. */
export async function demoSecretsValid(doc: TenantDocument, saved: DemoCredentials | undefined): Promise<boolean> {
  if (!saved) return false
  const basic = doc.credentials.find((c) => c.kind === 'basic' && c.id === saved.username)
  const bearer = parseBearerToken(saved.bearerToken)
  const bearerCred = bearer && doc.credentials.find((c) => c.kind === 'bearer' && c.id === bearer.credentialId)
  if (!basic || !bearer || !bearerCred) return false
  return (
    secretHash(basic) === (await sha256Hex(saved.password)) &&
    secretHash(bearerCred) === (await sha256Hex(bearer.secret))
  )
}

/**
 * Creates the demo tenant, or reuses it: KV keeps only hashes, so the secrets live in a
 * git-ignored file; when that file is missing or stale, a new pair is minted (rotate).
 */
export async function ensureDemoTenant(
  ctx: CommandContext,
  file: string,
  appUrl?: string,
): Promise<{ creds: DemoCredentials; action: string; doc: TenantDocument }> {
  const saved = readJson<DemoCredentials>(file)
  let existing = await ctx.store.get(DEMO_TENANT)
  if (existing && appUrl && existing.appUrl === DEFAULT_APP_URL) {
    // A demo tenant made before the sink had its page: send accepted invites there too.
    existing = { ...existing, appUrl }
    await ctx.store.put(existing)
  }
  let secrets: MintedSecrets
  let doc: TenantDocument
  let action: string
  if (!existing) {
    ;({ doc, secrets } = await createTenant(ctx, { id: DEMO_TENANT, name: 'Demo', appUrl }))
    action = 'created'
  } else if (await demoSecretsValid(existing, saved)) {
    return { creds: { ...saved!, baseUrl: baseUrl(ctx.publicUrl, DEMO_TENANT) }, action: 'reused', doc: existing }
  } else {
    ;({ doc, secrets } = await rotateTenant(ctx, DEMO_TENANT))
    action = `new credentials minted: ${relative(REPO_ROOT, file)} was ${saved ? 'stale' : 'missing'}`
  }
  const creds: DemoCredentials = { tenantId: DEMO_TENANT, baseUrl: baseUrl(ctx.publicUrl, DEMO_TENANT), ...secrets }
  writeJson(file, creds)
  return { creds, action, doc }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

function writeJson(file: string, value: unknown) {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 })
}

/** What `.wrangler/dev-secrets.json` keeps for the local Worker. */
interface LocalSecrets {
  /** An app key allowed on every tenant, stored in local KV like any app key (`app-key create`). */
  APP_API_KEY: string
  MAIL_API_KEY: string
  INVITE_TOKEN_KEY: string
  /** The Worker's access token signing keys (a JWK set with private keys), made on the first run. */
  OAUTH_SIGNING_KEYS: string
}

/** True when `key` is an app key whose document in the store has its hash. */
async function appKeyStored(store: TenantStore, key: string | undefined): Promise<boolean> {
  const parsed = key ? parseAppKey(key) : undefined
  if (!parsed) return false
  const doc = parseAppKeyDocument((await store.records(APP_KEY_PREFIX).get(parsed.id)) ?? null)
  return doc?.secretSha256 === (await sha256Hex(parsed.secret))
}

/** Local secrets: the environment wins, else the values generated on the first run; the app key is minted into KV. */
async function localSecrets(store: TenantStore, file: string): Promise<LocalSecrets> {
  const saved = readJson<Partial<LocalSecrets>>(file) ?? {}
  let appKey = process.env.APP_API_KEY || saved.APP_API_KEY
  if (!(await appKeyStored(store, appKey))) {
    const minted = await mintAppKey(undefined, new Date())
    await store.records(APP_KEY_PREFIX).put(minted.doc.id, JSON.stringify(minted.doc))
    appKey = minted.key
  }
  const stored: LocalSecrets = {
    APP_API_KEY: appKey!,
    MAIL_API_KEY: saved.MAIL_API_KEY ?? `mail_${randomSecret()}`,
    INVITE_TOKEN_KEY: saved.INVITE_TOKEN_KEY ?? randomSecret(),
    OAUTH_SIGNING_KEYS:
      saved.OAUTH_SIGNING_KEYS ?? JSON.stringify({ keys: [await newSigningKey('ES256', new Date())] }),
  }
  if (JSON.stringify(saved) !== JSON.stringify(stored)) writeJson(file, stored)
  return {
    ...stored,
    MAIL_API_KEY: process.env.MAIL_API_KEY || stored.MAIL_API_KEY,
    INVITE_TOKEN_KEY: process.env.INVITE_TOKEN_KEY || stored.INVITE_TOKEN_KEY,
    OAUTH_SIGNING_KEYS: process.env.OAUTH_SIGNING_KEYS || stored.OAUTH_SIGNING_KEYS,
  }
}

/** Runs wrangler to completion with its output shown; rejects on a non-zero exit. */
function runWrangler(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    // stdin is not a TTY, so `d1 migrations apply` does not stop to ask for confirmation.
    const child = spawn(NODE_BIN, [WRANGLER_BIN, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: wranglerEnv(),
    })
    child.once('error', fail)
    child.once('exit', (code, signal) =>
      code === 0 ? done() : fail(new Error(`wrangler ${args.slice(0, 3).join(' ')} exited with ${signal ?? code}`)),
    )
  })
}

function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', () =>
      fail(new Error(`port ${port} (${what}) is already in use; stop the other process or set ${variable}`)),
    )
    probe.listen(port, '127.0.0.1', () => probe.close(() => done()))
  })
}

async function waitForWorker(url: string, child: ChildProcess, timeoutMs = 90_000): Promise<string[] | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      const body = (await res.json().catch(() => ({}))) as { warnings?: unknown }
      return Array.isArray(body.warnings) ? body.warnings.map(String) : []
    } catch {
      await new Promise((r) => setTimeout(r, 300))
    }
  }
  return undefined
}

async function main() {
  const { values } = parseArgs({ options: { 'persist-to': { type: 'string' } }, allowPositionals: false })
  const persistTo = values['persist-to'] ? resolve(values['persist-to']) : undefined
  const localDir = persistTo ?? join(REPO_ROOT, '.wrangler')
  const port = Number(process.env.PORT || 8787)
  const sinkPort = Number(process.env.MAIL_SINK_PORT || 8025)
  const localUrl = `http://127.0.0.1:${port}`
  // Behind a tunnel (README "Testing with a real Okta or Entra"), Base URLs and invite links use its URL.
  const publicUrl = publicUrlFrom(process.env.PUBLIC_URL) ?? localUrl
  const persistArgs = persistTo ? ['--persist-to', persistTo] : []

  await assertPortFree(port, 'the Worker', 'PORT')
  await assertPortFree(sinkPort, 'the mail sink', 'MAIL_SINK_PORT')

  console.log('▸ applying local D1 migrations')
  await runWrangler(['d1', 'migrations', 'apply', 'DB', '--local', ...persistArgs]).catch((error: Error) => {
    // Usually a migration in migrations/ was renamed or regenerated after the local DB applied the old one.
    const d1 = relative(REPO_ROOT, join(persistTo ?? join(REPO_ROOT, '.wrangler', 'state'), 'v3', 'd1'))
    throw new Error(
      `${error.message}. If migrations/ was regenerated, the local database is stale: delete ${d1} (local D1 data only) and run again`,
    )
  })

  console.log(`▸ checking the demo tenant "${DEMO_TENANT}"`)
  const store = createWranglerTenantStore({ remote: false, persistTo })
  const demoFile = join(localDir, 'demo-tenant.json')
  const demoCtx = { store, publicUrl, now: () => new Date() }
  // Accept on a demo invite ends on the sink's "you are in" page.
  const demo = await ensureDemoTenant(demoCtx, demoFile, `http://127.0.0.1:${sinkPort}/signed-in`)
  const { action, doc } = demo
  const creds = await ensureDemoOAuthClient(demoCtx, demoFile, demo.creds)
  const secrets = await localSecrets(store, join(localDir, 'dev-secrets.json'))

  const sink: MailSink = await startMailSink({ port: sinkPort })

  const wranglerArgs = [
    'dev',
    '--port',
    String(port),
    '--ip',
    '127.0.0.1',
    '--show-interactive-dev-session=false',
    TEST_SCHEDULED_FLAG,
    ...persistArgs,
    '--var',
    `PUBLIC_URL:${publicUrl}`,
    '--var',
    `MAIL_API_URL:${sink.url}/emails`,
    '--var',
    `INVITE_TOKEN_KEY:${secrets.INVITE_TOKEN_KEY}`,
    '--var',
    `MAIL_API_KEY:${secrets.MAIL_API_KEY}`,
    '--var',
    `OAUTH_SIGNING_KEYS:${secrets.OAUTH_SIGNING_KEYS}`,
  ]
  // Its own process group, so one kill reaches wrangler and the workerd it spawns.
  const dev = spawn(NODE_BIN, [WRANGLER_BIN, ...wranglerArgs], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: wranglerEnv(),
    detached: true,
  })
  const output = new BannerReprint()
  dev.stdout!.on('data', (chunk: Buffer) => output.write(process.stdout, chunk))
  dev.stderr!.on('data', (chunk: Buffer) => output.write(process.stderr, chunk))
  const serverFile = devServerFile(localDir)

  let stopping = false
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (dev.pid) process.kill(-dev.pid, signal)
    } catch {
      // The group is already gone.
    }
  }
  process.on('exit', () => {
    killGroup('SIGKILL')
    rmSync(serverFile, { force: true })
  })
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    console.log(`\n▸ ${signal}: stopping wrangler dev and the mail sink`)
    killGroup('SIGTERM')
    const forced = setTimeout(() => killGroup('SIGKILL'), 5000)
    await Promise.all([
      new Promise((r) => (dev.exitCode !== null || dev.signalCode !== null ? r(null) : dev.once('exit', r))),
      sink.close(),
    ])
    clearTimeout(forced)
    killGroup('SIGKILL') // workerd children that outlived wrangler
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGHUP', () => void stop('SIGHUP'))
  dev.once('exit', async (code, signal) => {
    if (stopping) return
    stopping = true
    console.error(`wrangler dev exited (${signal ?? code}); stopping the mail sink`)
    killGroup('SIGKILL')
    await sink.close()
    process.exit(code || 1)
  })

  const ready = await waitForWorker(`${localUrl}/health`, dev)
  if (stopping) return
  startLocalCron(localUrl)
  const rel = (p: string) => relative(REPO_ROOT, p) || p
  const bannerFile = join(localDir, 'banner.txt')
  const banner = [
    '',
    `scim-edge is ${ready ? 'running' : 'starting (the Worker did not answer /health yet)'} — Ctrl-C stops everything`,
    `  Worker:        ${localUrl}  (GET /health)${publicUrl === localUrl ? '' : `, public as ${publicUrl}`}`,
    `  Demo tenant:   ${creds.tenantId} (${action}${doc.status === 'disabled' ? ', DISABLED: npm run tenant -- enable demo' : ''})`,
    `  Base URL:      ${creds.baseUrl}`,
    `  Username:      ${creds.username}`,
    `  Password:      ${creds.password}`,
    `  Bearer token:  ${creds.bearerToken}`,
    `  OAuth client:  ${creds.oauthClientId}  secret ${creds.oauthClientSecret}`,
    `  Token URL:     ${tokenEndpoint(publicUrl, creds.tenantId)}  (client_secret_basic, grant_type=client_credentials)`,
    `  App key:       ${secrets.APP_API_KEY}  (APP_API_KEY for the app API and the CLI)`,
    `  Mail sink:     ${sink.url}/messages  (MAIL_API_URL=${sink.url}/emails)`,
    `  App URL:       ${doc.appUrl}  (where Accept on an invite leads)`,
    `  Kept in ${rel(demoFile)} and ${rel(join(localDir, 'dev-secrets.json'))} (git-ignored); this banner in ${rel(bannerFile)}.`,
    ...(ready ?? []).map((w) => `  warning: ${w}`),
    '',
  ].join('\n')
  writeFileSync(bannerFile, `${banner.trim()}\n`, { mode: 0o600 })
  // The CLI finds this Worker here, whatever PORT it was started with (src/dev/dev-server.ts).
  const server: DevServer = { pid: process.pid, url: localUrl, publicUrl, mailSink: sink.url }
  writeFileSync(serverFile, `${JSON.stringify(server, null, 2)}\n`, { mode: 0o600 })
  output.banner = banner
  console.log(banner)
}

/** PUBLIC_URL when set: an http(s) URL without a trailing slash; a bad value stops `npm start`. */
function publicUrlFrom(value: string | undefined): string | undefined {
  if (!value) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`PUBLIC_URL "${value}" is not a URL: use the tunnel's https://... address`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`PUBLIC_URL "${value}" must be an http(s) URL`)
  return value.replace(/\/+$/, '')
}

/**
 * Passes wrangler's output through and prints the banner again once it has scrolled away: after at
 * least {@link SCROLLED} lines of request logs, when the output has been quiet for {@link QUIET_MS}.
 */
class BannerReprint {
  static readonly SCROLLED = 30
  static readonly QUIET_MS = 5000
  banner: string | undefined
  private lines = 0
  private timer: NodeJS.Timeout | undefined

  write(stream: NodeJS.WriteStream, chunk: Buffer) {
    stream.write(chunk)
    if (!this.banner) return
    for (const byte of chunk) if (byte === 10) this.lines++
    clearTimeout(this.timer)
    if (this.lines < BannerReprint.SCROLLED) return
    this.timer = setTimeout(() => {
      this.lines = 0
      process.stdout.write(`${this.banner}\n`)
    }, BannerReprint.QUIET_MS)
    this.timer.unref()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  if (!existsSync(WRANGLER_BIN)) {
    console.error('error: wrangler is not installed; run npm install')
    process.exit(1)
  }
  main().catch((error) => {
    console.error(`error: ${(error as Error).message}`)
    process.exit(1)
  })
}
