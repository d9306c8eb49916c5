/**
 * The app-facing API, `/app/v1/{tenant}/...`: the questions the Directory RPC answers, over HTTP for
 * apps that are not Workers. `Authorization: Bearer <app key>` (src/tenants/app-keys.ts).
 */
import { Hono } from 'hono'
import { authenticateApp } from '../auth/app-key.ts'
import { createMiddleware } from 'hono/factory'
import { acknowledgeEvent, readFeed } from '../provisioning/event-feed.ts'
import { reenableWebhook, testWebhook, webhookStatus } from '../webhooks/admin.ts'
import { webhookDeps } from '../runtime/scopes.ts'
import { readTenantJournal } from '../provisioning/journal.ts'
import { acceptInvite } from '../invites/accept.ts'
import { reinvite } from '../invites/reinvite.ts'
import { appUser, canSignIn, type Who } from '../lifecycle/access.ts'
import { log } from '../observability/log.ts'
import { canonicalizeTenant } from '../provisioning/canonicalize.ts'
import { listCatalog, putCatalogEntry, removeCatalogEntry, setTenantSeats } from '../provisioning/catalog.ts'
import { createScimGroup } from '../provisioning/groups.ts'
import { createScimUser, requireUser } from '../provisioning/users.ts'
import { activeTenantScope, findTenant, systemScope, tenantScope } from '../runtime/scopes.ts'
import { InvalidValue, NotFound, ScimError } from '../scim/errors.ts'
import { findUsers, userReport } from '../provisioning/user-report.ts'
import { recordSupportAction } from '../provisioning/journal.ts'
import { forgetTenant } from '../tenants/load.ts'
import { isObject } from '../scim/resource/values.ts'
import type { ScopedContext, ScopedEnv } from './context.ts'
import { readScimJson } from './http.ts'
import { tooManyRequests, withinLimit } from './rate-limit.ts'

/** Requests an app key may make per 10 s on one tenant (the APP_RATE_LIMITER binding in wrangler.toml). */
const APP_LIMITER = 'APP_RATE_LIMITER'

const requireApp = createMiddleware<ScopedEnv>(async (c, next) => {
  const tenantId = c.req.param('tenant') ?? ''
  const result = await authenticateApp(c.env.TENANTS, tenantId, c.req.header('authorization'))
  if (!result.ok) {
    log('warn', 'app_auth_failed', { requestId: c.get('requestId'), keyId: result.keyId, reason: result.reason })
    // The app API speaks of app keys, never of the IdP's Basic or bearer credentials.
    throw new ScimError(
      401,
      `This request needs an app key allowed on tenant ${tenantId.slice(0, 63)}: Authorization: Bearer sea_{id}_{secret}. Support makes one with npm run tenant -- app-key create; a revoked key stops within a minute.`,
      undefined,
      { 'WWW-Authenticate': 'Bearer realm="scim-edge app API"' },
    )
  }
  const keyId = result.key.id
  if (!(await withinLimit(c.env, APP_LIMITER, `${keyId}:${tenantId}`))) {
    log('warn', 'rate_limited', { requestId: c.get('requestId'), keyId, tenantId })
    throw tooManyRequests('for this app key')
  }
  const origin = { method: c.req.method, path: new URL(c.req.url).pathname.slice(0, 300) }
  const operator = operatorOf(c.req.header('x-operator'))
  const request = {
    actor: { kind: 'app' as const, keyId, ...(operator ? { operator } : {}) },
    requestId: c.get('requestId'),
    origin,
  }
  // Support (the CLI names its operator) also looks at and fixes disabled tenants; apps only reach active ones.
  if (operator) {
    const tenant = await findTenant(c.env, tenantId)
    if (!tenant) throw new NotFound(`No such tenant: ${tenantId.slice(0, 63)}`)
    c.set('scope', tenantScope(c.env, tenant, request))
  } else {
    c.set('scope', await activeTenantScope(c.env, tenantId, request))
  }
  await next()
})

/** The operator the CLI names in `X-Operator` (its `--as`, else the OS user): printable, at most 64 characters. */
function operatorOf(header: string | undefined): string | undefined {
  const name = header?.trim()
  if (!name) return undefined
  if (!/^[\x21-\x7e][\x20-\x7e]{0,63}$/.test(name))
    throw new InvalidValue('X-Operator must be a name of at most 64 printable ASCII characters')
  return name
}

/** Support routes need the operator's name: the journal says who acted. */
function requireOperator(c: ScopedContext): string {
  const actor = c.var.scope.actor
  if (actor.kind !== 'app' || !actor.operator)
    throw new ScimError(
      403,
      'Support routes need an X-Operator header naming who acts (npm run tenant -- ... --as NAME)',
    )
  return actor.operator
}

/** `?userName=` or `?email=` (exactly one), or the same keys of a JSON body. */
function who(source: Record<string, unknown>): Who {
  const { userName, email } = source
  if (typeof userName === 'string' && userName && email === undefined) return { userName }
  if (typeof email === 'string' && email && userName === undefined) return { email }
  throw new InvalidValue('Name the person with exactly one of userName or email')
}

async function jsonBody(c: ScopedContext): Promise<Record<string, unknown>> {
  const body = await readScimJson(c)
  if (!isObject(body)) throw new InvalidValue('The body must be a JSON object')
  return body
}

export const appApi = new Hono<ScopedEnv>()
appApi.use(requireApp)

/** May this person sign in? `{ allowed, state, userId }`. */
appApi.get('/access', async (c) => c.json(await canSignIn(c.var.scope, who(c.req.query()))))

appApi.get('/users/:id', async (c) => c.json(appUser(await requireUser(c.var.scope, c.req.param('id')))))

/** A user made by the app before any IdP knew them (source "app", joined): an IdP import finds them by userName or email. */
appApi.post('/users', async (c) => c.json(appUser(await createScimUser(c.var.scope, await jsonBody(c))), 201))

appApi.post('/groups', async (c) => {
  const group = await createScimGroup(c.var.scope, await jsonBody(c))
  return c.json(
    {
      id: group.id,
      displayName: group.resource.displayName,
      memberCount: group.memberCount,
      source: group.source,
      createdAt: group.createdAt,
    },
    201,
  )
})

/** For apps that host their own invite page: accept a token, get the person and where to send them. */
appApi.post('/invites/accept', async (c) => {
  const { token } = await jsonBody(c)
  if (typeof token !== 'string') throw new InvalidValue('token must be a string')
  const scope = c.var.scope
  // Only this tenant's invites: another tenant's token is unknown here and is not touched.
  const lookup = {
    system: systemScope(c.env, { requestId: scope.requestId }),
    scope: async (key: string) => (key === scope.tenantKey ? scope : undefined),
  }
  const result = await acceptInvite(lookup, token)
  if (!result.ok || result.tenant.id !== scope.tenant.id) {
    const reason = result.ok ? 'unknown' : result.status.reason
    return c.json({ accepted: false, reason }, reason === 'unknown' ? 404 : 410)
  }
  return c.json({
    accepted: true,
    alreadyAccepted: result.alreadyAccepted,
    user: appUser(result.user),
    appUrl: result.tenant.appUrl,
  })
})

/** Support's resend: a fresh invite for a person who has not joined (`npm run tenant -- reinvite`). */
appApi.post('/reinvite', async (c) => {
  const result = await reinvite(c.var.scope, who(await jsonBody(c)))
  if (result.ok) return c.json(result, 202)
  const status = result.reason === 'unknown' ? 404 : 409
  return c.json({ ok: false, reason: result.reason, userId: result.userId ?? null }, status)
})

/**
 * Support's migration of rows written before the canonical comparison form (`npm run tenant -- canonicalize`):
 * what was rewritten, and the rows that would collide (left unchanged, for a person to resolve).
 */
appApi.post('/canonicalize', async (c) => c.json(await canonicalizeTenant(c.var.scope)))

/**
 * The provisioning journal, newest first (for support: `npm run tenant -- log`): `?userName=`,
 * `?action=` (or its family, `invite`), `?outcome=` (`ok`, `error`, `error 409`), `?since=` and
 * `?until=` (ISO date-times), `?limit=` (at most 1000, default 100), `?before=` the `next` of the page before.
 */
appApi.get('/journal', async (c) => {
  const { userName, action, outcome, since, until, before, limit } = c.req.query()
  return c.json(await readTenantJournal(c.var.scope, { userName, action, outcome, since, until, before, limit }))
})

/** The change feed: `?after={cursor}&limit=` (1 to 1000, default 100), in sequence order. */
appApi.get('/events', async (c) => {
  const { after, limit } = c.req.query()
  return c.json(await readFeed(c.var.scope, { after, limit }))
})

/** The app's receipt of a deactivation or deletion: this person's sessions and tokens are revoked. */
appApi.post('/events/:id/ack', async (c) => c.json(await acknowledgeEvent(c.var.scope, c.req.param('id'))))

/** Support: each webhook's delivery progress (`npm run tenant -- webhook list`). */
appApi.get('/webhooks', async (c) => c.json({ webhooks: await webhookStatus(c.var.scope) }))

/** Support: a signed test delivery sent now; the answer says what the endpoint replied. */
appApi.post('/webhooks/:id/test', async (c) => {
  const deps = await webhookDeps(c.env, c.var.scope.requestId)
  return c.json(await testWebhook(c.var.scope, c.req.param('id'), deps.send))
})

/** Support: a disabled webhook delivers again; its dead deliveries are tried again. */
appApi.post('/webhooks/:id/enable', async (c) => c.json(await reenableWebhook(c.var.scope, c.req.param('id'))))

/** The app's catalogue of roles and entitlements, and the tenant's seat limit (`npm run tenant -- entitlement list`). */
appApi.get('/catalog', async (c) => c.json(await listCatalog(c.var.scope)))

/** Adds or changes a catalogue entry: `{ displayName, description?, seatLimit? }` (`entitlement add`). */
appApi.put('/catalog/:type/:id', async (c) => {
  const body = await jsonBody(c)
  const result = await putCatalogEntry(c.var.scope, { ...body, type: c.req.param('type'), id: c.req.param('id') })
  return c.json(result.entry, result.created ? 201 : 200)
})

/** Removes a catalogue entry no user holds (`entitlement remove`). */
appApi.delete('/catalog/:type/:id', async (c) => {
  await removeCatalogEntry(c.var.scope, c.req.param('type'), c.req.param('id'))
  return c.body(null, 204)
})

/** The tenant's limit on active users: `{ seatLimit: N }`, or null for none (`seats`). */
appApi.put('/seats', async (c) => c.json(await setTenantSeats(c.var.scope, await jsonBody(c))))

/** Support: everything about one person, by id, userName or email (`npm run tenant -- user show`). */
appApi.get('/support/user', async (c) => {
  requireOperator(c)
  const result = await userReport(c.var.scope, c.req.query('who') ?? '')
  if (result.ok) return c.json(result.report)
  return c.json({ ok: false, reason: result.reason }, result.reason === 'unknown' ? 404 : 409)
})

/** Support: the people a SCIM filter selects (`npm run tenant -- user find`). */
appApi.get('/support/users', async (c) => {
  requireOperator(c)
  const { filter, count } = c.req.query()
  return c.json(await findUsers(c.var.scope, { filter, count }))
})

/** Support: a change made outside the Worker (the CLI writes KV), recorded in the journal. */
appApi.post('/support/actions', async (c) => {
  requireOperator(c)
  const { action, summary } = await jsonBody(c)
  await recordSupportAction(c.var.scope, { action, summary })
  forgetTenant(c.var.scope.tenant.id)
  return c.json({ recorded: true }, 201)
})
