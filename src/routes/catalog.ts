/**
 * The catalogue's endpoints (/Roles, /Licenses, ...): one per type the tenant's app declared, read
 * only over SCIM (the app and support change the catalogue through the app API).
 */
import { Hono } from 'hono'
import { catalogSearch, requireEntry, typeAtEndpoint } from '../provisioning/catalog.ts'
import { projectionOf, search } from '../provisioning/search.ts'
import { MethodNotAllowed, NotFound } from '../scim/errors.ts'
import { parseListParams } from '../scim/list/params.ts'
import type { ResourceTypeDef } from '../scim/schemas/index.ts'
import type { ScopedContext, ScopedEnv } from './context.ts'
import { scimJson, scimList, searchParams } from './http.ts'

export const catalog = new Hono<ScopedEnv>()

/** The catalogue type at `:endpoint`, or 404 naming the endpoint. */
async function typeOf(c: ScopedContext): Promise<ResourceTypeDef> {
  const endpoint = c.req.param('endpoint') ?? ''
  const type = await typeAtEndpoint(c.var.scope, endpoint)
  if (!type)
    throw new NotFound(
      `No endpoint at ${new URL(c.req.url).pathname.slice(0, 200)}; /ResourceTypes lists this tenant's endpoints`,
    )
  return type
}

catalog.get('/:endpoint', async (c) => {
  const type = await typeOf(c)
  return scimList(await search(c.var.scope, parseListParams(c.req.query()), catalogSearch(type)))
})

catalog.post('/:endpoint/.search', async (c) => {
  const type = await typeOf(c)
  return scimList(await search(c.var.scope, await searchParams(c), catalogSearch(type)))
})

catalog.get('/:endpoint/:id', async (c) => {
  const type = await typeOf(c)
  return scimJson(await requireEntry(c.var.scope, type, c.req.param('id'), projectionOf(type, c.req.query())))
})

catalog.all('/:endpoint/.search', async (c) => {
  await typeOf(c)
  throw new MethodNotAllowed(c.req.method, ['POST'])
})
catalog.all('/:endpoint', async (c) => {
  await typeOf(c)
  throw new MethodNotAllowed(c.req.method, ['GET'])
})
catalog.all('/:endpoint/:id', async (c) => {
  await typeOf(c)
  throw new MethodNotAllowed(c.req.method, ['GET'])
})
