/** The /Users endpoint, RFC 7644 §3. Handlers parse, call provisioning with the scope, respond. */
import { Hono } from 'hono'
import { userProjection, userSearch } from '../provisioning/search-users.ts'
import { search } from '../provisioning/search.ts'
import { userBodies } from '../provisioning/user-representation.ts'
import {
  createScimUser,
  deleteScimUser,
  patchScimUser,
  replaceScimUser,
  requireUser,
  type UserRecord,
} from '../provisioning/users.ts'
import { MethodNotAllowed } from '../scim/errors.ts'
import { parseListParams } from '../scim/list/params.ts'
import { isNotModified } from '../scim/preconditions.ts'
import type { Projection } from '../scim/resource/projection.ts'
import { etag } from '../scim/resource/represent.ts'
import type { ScopedContext, ScopedEnv } from './context.ts'
import { readScimJson, scimJson, scimList, searchParams } from './http.ts'

export const users = new Hono<ScopedEnv>()

/** attributes / excludedAttributes, parsed once and before any write, so a bad value never answers 400 after a change. */
function projection(c: ScopedContext): Projection {
  return userProjection(c.var.scope, c.req.query())
}

/** A single-user response with its ETag, projected by the query's attributes parameters (RFC 7644 §3.9). */
async function userResponse(
  c: ScopedContext,
  record: UserRecord,
  options: { projection: Projection; status?: 200 | 201 },
): Promise<Response> {
  const scope = c.var.scope
  const [body] = await userBodies(scope, [record], options.projection)
  const headers: Record<string, string> = { ETag: etag(record.version) }
  if (options.status === 201) headers.Location = `${scope.baseUrl}/Users/${record.id}`
  return scimJson(body, options.status, headers)
}

users.get('/', async (c) =>
  scimList(await search(c.var.scope, parseListParams(c.req.query()), userSearch(c.var.scope))),
)

users.post('/.search', async (c) => scimList(await search(c.var.scope, await searchParams(c), userSearch(c.var.scope))))

users.post('/', async (c) => {
  const wanted = projection(c)
  const record = await createScimUser(c.var.scope, await readScimJson(c))
  return userResponse(c, record, { projection: wanted, status: 201 })
})

users.get('/:id', async (c) => {
  const wanted = projection(c)
  const record = await requireUser(c.var.scope, c.req.param('id'))
  if (isNotModified(c.req.header('if-none-match'), record.version))
    return c.body(null, 304, { ETag: etag(record.version) })
  return userResponse(c, record, { projection: wanted })
})

users.put('/:id', async (c) => {
  const wanted = projection(c)
  const record = await replaceScimUser(c.var.scope, c.req.param('id'), await readScimJson(c), c.req.header('if-match'))
  return userResponse(c, record, { projection: wanted })
})

users.patch('/:id', async (c) => {
  const wanted = projection(c)
  const record = await patchScimUser(c.var.scope, c.req.param('id'), await readScimJson(c), c.req.header('if-match'))
  return userResponse(c, record, { projection: wanted })
})

users.delete('/:id', async (c) => {
  projection(c)
  await deleteScimUser(c.var.scope, c.req.param('id'), c.req.header('if-match'))
  return c.body(null, 204)
})

users.all('/', (c) => {
  throw new MethodNotAllowed(c.req.method, ['GET', 'POST'])
})
users.all('/:id', (c) => {
  throw new MethodNotAllowed(c.req.method, ['GET', 'PUT', 'PATCH', 'DELETE'])
})
