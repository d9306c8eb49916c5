import { Hono } from 'hono'
import { log } from './observability/log.ts'
import { readinessWarnings } from './runtime/readiness.ts'
import { appApi } from './routes/app-api.ts'
import type { RootEnv, ScopedEnv } from './routes/context.ts'
import { discovery } from './routes/discovery.ts'
import { onError, onNotFound } from './routes/errors.ts'
import { groups } from './routes/groups.ts'
import { invitePage } from './routes/invite.tsx'
import { journal } from './routes/journal.ts'
import { oauth } from './routes/oauth.ts'
import { rateLimit } from './routes/rate-limit.ts'
import { requireTenant } from './routes/scim-auth.ts'
import { users } from './routes/users.ts'
import { bulk } from './routes/bulk.ts'
import { catalog } from './routes/catalog.ts'
import { MethodNotAllowed, NotImplemented } from './scim/errors.ts'
import { searchAll } from './provisioning/search-root.ts'
import { scimList, searchParams } from './routes/http.ts'

/** The Hono app: SCIM for IdPs, the invite page, the app-facing API and /health. */
export function createApp() {
  const app = new Hono<RootEnv>()
  app.use(async (c, next) => {
    // The request id is always ours: a client-sent cf-ray is logged beside it, never trusted as the id.
    const requestId = crypto.randomUUID()
    const cfRay = c.req.header('cf-ray')?.slice(0, 64)
    const started = Date.now()
    c.set('requestId', requestId)
    await next()
    c.header('X-Request-Id', requestId)
    // The path only (query strings carry filters with userNames and emails), invite tokens cut off.
    log('info', 'request', {
      requestId,
      ...(cfRay === undefined ? {} : { cfRay }),
      method: c.req.method,
      path: loggedPath(new URL(c.req.url).pathname),
      status: c.res.status,
      ms: Date.now() - started,
      tenantId: c.get('scope')?.tenant.id,
    })
  })
  // `warnings` names missing secrets and bindings (npm start prints them); it never holds a value.
  app.get('/health', (c) => c.json({ ok: true, warnings: readinessWarnings(c.env) }))

  const scim = new Hono<ScopedEnv>()
  scim.use(requireTenant, rateLimit, journal)
  scim.route('/', discovery)
  scim.route('/Users', users)
  scim.route('/Groups', groups)
  scim.route('/Bulk', bulk)
  scim.post('/.search', async (c) => scimList(await searchAll(c.var.scope, await searchParams(c))))
  scim.all('/.search', (c) => {
    throw new MethodNotAllowed(c.req.method, ['POST'])
  })
  scim.all('/Me', () => {
    throw new NotImplemented('/Me is not supported: scim-edge serves identity providers, not end users')
  })
  // Last: the catalogue's endpoints are whatever types the tenant declared (/Roles, /Licenses, ...).
  scim.route('/', catalog)
  app.route('/scim/v2/:tenant', scim)
  app.route('/invite', invitePage)
  app.route('/app/v1/:tenant', appApi)
  app.route('/', oauth)

  app.onError(onError)
  app.notFound(onNotFound)
  return app
}

/** A request path as logged: anything below /invite/ is an invite token and becomes `…`. */
export function loggedPath(pathname: string): string {
  return /^\/+invite\//i.test(pathname) ? '/invite/…' : pathname.slice(0, 300)
}
