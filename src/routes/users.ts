/** The /Users endpoint, RFC 7644 §3. Handlers parse, call provisioning, respond. */
import { Hono } from 'hono'
import { parseListParams } from '../scim/list/params.ts'
import { isNotModified } from '../scim/preconditions.ts'
import { MethodNotAllowed } from '../scim/errors.ts'
import { project, wantsAttribute } from '../scim/resource/projection.ts'
import { groupsOfUsers } from '../db/groups.ts'
import { etag } from '../scim/resource/represent.ts'
import { userResourceType } from '../scim/schemas/index.ts'
import { search } from '../provisioning/search.ts'
import { userProjection, userSearch } from '../provisioning/search-users.ts'
import { userRepresentation } from '../provisioning/user-representation.ts'
import { createScimUser, deleteScimUser, patchScimUser, replaceScimUser, requireUser } from '../provisioning/users.ts'
import type { UserRecord } from '../db/users.ts'
import { inviteOutbox } from '../invites/runtime.ts'
import { auditOf } from '../observability/journal.ts'
import type { AppContext, AppEnv } from './context.ts'
import { readScimJson, scimJson, scimList } from './http.ts'

export const users = new Hono<AppEnv>()

// attributes / excludedAttributes are checked before any write, so a bad value never answers 400 after a change.
users.use(async (c, next) => {
  userProjection(queryParams(c))
  await next()
})

function queryParams(c: AppContext): Record<string, string> {
  return c.req.query()
}

/** A single-user response with its ETag, projected by the query's attributes parameters (RFC 7644 §3.9). */
async function userResponse(c: AppContext, record: UserRecord, status: 200 | 201 = 200): Promise<Response> {
  const projection = userProjection(queryParams(c))
  const groups = wantsAttribute(userResourceType, projection, 'groups') ? (await groupsOfUsers(c.var.db, c.var.tenant.id, [record.id])).get(record.id) : undefined
  const body = project(userResourceType, userRepresentation(record, c.var.baseUrl, groups), projection)
  const headers: Record<string, string> = { ETag: etag(record.version) }
  if (status === 201) headers.Location = `${c.var.baseUrl}/Users/${record.id}`
  return scimJson(c, body, status, headers)
}

users.get('/', async (c) => scimList(c, await search(c.var.db, c.var.tenant.id, c.var.baseUrl, parseListParams(queryParams(c)), userSearch, new Date())))

users.post('/.search', async (c) => {
  const body = await readScimJson(c)
  const params = parseListParams(typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {})
  return scimList(c, await search(c.var.db, c.var.tenant.id, c.var.baseUrl, params, userSearch, new Date()))
})

users.post('/', async (c) => {
  const body = await readScimJson(c)
  const record = await createScimUser(c.var.db, c.var.tenant.id, body, new Date(), inviteOutbox(c.env), 'scim', auditOf(c, 201, body))
  return userResponse(c, record, 201)
})

users.get('/:id', async (c) => {
  const record = await requireUser(c.var.db, c.var.tenant.id, c.req.param('id'))
  if (isNotModified(c.req.header('if-none-match'), record.version)) return c.body(null, 304, { ETag: etag(record.version) })
  return userResponse(c, record)
})

users.put('/:id', async (c) => {
  const body = await readScimJson(c)
  const record = await replaceScimUser(c.var.db, c.var.tenant.id, c.req.param('id'), body, c.req.header('if-match'), new Date(), inviteOutbox(c.env), auditOf(c, 200, body))
  return userResponse(c, record)
})

users.patch('/:id', async (c) => {
  const body = await readScimJson(c)
  const record = await patchScimUser(c.var.db, c.var.tenant.id, c.req.param('id'), body, c.req.header('if-match'), new Date(), inviteOutbox(c.env), auditOf(c, 200, body))
  return userResponse(c, record)
})

users.delete('/:id', async (c) => {
  await deleteScimUser(c.var.db, c.var.tenant.id, c.req.param('id'), c.req.header('if-match'), new Date(), auditOf(c, 204, undefined))
  return c.body(null, 204)
})

users.all('/', (c) => {
  throw new MethodNotAllowed(c.req.method, ['GET', 'POST'])
})
users.all('/:id', (c) => {
  throw new MethodNotAllowed(c.req.method, ['GET', 'PUT', 'PATCH', 'DELETE'])
})
