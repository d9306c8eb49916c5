/** The /Groups endpoint, RFC 7644 §3. */
import { Hono } from 'hono'
import type { GroupRecord } from '../db/groups.ts'
import { groupRepresentation, streamedGroup } from '../provisioning/group-representation.ts'
import { auditOf } from '../observability/journal.ts'
import { createScimGroup, deleteScimGroup, patchScimGroup, replaceScimGroup, requireGroup } from '../provisioning/groups.ts'
import { search } from '../provisioning/search.ts'
import { groupProjection, groupSearch } from '../provisioning/search-groups.ts'
import { MethodNotAllowed } from '../scim/errors.ts'
import { parseListParams } from '../scim/list/params.ts'
import { isNotModified } from '../scim/preconditions.ts'
import { project, wantsAttribute } from '../scim/resource/projection.ts'
import { etag } from '../scim/resource/represent.ts'
import { groupResourceType } from '../scim/schemas/index.ts'
import type { AppContext, AppEnv } from './context.ts'
import { readScimJson, SCIM_CONTENT_TYPE, scimJson, scimList, scimStream } from './http.ts'

export const groups = new Hono<AppEnv>()

// attributes / excludedAttributes are checked before any write, so a bad value never answers 400 after a change.
groups.use(async (c, next) => {
  groupProjection(c.req.query())
  await next()
})

/**
 * A single-group response with its ETag. Members are read only when the projection wants them, and
 * then streamed page by page (streamedGroup in src/provisioning/group-representation.ts), whatever its size.
 */
async function groupResponse(c: AppContext, record: GroupRecord, status: 200 | 201 = 200): Promise<Response> {
  const projection = groupProjection(c.req.query())
  const headers: Record<string, string> = { ETag: etag(record.version), 'Content-Type': SCIM_CONTENT_TYPE }
  if (status === 201) headers.Location = `${c.var.baseUrl}/Groups/${record.id}`
  if (wantsAttribute(groupResourceType, projection, 'members') && record.memberCount > 0) {
    return scimStream(streamedGroup(c.var.db, c.var.tenant.id, c.var.baseUrl, record, projection).chunks(), status, headers)
  }
  return scimJson(c, project(groupResourceType, groupRepresentation(record, c.var.baseUrl), projection), status, headers)
}

groups.get('/', async (c) => scimList(c, await search(c.var.db, c.var.tenant.id, c.var.baseUrl, parseListParams(c.req.query()), groupSearch, new Date())))

groups.post('/.search', async (c) => {
  const body = await readScimJson(c)
  const params = parseListParams(typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {})
  return scimList(c, await search(c.var.db, c.var.tenant.id, c.var.baseUrl, params, groupSearch, new Date()))
})

groups.post('/', async (c) => {
  const body = await readScimJson(c)
  return groupResponse(c, await createScimGroup(c.var.db, c.var.tenant.id, body, new Date(), 'scim', auditOf(c, 201, body)), 201)
})

groups.get('/:id', async (c) => {
  const record = await requireGroup(c.var.db, c.var.tenant.id, c.req.param('id'))
  if (isNotModified(c.req.header('if-none-match'), record.version)) return c.body(null, 304, { ETag: etag(record.version) })
  return groupResponse(c, record)
})

groups.put('/:id', async (c) => {
  const body = await readScimJson(c)
  return groupResponse(c, await replaceScimGroup(c.var.db, c.var.tenant.id, c.req.param('id'), body, c.req.header('if-match'), new Date(), auditOf(c, 200, body)))
})

// 204 suits both Okta and Entra (SCIM-CLIENTS.md §1.8, §2.4 #10), and never loads a big member list.
groups.patch('/:id', async (c) => {
  const body = await readScimJson(c)
  const record = await patchScimGroup(c.var.db, c.var.tenant.id, c.req.param('id'), body, c.req.header('if-match'), new Date(), auditOf(c, 204, body))
  return c.body(null, 204, { ETag: etag(record.version) })
})

groups.delete('/:id', async (c) => {
  await deleteScimGroup(c.var.db, c.var.tenant.id, c.req.param('id'), c.req.header('if-match'), auditOf(c, 204, undefined))
  return c.body(null, 204)
})

groups.all('/', (c) => {
  throw new MethodNotAllowed(c.req.method, ['GET', 'POST'])
})
groups.all('/:id', (c) => {
  throw new MethodNotAllowed(c.req.method, ['GET', 'PUT', 'PATCH', 'DELETE'])
})
