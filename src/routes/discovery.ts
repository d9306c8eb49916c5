/** Discovery endpoints, RFC 7644 §4. */
import { Hono } from 'hono'
import {
  resourceTypeResource,
  resourceTypes,
  schemaResource,
  schemas,
  serviceProviderConfig,
} from '../scim/discovery.ts'
import { MethodNotAllowed, NotFound } from '../scim/errors.ts'
import { listResponse } from '../scim/list/response.ts'
import { MAX_PAGE_SIZE } from '../scim/list/params.ts'
import { oauthMetadataUrl, tokenEndpoint } from '../tenants/credentials.ts'
import type { ScopedEnv } from './context.ts'
import { scimJson } from './http.ts'

export const discovery = new Hono<ScopedEnv>()

/** What the running code supports; ServiceProviderConfig must be truthful (docs/idp-quirks.md#discovery). */
export const capabilities = { sort: true, etag: true, cursor: true, maxFilterResults: MAX_PAGE_SIZE }

discovery.get('/ServiceProviderConfig', (c) => {
  const { baseUrl, publicUrl, tenant } = c.var.scope
  const oauth = {
    tokenEndpoint: tokenEndpoint(publicUrl, tenant.id),
    metadataUrl: oauthMetadataUrl(publicUrl, tenant.id),
  }
  return scimJson(serviceProviderConfig(baseUrl, capabilities, oauth))
})

discovery.get('/ResourceTypes', (c) => {
  const list = resourceTypes.map((t) => resourceTypeResource(c.var.scope.baseUrl, t))
  return scimJson(listResponse(list, list.length, 1))
})

discovery.get('/ResourceTypes/:id', (c) => {
  const type = resourceTypes.find((t) => t.id.toLowerCase() === c.req.param('id').toLowerCase())
  if (!type)
    throw new NotFound(
      `ResourceType "${c.req.param('id')}" not found; known: ${resourceTypes.map((t) => t.id).join(', ')}`,
    )
  return scimJson(resourceTypeResource(c.var.scope.baseUrl, type))
})

discovery.get('/Schemas', (c) => {
  const list = schemas.map((s) => schemaResource(c.var.scope.baseUrl, s))
  return scimJson(listResponse(list, list.length, 1))
})

discovery.get('/Schemas/:id', (c) => {
  const schema = schemas.find((s) => s.id.toLowerCase() === c.req.param('id').toLowerCase())
  if (!schema)
    throw new NotFound(`Schema "${c.req.param('id')}" not found; known: ${schemas.map((s) => s.id).join(', ')}`)
  return scimJson(schemaResource(c.var.scope.baseUrl, schema))
})

// Discovery is read-only (RFC 7644 §4): any other method is 405 with the methods that work.
for (const path of ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/:id', '/Schemas', '/Schemas/:id']) {
  discovery.all(path, (c) => {
    throw new MethodNotAllowed(c.req.method, ['GET', 'HEAD'])
  })
}
