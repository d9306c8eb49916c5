/**
 * `npm start` as a support engineer and an invitee meet it: started behind a (pretend) tunnel with
 * PUBLIC_URL, found by the CLI without PORT, one support session against it (create, set, user show
 * before and after the invite is accepted, log with the invite and the support action), the demo
 * flow ending on the sink's "you are in" page, the banner printed again after request logs, and
 * everything it recorded removed when it stops. Nothing leaves 127.0.0.1: the tunnel URL is only
 * what links and Base URLs start with.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { NODE_BIN, REPO_ROOT } from '../../src/tenants/kv-store.ts'
import { runCli, type Run } from './cli-harness.ts'
import { eventually, freePort } from './worker-server.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const TUNNEL = 'https://words-of-a-tunnel.trycloudflare.example'

let dir: string
let port: number
let sinkPort: number
let child: ChildProcess
let output = ''
const local = () => `http://127.0.0.1:${port}`
const cli = (...args: string[]): Promise<Run> => runCli([...args, '--as', 'dana'], { persistTo: dir })

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scim-edge-start-'))
  port = await freePort()
  sinkPort = await freePort()
  child = spawn(NODE_BIN, [join(REPO_ROOT, 'src/dev/start.ts'), '--persist-to', dir], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), MAIL_SINK_PORT: String(sinkPort), PUBLIC_URL: `${TUNNEL}/` },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (c: Buffer) => void (output += c.toString()))
  child.stderr!.on('data', (c: Buffer) => void (output += c.toString()))
  await eventually(() => (existsSync(join(dir, 'dev-server.json')) ? true : undefined), 'npm start', 150_000)
}, 180_000)

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGINT')
    await new Promise((r) => child.once('exit', r))
  }
  rmSync(dir, { recursive: true, force: true })
})

describe('npm start behind a tunnel, and a support session against it', () => {
  test('records where it runs; the banner file holds the tunnel Base URL and the demo app URL', () => {
    expect(JSON.parse(readFileSync(join(dir, 'dev-server.json'), 'utf8'))).toEqual({
      pid: child.pid,
      url: local(),
      publicUrl: TUNNEL,
      mailSink: `http://127.0.0.1:${sinkPort}`,
    })
    const banner = readFileSync(join(dir, 'banner.txt'), 'utf8')
    expect(banner).toContain(`Worker:        ${local()}  (GET /health), public as ${TUNNEL}`)
    expect(banner).toContain(`Base URL:      ${TUNNEL}/scim/v2/demo`)
    expect(banner).toContain(`Token URL:     ${TUNNEL}/oauth/demo/token`)
    expect(banner).toContain(`App URL:       http://127.0.0.1:${sinkPort}/signed-in`)
    expect(output).toContain(banner.trim())
  })

  test('create, set, user show before and after accepting, and the log: without PORT, through the running Worker', async () => {
    // create: the Base URL is the tunnel's, next steps go to stderr, and the journal took it.
    const made = await cli('create', 'acme', '--name', 'Acme Corp', '--json')
    expect(made.code, made.stderr).toBe(0)
    expect(made.json.baseUrl).toBe(`${TUNNEL}/scim/v2/acme`)
    expect(made.stderr).toMatch(/Okta/)
    expect(made.stderr).not.toMatch(/journal did not record/)

    const set = await cli('set', 'acme', '--invite-ttl-days', '3', '--json')
    expect(set.code, set.stderr).toBe(0)
    expect(set.json.changed).toEqual({ inviteTtlDays: 3 })
    expect(set.stderr).not.toMatch(/journal did not record/)

    // The IdP creates Ada through the Worker on 127.0.0.1 (the tunnel would forward there).
    const basic = `Basic ${btoa(`${made.json.username}:${made.json.password}`)}`
    const res = await fetch(`${local()}/scim/v2/acme/Users`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: [USER],
        userName: 'ada@acme.test',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [{ value: 'ada@acme.test', primary: true }],
      }),
    })
    expect(res.status).toBe(201)

    const before = await eventually(async () => {
      const run = await cli('user', 'show', 'acme', 'ada@acme.test', '--json')
      return run.json?.invites?.[0]?.status === 'sent' ? run : undefined
    }, 'the invite sent')
    expect(before.json.user).toMatchObject({ userName: 'ada@acme.test', active: true, state: 'invited' })
    expect(before.json.signIn.allowed).toBe(false)
    // The TTL just set applies: 3 days from sending.
    const invite = before.json.invites[0]
    expect(Date.parse(invite.expiresAt) - Date.parse(invite.sentAt)).toBe(3 * 86_400_000)

    // The mail's link starts with the tunnel URL; Accept leads to the sink's page.
    const mails = (await (await fetch(`http://127.0.0.1:${sinkPort}/messages`)).json()) as {
      to: string
      link: string
    }[]
    const link = mails.find((m) => m.to.includes('ada@acme.test'))!.link
    expect(link.startsWith(`${TUNNEL}/invite#`)).toBe(true)
    const accepted = await fetch(`${local()}/invite/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: link.split('#')[1]! }),
      redirect: 'manual',
    })
    expect(accepted.status).toBe(303)
    expect(accepted.headers.get('location')).toBe(`http://127.0.0.1:${sinkPort}/signed-in`)
    expect(await (await fetch(accepted.headers.get('location')!)).text()).toMatch(/You.re in/)

    const after = await cli('user', 'show', 'acme', 'ada@acme.test')
    expect(after.code, after.stderr).toBe(0)
    expect(after.stdout).toMatch(/joined/)
    expect(after.stdout).toMatch(/accepted/)
    const afterJson = await cli('user', 'show', 'acme', 'ada@acme.test', '--json')
    expect(afterJson.json.user.state).toBe('joined')
    expect(afterJson.json.signIn.allowed).toBe(true)

    const log = await cli('log', 'acme')
    expect(log.code, log.stderr).toBe(0)
    expect(log.stdout).toMatch(/ada@acme\.test/)
    expect(log.stdout).toMatch(/invite/)
    expect(log.stdout).toMatch(/support:dana/)
    expect(log.stdout).toMatch(/inviteTtlDays=3/)
  }, 120_000)

  test('the banner comes back once request logs have pushed it away', async () => {
    const title = 'scim-edge is running'
    const seen = output.split(title).length - 1
    for (let i = 0; i < 40; i++) await (await fetch(`${local()}/health`)).arrayBuffer()
    await eventually(() => (output.split(title).length - 1 > seen ? true : undefined), 'the banner again', 30_000)
    expect(output.slice(output.lastIndexOf(title))).toContain(`Base URL:      ${TUNNEL}/scim/v2/demo`)
  }, 60_000)

  test('Ctrl-C stops it and removes what the CLI would find', async () => {
    child.kill('SIGINT')
    const code = await new Promise((r) => child.once('exit', (c) => r(c)))
    expect(code).toBe(130)
    expect(existsSync(join(dir, 'dev-server.json'))).toBe(false)
    const after = await cli('user', 'show', 'acme', 'ada@acme.test', '--json')
    expect(after.code).toBe(1)
    expect(after.json.error).toMatch(/cannot reach http:\/\/127\.0\.0\.1:8787/)
  }, 30_000)
})
