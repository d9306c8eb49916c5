/**
 * Invite links keep their token out of URLs and logs: the new flow requests only `/invite`,
 * `/invite/status` and `/invite/accept` with the token in the body, and no log line holds it.
 * Also: the shell's Content-Security-Policy runs only its own nonce'd script, IdP text is escaped,
 * and the page is rate limited per client address with INVITE_RATE_LIMITER when that binding exists.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp } from '../../src/app.ts'
import { consume, consumerDeps, newSink, userWithInvite } from '../invites/helpers.ts'
import { newTenant } from '../helpers/tenant.ts'

const app = createApp()

/** The token of a mail's link: its fragment, or its path while the consumer still sends `/invite/{token}`. */
function linkToken(link: string): string {
  const url = new URL(link)
  return decodeURIComponent(url.pathname === '/invite' ? url.hash.slice(1) : url.pathname.replace(/^\/invite\//, ''))
}

/** One request to the app with `bindings` over the test env. */
async function request(path: string, init: RequestInit = {}, bindings: Record<string, unknown> = {}) {
  const ctx = createExecutionContext()
  const res = await app.fetch(
    new Request(`${env.PUBLIC_URL}${path}`, { redirect: 'manual', ...init }),
    { ...env, ...bindings },
    ctx,
  )
  await waitOnExecutionContext(ctx)
  return res
}

const form = (token: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ token }).toString(),
})

/** A limiter that records the keys it was asked about and answers `success`. */
function fakeLimiter(success: boolean) {
  const keys: string[] = []
  return { keys, binding: { limit: async ({ key }: { key: string }) => (keys.push(key), { success }) } }
}

async function invitedToken(userName: string, extra: Record<string, unknown> = {}) {
  const tenant = await newTenant({ appUrl: 'https://app.example.com/in' })
  const sink = await newSink()
  const { user, invite } = await userWithInvite(tenant, userName, extra)
  await consume(consumerDeps(sink.url), [{ v: 2, tenantKey: tenant.key, inviteId: invite.id }])
  const [mail] = await sink.messages()
  return { tenant, user, token: linkToken(mail!.link!) }
}

afterEach(() => vi.restoreAllMocks())

describe('the token stays out of URLs and logs', () => {
  it('a whole flow (shell, status, accept) logs no token and requests no URL holding it', async () => {
    const { token } = await invitedToken('quiet@example.com')
    const lines: string[] = []
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')))
    }
    const urls: string[] = []
    const go = async (path: string, init?: RequestInit) => (urls.push(path), request(path, init))
    expect((await go('/invite')).status).toBe(200)
    expect((await go('/invite/status', form(token))).status).toBe(200)
    const accepted = await go('/invite/accept', form(token))
    expect(accepted.status).toBe(303)
    expect(accepted.headers.get('location')).toBe('https://app.example.com/in')
    vi.restoreAllMocks()
    expect(lines.filter((l) => l.includes('"event":"request"'))).toHaveLength(3)
    expect(lines.join('\n')).not.toContain(token)
    expect(urls.join('\n')).not.toContain(token)
  })

  it('the shell is the same for every token: the server never sees the fragment', async () => {
    const a = await (await request('/invite')).text()
    const b = await (await request('/invite')).text()
    const strip = (html: string) => html.replace(/nonce="[^"]+"/, '')
    expect(strip(a)).toBe(strip(b))
  })
})

describe('Content-Security-Policy', () => {
  it('the shell runs only its own inline script, by a fresh nonce', async () => {
    const first = await request('/invite')
    const second = await request('/invite')
    const nonceOf = async (res: Response) => {
      const csp = res.headers.get('content-security-policy')!
      const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1]
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/)
      const html = await res.text()
      expect(html.match(/<script/g)).toHaveLength(1)
      expect(html).toContain(`<script nonce="${nonce}">`)
      return nonce
    }
    const [one, two] = [await nonceOf(first), await nonceOf(second)]
    expect(one).toBeTruthy()
    expect(one).not.toBe(two)
  })

  it('pages with IdP text run no script at all and escape it', async () => {
    const { token } = await invitedToken('x@example.com', {
      displayName: '<script>alert(1)</script>',
      name: { givenName: '<img src=x onerror=alert(1)>', familyName: '"quoted"' },
    })
    const res = await request('/invite/status', form(token))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'none'")
    expect(res.headers.get('content-security-policy')).toContain("form-action 'self' https://app.example.com")
    const html = await res.text()
    expect(html).not.toMatch(/<script|<img/)
    expect(html).toContain('&lt;')
  })
})

describe('rate limiting per client address (INVITE_RATE_LIMITER)', () => {
  it('answers 429 with Retry-After once the binding says no, keyed by cf-connecting-ip', async () => {
    const limiter = fakeLimiter(false)
    for (const path of ['/invite', '/invite/status', '/invite/accept', '/invite/AAAA']) {
      const res = await request(
        path,
        { method: path === '/invite' ? 'GET' : 'POST', headers: { 'cf-connecting-ip': '203.0.113.7' } },
        { INVITE_RATE_LIMITER: limiter.binding },
      )
      expect(res.status).toBe(429)
      expect(res.headers.get('retry-after')).toBe('10')
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await res.text()).toContain('<h1>Too many attempts</h1>')
    }
    expect(limiter.keys).toEqual(['203.0.113.7', '203.0.113.7', '203.0.113.7', '203.0.113.7'])
  })

  it("counts requests without an address under 'local', and lets them through while the binding allows", async () => {
    const limiter = fakeLimiter(true)
    const res = await request('/invite', {}, { INVITE_RATE_LIMITER: limiter.binding })
    expect(res.status).toBe(200)
    expect(limiter.keys).toEqual(['local'])
  })

  it('does not limit when the binding is absent', async () => {
    for (let i = 0; i < 20; i++) {
      expect((await request('/invite', {}, { INVITE_RATE_LIMITER: undefined })).status).toBe(200)
    }
  })

  it('the SCIM and app routes are not counted against the invite limiter', async () => {
    const limiter = fakeLimiter(false)
    const res = await request('/health', {}, { INVITE_RATE_LIMITER: limiter.binding })
    expect(res.status).toBe(200)
    expect(limiter.keys).toEqual([])
  })
})
