/** The /Groups endpoint, RFC 7644 §3. Handlers parse, call provisioning with the scope, respond. */
import { Hono } from 'hono'
import { groupBody } from '../provisioning/group-representation.ts'
import {
  createScimGroup,
  deleteScimGroup,
  patchScimGroup,
  replaceScimGroup,
  requireGroup,
  type GroupRecord,
} from '../provisioning/groups.ts'
import { groupProjection, groupSearch } from '../provisioning/search-groups.ts'
import { search } from '../provisioning/search.ts'
import { MethodNotAllowed } from '../scim/errors.ts'
import { parseListParams } from '../scim/list/params.ts'
import { isNotModified } from '../scim/preconditions.ts'
import type { Projection } from '../scim/resource/projection.ts'
import { etag } from '../scim/resource/represent.ts'
import type { ScopedContext, ScopedEnv } from './context.ts'
import { readScimJson, scimJson, scimList, scimStream, searchParams } from './http.ts'

export const groups = new Hono<ScopedEnv>()

/** attributes / excludedAttributes, parsed once and before any write, so a bad value never answers 400 after a change. */
function projection(c: ScopedContext): Projection {
  return groupProjection(c.req.query())
}

/**
 * A single-group response with its ETag. Members are read only when the projection wants them, and
 * then streamed page by page (src/provisioning/group-representation.ts), whatever the group's size.
 */
function groupResponse(
  c: ScopedContext,
  record: GroupRecord,
  options: { projection: Projection; status?: 200 | 201 },
): Response {
  const scope = c.var.scope
  const headers: Record<string, string> = { ETag: etag(record.version) }
  if (options.status === 201) headers.Location = `${scope.baseUrl}/Groups/${record.id}`
  const body = groupBody(scope, record, options.projection)
  return 'chunks' in body && typeof body.chunks === 'function'
    ? scimStream(body.chunks(), options.status, headers)
    : scimJson(body, options.status, headers)
}

groups.get('/', async (c) => scimList(await search(c.var.scope, parseListParams(c.req.query()), groupSearch)))

groups.post('/.search', async (c) => scimList(await search(c.var.scope, await searchParams(c), groupSearch)))

groups.post('/', async (c) => {
  const wanted = projection(c)
  return groupResponse(c, await createScimGroup(c.var.scope, await readScimJson(c)), {
    projection: wanted,
    status: 201,
  })
})

groups.get('/:id', async (c) => {
  const wanted = projection(c)
  const record = await requireGroup(c.var.scope, c.req.param('id'))
  if (isNotModified(c.req.header('if-none-match'), record.version))
    return c.body(null, 304, { ETag: etag(record.version) })
  return groupResponse(c, record, { projection: wanted })
})

groups.put('/:id', async (c) => {
  const wanted = projection(c)
  return groupResponse(
    c,
    await replaceScimGroup(c.var.scope, c.req.param('id'), await readScimJson(c), c.req.header('if-match')),
    { projection: wanted },
  )
})

// 204 suits both Okta and Entra (docs/idp-quirks.md#group-patch-answers-204), and never loads a big member list.
groups.patch('/:id', async (c) => {
  projection(c)
  const record = await patchScimGroup(c.var.scope, c.req.param('id'), await readScimJson(c), c.req.header('if-match'))
  return c.body(null, 204, { ETag: etag(record.version) })
})

groups.delete('/:id', async (c) => {
  projection(c)
  await deleteScimGroup(c.var.scope, c.req.param('id'), c.req.header('if-match'))
  return c.body(null, 204)
})

groups.all('/', (c) => {
  throw new MethodNotAllowed(c.req.method, ['GET', 'POST'])
})
groups.all('/:id', (c) => {
  throw new MethodNotAllowed(c.req.method, ['GET', 'PUT', 'PATCH', 'DELETE'])
})
