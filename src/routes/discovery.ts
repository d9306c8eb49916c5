/** Discovery endpoints, RFC 7644 §4. */
import { Hono } from 'hono'
import {
  resourceTypeResource,
  resourceTypes,
  schemaResource,
  schemas,
  serviceProviderConfig,
} from '../scim/discovery.ts'
import { catalogResourceTypes } from '../provisioning/catalog.ts'
import { MethodNotAllowed, NotFound } from '../scim/errors.ts'
import { listResponse } from '../scim/list/response.ts'
import { MAX_PAGE_SIZE } from '../scim/list/params.ts'
import type { Json } from '../scim/resource/values.ts'
import type { ResourceTypeDef, SchemaDef } from '../scim/schemas/index.ts'
import type { Scope } from '../scope/scope.ts'
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

/**
 * The tenant's resource types: Users (with the attributes the tenant declared) and Groups, then each
 * type of its catalogue (Role, License, ...).
 */
async function tenantResourceTypes(scope: Scope): Promise<ResourceTypeDef[]> {
  const core = resourceTypes.map((t) => (t.id === scope.userType.id ? scope.userType : t))
  return [...core, ...(await catalogResourceTypes(scope))]
}

/**
 * The tenant's schemas: the core ones, its own User extension when it declared attributes, and Okta's
 * Role and Entitlement schemas where its catalogue uses them.
 */
async function tenantSchemas(scope: Scope): Promise<SchemaDef[]> {
  const own = scope.userType.extensions.map((e) => e.schema).filter((s) => !schemas.includes(s))
  const used = new Set((await catalogResourceTypes(scope)).map((t) => t.schema))
  return [...schemas, ...own, ...[...used].sort((a, b) => a.id.localeCompare(b.id))]
}

/** Every discovery resource in one list: they are few, and a client that pages them gets them all at once. */
function discoveryList(all: Json[]): Response {
  return scimJson(listResponse(all, all.length, 1))
}

discovery.get('/ResourceTypes', async (c) => {
  const types = await tenantResourceTypes(c.var.scope)
  return discoveryList(types.map((t) => resourceTypeResource(c.var.scope.baseUrl, t)))
})

discovery.get('/ResourceTypes/:id', async (c) => {
  const types = await tenantResourceTypes(c.var.scope)
  const type = types.find((t) => t.id.toLowerCase() === c.req.param('id').toLowerCase())
  if (!type)
    throw new NotFound(`ResourceType "${c.req.param('id')}" not found; known: ${types.map((t) => t.id).join(', ')}`)
  return scimJson(resourceTypeResource(c.var.scope.baseUrl, type))
})

discovery.get('/Schemas', async (c) => {
  const list = (await tenantSchemas(c.var.scope)).map((s) => schemaResource(c.var.scope.baseUrl, s))
  return discoveryList(list)
})

discovery.get('/Schemas/:id', async (c) => {
  const all = await tenantSchemas(c.var.scope)
  const schema = all.find((s) => s.id.toLowerCase() === c.req.param('id').toLowerCase())
  if (!schema) throw new NotFound(`Schema "${c.req.param('id')}" not found; known: ${all.map((s) => s.id).join(', ')}`)
  return scimJson(schemaResource(c.var.scope.baseUrl, schema))
})

// Discovery is read-only (RFC 7644 §4): any other method is 405 with the methods that work.
for (const path of ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/:id', '/Schemas', '/Schemas/:id']) {
  discovery.all(path, (c) => {
    throw new MethodNotAllowed(c.req.method, ['GET', 'HEAD'])
  })
}
