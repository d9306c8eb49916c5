/**
 * The Worker served over HTTP on 127.0.0.1 for node-side tests (a browser needs a real server):
 * `wrangler dev` on a free port with its own temporary state, the migrations applied, tenants put
 * in KV beforehand, and a mail sink (src/dev/mail-sink.ts) as the mail API. Nothing leaves 127.0.0.1.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalCron, TEST_SCHEDULED_FLAG } from '../../src/dev/local-cron.ts'
import { startMailSink, type MailSink } from '../../src/dev/mail-sink.ts'
import { tenantDocumentKey, type TenantSettings, type WebhookConfig } from '../../src/tenants/document.ts'
import { NODE_BIN, REPO_ROOT, WRANGLER_BIN } from '../../src/tenants/kv-store.ts'
import { newTenantDocument } from '../../src/tenants/mint.ts'
import { appKeyDocumentKey } from '../../src/tenants/app-keys.ts'
import { sha256Hex } from '../../src/tenants/secrets.ts'
import { exportJWK, generateKeyPair } from 'jose'

/** An app key allowed on every tenant; its document goes into KV with the tenants. */
export const APP_API_KEY = 'sea_anodetestkey2345_node-test-app-key-secret-0123'
const APP_KEY_ID = 'anodetestkey2345'

/** A tenant to create before the Worker starts. */
export interface TenantSpec {
  appUrl: string
  name?: string
  settings?: TenantSettings
  /** Webhooks of the tenant's document. */
  webhooks?: WebhookConfig[]
}

export interface TestWorker {
  url: string
  sink: MailSink
  /**
   * The tenants asked for, in order: id and a Basic Authorization header; also the Basic password and
   * the bearer token (`Authorization: Bearer {bearerToken}`) for tests that use or look for them.
   */
  tenants: { id: string; basic: string; password?: string; bearerToken?: string }[]
  /** The Worker's local state directory: `--persist-to` for CLI runs against the same KV and D1. */
  persistTo: string
  /** Everything the wrangler dev process (wrangler and the Worker) printed so far, stdout and stderr. */
  output(): string
  close(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

const wranglerEnv = () => ({
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
})

function wrangler(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      NODE_BIN,
      [WRANGLER_BIN, ...args],
      { cwd: REPO_ROOT, env: wranglerEnv(), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`wrangler ${args.slice(0, 3).join(' ')} failed: ${stderr || stdout}`)) : resolve(),
    )
  })
}

/** Starts the Worker with `tenants` in KV; `close()` stops it and removes its state. */
export async function startTestWorker(
  specs: TenantSpec[],
  /** cron: fire the scheduled handler each minute, as `npm start` and production do. */
  options: { vars?: Record<string, string>; cron?: boolean } = {},
): Promise<TestWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-edge-worker-'))
  const persist = ['--persist-to', join(dir, 'state')]
  const sink = await startMailSink({ port: 0, log: false })
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`

  await wrangler(['d1', 'migrations', 'apply', 'DB', '--local', ...persist])
  const tenants: TestWorker['tenants'] = []
  const entries: { key: string; value: string }[] = []
  for (const [i, spec] of specs.entries()) {
    const id = `node-${Date.now().toString(36)}-${i}`
    const { doc, secrets } = await newTenantDocument(
      { id, name: spec.name ?? `Tenant ${id}`, appUrl: spec.appUrl, settings: spec.settings },
      new Date(),
    )
    if (spec.webhooks) doc.webhooks = spec.webhooks
    entries.push({ key: tenantDocumentKey(id), value: JSON.stringify(doc) })
    tenants.push({
      id,
      basic: `Basic ${Buffer.from(`${secrets.username}:${secrets.password}`).toString('base64')}`,
      password: secrets.password,
      bearerToken: secrets.bearerToken,
    })
  }
  const appKeySecret = APP_API_KEY.slice(`sea_${APP_KEY_ID}_`.length)
  entries.push({
    key: appKeyDocumentKey(APP_KEY_ID),
    value: JSON.stringify({
      v: 1,
      id: APP_KEY_ID,
      secretSha256: await sha256Hex(appKeySecret),
      createdAt: new Date().toISOString(),
    }),
  })
  if (entries.length) {
    writeFileSync(join(dir, 'tenants.json'), JSON.stringify(entries))
    await wrangler(['kv', 'bulk', 'put', join(dir, 'tenants.json'), '--binding', 'TENANTS', '--local', ...persist])
  }

  // A signing key made for this run (the OAuth token endpoint needs one; nothing is committed).
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), kid: `node-test-${port}`, alg: 'ES256', use: 'sig' }
  const vars = {
    PUBLIC_URL: url,
    OAUTH_SIGNING_KEYS: JSON.stringify({ keys: [signingKey] }),
    MAIL_API_URL: `${sink.url}/emails`,
    INVITE_TOKEN_KEY: 'node-test-invite-token-key',
    MAIL_API_KEY: 'node-test-mail-key',
    ...options.vars,
  }
  const args = [
    'dev',
    '--port',
    String(port),
    '--ip',
    '127.0.0.1',
    '--show-interactive-dev-session=false',
    ...(options.cron ? [TEST_SCHEDULED_FLAG] : []),
    ...persist,
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ]
  let output = ''
  // Its own process group, so one kill reaches wrangler and the workerd it spawns.
  const dev: ChildProcess = spawn(NODE_BIN, [WRANGLER_BIN, ...args], {
    cwd: REPO_ROOT,
    env: wranglerEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  dev.stdout!.on('data', (c: Buffer) => (output += c.toString()))
  dev.stderr!.on('data', (c: Buffer) => (output += c.toString()))
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (dev.pid) process.kill(-dev.pid, signal)
    } catch {}
  }
  const stop = async () => {
    kill('SIGTERM')
    await new Promise((r) =>
      dev.exitCode !== null || dev.signalCode !== null ? r(null) : (dev.once('exit', r), setTimeout(r, 5000)),
    )
    kill('SIGKILL')
  }

  const deadline = Date.now() + 90_000
  for (;;) {
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) break
    } catch {}
    if (dev.exitCode !== null || Date.now() > deadline) {
      await stop()
      await sink.close()
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`wrangler dev did not come up on ${url}:\n${output.slice(-3000)}`)
    }
    await new Promise((r) => setTimeout(r, 300))
  }
  const stopCron = options.cron ? startLocalCron(url) : () => {}

  return {
    url,
    sink,
    tenants,
    persistTo: join(dir, 'state'),
    output: () => output,
    async close() {
      stopCron()
      await stop()
      await sink.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Polls until `check` returns a value. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
