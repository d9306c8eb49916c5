/**
 * The invite page. Links look like `{PUBLIC_URL}/invite#{token}`: the token is in the fragment, which
 * browsers never send, so no request line or log holds it. `GET /invite` serves a shell whose inline
 * script takes the token out of the address bar and posts it in a form body to `POST /invite/status`,
 * which shows the app, the tenant and the person with one button; that button posts the token to
 * `POST /invite/accept`, which marks the person joined and sends them on to the tenant's app (303).
 * Every dead link gets its own page and status, never a stack trace. Old links (`/invite/{token}`)
 * are moved into the fragment with a 303. Every route is rate limited per client address.
 */
import { Hono } from 'hono'
import type { Child } from 'hono/jsx'
import { acceptInvite, inviteStatus, type DeadReason, type InviteLookup } from '../invites/accept.ts'
import { personName } from '../invites/consumer.ts'
import { appUser } from '../lifecycle/access.ts'
import { log } from '../observability/log.ts'
import { systemScope, systemTenantScopes } from '../runtime/scopes.ts'
import { appName } from '../runtime/settings.ts'
import type { PageContext, PageEnv } from './context.ts'
import { appHost, expiryText, Layout, tenantBrand } from './invite-layout.tsx'
import { clientAddress, RETRY_AFTER_SECONDS } from './rate-limit.ts'

/** Each dead link: its status, heading and what the person can do. */
const DEAD: Record<
  DeadReason | 'error' | 'busy',
  { status: 403 | 404 | 410 | 429 | 503; title: string; body: string }
> = {
  unknown: {
    status: 404,
    title: 'This invite link is not valid',
    body: 'The link may be mistyped or incomplete. Open it again from the invitation email, or ask your administrator for a new invite.',
  },
  expired: {
    status: 410,
    title: 'This invite has expired',
    body: 'Invite links only work for a limited time. Ask your administrator to send you a new invite.',
  },
  used: {
    status: 410,
    title: 'This invite has already been used',
    body: 'You have already accepted this invitation. Sign in to the app directly.',
  },
  revoked: {
    status: 410,
    title: 'This invite was withdrawn',
    body: 'A newer invite replaced this one, or it was cancelled. Use the most recent invitation email, or ask your administrator.',
  },
  deactivated: {
    status: 403,
    title: 'Your access has been turned off',
    body: 'Your account was deactivated by your organisation, so this invite no longer works. Contact your administrator if you think this is a mistake.',
  },
  deleted: {
    status: 410,
    title: 'This account no longer exists',
    body: 'Your organisation removed this account, so this invite no longer works.',
  },
  'tenant-disabled': {
    status: 403,
    title: 'This organisation is not available',
    body: "Your organisation's access is suspended at the moment. Please contact your administrator.",
  },
  busy: {
    status: 429,
    title: 'Too many attempts',
    body: 'This page was opened too often from your network just now. Wait a few seconds, then open the link from the invitation email again.',
  },
  error: {
    status: 503,
    title: 'Something went wrong',
    body: 'We could not handle this invite just now. Nothing was changed; please try again in a minute.',
  },
}

/** An HTML response in standards mode (JSX renders no doctype). */
function html(c: PageContext, node: Child, status: 200 | 403 | 404 | 410 | 429 | 503 = 200) {
  return c.html(`<!doctype html>${String(node)}`, status)
}

/**
 * Headers of every invite page: never cached, no Referer, never framed, and a policy that runs no
 * script but the one carrying `nonce` (when given), loads images only over https and only when the
 * page shows a logo, and submits forms only here and to the app.
 */
function securityHeaders(c: PageContext, options: { appUrl?: string; nonce?: string; images?: boolean } = {}) {
  let formAction = "'self'"
  try {
    // A form's redirect target must be allowed too: the accept button ends at the app.
    if (options.appUrl) formAction += ` ${new URL(options.appUrl).origin}`
  } catch {}
  const script = options.nonce ? `'nonce-${options.nonce}'` : "'none'"
  c.header('Cache-Control', 'no-store')
  c.header('Referrer-Policy', 'no-referrer')
  c.header('X-Content-Type-Options', 'nosniff')
  c.header(
    'Content-Security-Policy',
    `default-src 'none'; script-src ${script}; style-src 'unsafe-inline'; img-src ${options.images ? 'https:' : "'none'"}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  )
}

function deadPage(c: PageContext, reason: DeadReason | 'error' | 'busy', appUrl?: string) {
  const page = DEAD[reason]
  securityHeaders(c)
  return html(
    c,
    <Layout title={page.title}>
      <h1>{page.title}</h1>
      <p>{page.body}</p>
      {reason === 'used' && appUrl ? (
        <p>
          <a href={appUrl}>Go to the app</a>
        </p>
      ) : null}
    </Layout>,
    page.status,
  )
}

function failure(c: PageContext, error: unknown) {
  log('error', 'invite_page_error', { requestId: c.get('requestId'), message: (error as Error).message?.slice(0, 500) })
  return deadPage(c, 'error')
}

/** Where the page looks tokens up: across tenants, then in the token's tenant. */
function lookup(c: PageContext): InviteLookup {
  const requestId = c.get('requestId')
  return {
    system: systemScope(c.env, { requestId }),
    scope: systemTenantScopes(c.env, { task: 'invite-page', requestId }),
  }
}

/** Bodies longer than this carry no token (a token is 43 characters). */
const MAX_BODY = 2048

/** The token from a form (`token=...`) or JSON (`{"token":"..."}`) body; empty when there is none. */
async function bodyToken(c: PageContext): Promise<string> {
  try {
    if (Number(c.req.header('content-length') ?? 0) > MAX_BODY) return ''
    // Bytes, not text(): workerd warns when a form body is read as text.
    const bytes = await c.req.arrayBuffer()
    if (bytes.byteLength > MAX_BODY) return ''
    const text = new TextDecoder().decode(bytes)
    if ((c.req.header('content-type') ?? '').includes('json')) {
      const body = JSON.parse(text) as { token?: unknown } | null
      return typeof body?.token === 'string' ? body.token : ''
    }
    return new URLSearchParams(text).get('token') ?? ''
  } catch {
    return ''
  }
}

/**
 * Runs on `GET /invite`: takes the token from the fragment, removes it from the address bar and the
 * history entry, and posts it in the body of the hidden form.
 */
const OPEN_SCRIPT = `(function () {
  var token = ''
  try { token = decodeURIComponent(location.hash.slice(1)) } catch (e) {}
  history.replaceState(null, '', location.pathname + location.search)
  var form = document.getElementById('invite-open')
  form.elements.namedItem('token').value = token
  form.submit()
})()`

/** A fresh nonce for the one inline script of a response. */
function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18))
  return btoa(String.fromCharCode(...bytes))
}

export const invitePage = new Hono<PageEnv>()

// Per client address, with the INVITE_RATE_LIMITER binding when the Worker has one; unlimited without.
invitePage.use(async (c, next) => {
  const limiter = (c.env as unknown as Record<string, RateLimit | undefined>).INVITE_RATE_LIMITER
  if (limiter && typeof limiter.limit === 'function') {
    const { success } = await limiter.limit({ key: clientAddress(c) })
    if (!success) {
      log('warn', 'invite_rate_limited', { requestId: c.get('requestId') })
      c.header('Retry-After', String(RETRY_AFTER_SECONDS))
      return deadPage(c, 'busy')
    }
  }
  await next()
})

/** The shell: the script moves the token from the fragment into a POST to /invite/status. */
invitePage.get('/', (c) => {
  const nonce = newNonce()
  securityHeaders(c, { nonce })
  return html(
    c,
    <Layout title="Your invitation" script={{ nonce, source: OPEN_SCRIPT }}>
      <h1>Opening your invitation…</h1>
      <noscript>
        <p>
          This page needs JavaScript to open your invitation. Turn JavaScript on for this site, then open the link from
          the invitation email again.
        </p>
      </noscript>
      <form id="invite-open" method="post" action="/invite/status">
        <input type="hidden" name="token" value="" />
      </form>
    </Layout>,
  )
})

/** Who is invited and whether the link still works; an open invite gets the accept button. */
invitePage.post('/status', async (c) => {
  try {
    const token = await bodyToken(c)
    const status = await inviteStatus(lookup(c), token)
    if (status.kind === 'dead') return deadPage(c, status.reason, status.tenant?.appUrl)
    const person = appUser(status.user)
    const app = appName(c.env, status.tenant)
    const title = `Join ${app} at ${status.tenant.name}`
    const brand = tenantBrand(status.tenant)
    const host = appHost(status.tenant.appUrl)
    const expiresAt = status.invite.expiresAt! // an open invite has one (inviteStatus)
    securityHeaders(c, { appUrl: status.tenant.appUrl, images: Boolean(brand.logoUrl) })
    return html(
      c,
      <Layout title={title} brand={brand}>
        <h1>{title}</h1>
        <p>
          {status.tenant.name} has given you access to {app}. Check that this is you, then accept the invitation.
        </p>
        <dl>
          <dt>Name</dt>
          <dd>{personName(status.user.resource)}</dd>
          <dt>Sign-in name</dt>
          <dd>{person.userName}</dd>
          {person.email ? (
            <>
              <dt>Email</dt>
              <dd>{person.email}</dd>
            </>
          ) : null}
          <dt>Organisation</dt>
          <dd>{status.tenant.name}</dd>
          <dt>Invite expires</dt>
          <dd>
            <time datetime={expiresAt}>{expiryText(expiresAt)}</time>
          </dd>
        </dl>
        <form method="post" action="/invite/accept">
          <input type="hidden" name="token" value={token} />
          <button type="submit">Accept invitation</button>
        </form>
        {host ? (
          <p class="where">
            Accepting takes you to <strong>{host}</strong>.
          </p>
        ) : null}
        <p class="note">Not you? Close this page; nothing happens until you accept.</p>
      </Layout>,
    )
  } catch (error) {
    return failure(c, error)
  }
})

/** Accepts the invite whose token is in the body and redirects to the tenant's app. */
invitePage.post('/accept', async (c) => {
  try {
    const result = await acceptInvite(lookup(c), await bodyToken(c))
    if (!result.ok) return deadPage(c, result.status.reason, result.status.tenant?.appUrl)
    log('info', 'invite_accepted', {
      requestId: c.get('requestId'),
      tenantId: result.tenant.id,
      userId: result.user.id,
      again: result.alreadyAccepted,
    })
    c.header('Cache-Control', 'no-store')
    c.header('Referrer-Policy', 'no-referrer')
    return c.redirect(result.tenant.appUrl, 303)
  } catch (error) {
    return failure(c, error)
  }
})

/** Reloading a status page by its address (a GET) starts over at the shell, which asks for the link again. */
invitePage.on('GET', ['/status', '/accept'], (c) => {
  c.header('Cache-Control', 'no-store')
  return c.redirect('/invite', 303)
})

/**
 * Links sent before the token moved into the fragment, and accept buttons of pages opened before then:
 * both go to the shell with the token in the fragment, where the person sees the page and accepts there.
 * Nothing is looked up or accepted through a path.
 */
invitePage.on(['GET', 'POST'], '/:token', (c) => {
  c.header('Cache-Control', 'no-store')
  c.header('Referrer-Policy', 'no-referrer')
  return c.redirect(`/invite#${encodeURIComponent(c.req.param('token'))}`, 303)
})
