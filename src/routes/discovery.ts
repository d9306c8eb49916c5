/** Discovery endpoints, RFC 7644 §4. */
import { Hono } from 'hono'
import { resourceTypeResource, resourceTypes, schemaResource, schemas, serviceProviderConfig } from '../scim/discovery.ts'
import { NotFound } from '../scim/errors.ts'
import { listResponse } from '../scim/list/response.ts'
import { MAX_PAGE_SIZE } from '../scim/list/params.ts'
import type { AppEnv } from './context.ts'
import { scimJson } from './http.ts'

export const discovery = new Hono<AppEnv>()

/** What the running code supports; ServiceProviderConfig must be truthful (SCIM-CLIENTS.md §4). */
export const capabilities = { sort: true, etag: true, cursor: true, maxFilterResults: MAX_PAGE_SIZE }

discovery.get('/ServiceProviderConfig', (c) => scimJson(c, serviceProviderConfig(c.var.baseUrl, capabilities)))

discovery.get('/ResourceTypes', (c) => {
  const list = resourceTypes.map((t) => resourceTypeResource(c.var.baseUrl, t))
  return scimJson(c, listResponse(list, list.length, 1))
})

discovery.get('/ResourceTypes/:id', (c) => {
  const type = resourceTypes.find((t) => t.id.toLowerCase() === c.req.param('id').toLowerCase())
  if (!type) throw new NotFound(`ResourceType "${c.req.param('id')}" not found; known: ${resourceTypes.map((t) => t.id).join(', ')}`)
  return scimJson(c, resourceTypeResource(c.var.baseUrl, type))
})

discovery.get('/Schemas', (c) => {
  const list = schemas.map((s) => schemaResource(c.var.baseUrl, s))
  return scimJson(c, listResponse(list, list.length, 1))
})

discovery.get('/Schemas/:id', (c) => {
  const schema = schemas.find((s) => s.id.toLowerCase() === c.req.param('id').toLowerCase())
  if (!schema) throw new NotFound(`Schema "${c.req.param('id')}" not found; known: ${schemas.map((s) => s.id).join(', ')}`)
  return scimJson(c, schemaResource(c.var.baseUrl, schema))
})
