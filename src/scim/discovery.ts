/** Discovery documents built from the schema definitions, RFC 7644 §4 and RFC 7643 §5–7. */
import { MAX_BULK_OPERATIONS, MAX_BULK_PAYLOAD_BYTES } from './limits.ts'
import { CURSOR_TIMEOUT_SECONDS } from './list/cursor.ts'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './list/params.ts'
import { resourceTypes, schemas, type AttributeDef, type ResourceTypeDef, type SchemaDef } from './schemas/index.ts'
import { URN } from './urns.ts'

/** What this server supports today; each flag is backed by code and tests. */
export interface Capabilities {
  sort: boolean
  etag: boolean
  cursor: boolean
  maxFilterResults: number
}

/** Where an IdP gets OAuth access tokens for this Base URL. */
export interface OAuthEndpoints {
  tokenEndpoint: string
  metadataUrl: string
}

/** The ServiceProviderConfig resource, RFC 7643 §5 (plus RFC 9865 §4 pagination). */
export function serviceProviderConfig(baseUrl: string, caps: Capabilities, oauth: OAuthEndpoints) {
  return {
    schemas: [URN.serviceProviderConfig],
    documentationUri: 'https://github.com/scim-edge/scim-edge#readme',
    patch: { supported: true },
    bulk: { supported: true, maxOperations: MAX_BULK_OPERATIONS, maxPayloadSize: MAX_BULK_PAYLOAD_BYTES },
    filter: { supported: true, maxResults: caps.maxFilterResults },
    changePassword: { supported: false },
    sort: { supported: caps.sort },
    etag: { supported: caps.etag },
    pagination: {
      cursor: caps.cursor,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: DEFAULT_PAGE_SIZE,
      maxPageSize: MAX_PAGE_SIZE,
      ...(caps.cursor ? { cursorTimeout: CURSOR_TIMEOUT_SECONDS } : {}),
    },
    authenticationSchemes: [
      {
        type: 'httpbasic',
        name: 'HTTP Basic',
        description: 'The username and password issued for this Base URL.',
        specUri: 'https://www.rfc-editor.org/rfc/rfc7617',
        primary: true,
      },
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'The bearer token issued for this Base URL (Authorization: Bearer ...).',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
      },
      {
        type: 'oauth2',
        name: 'OAuth 2.0 client credentials',
        description: `Access tokens from ${oauth.tokenEndpoint} (grant_type=client_credentials; client_secret_basic, client_secret_post or private_key_jwt), sent as Authorization: Bearer.`,
        specUri: 'https://www.rfc-editor.org/rfc/rfc6749',
        documentationUri: oauth.metadataUrl,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  }
}

/** A ResourceType resource, RFC 7643 §6. */
export function resourceTypeResource(baseUrl: string, type: ResourceTypeDef) {
  return {
    schemas: [URN.resourceType],
    id: type.id,
    name: type.name,
    endpoint: type.endpoint,
    description: type.description,
    schema: type.schema.id,
    schemaExtensions: type.extensions.map((e) => ({ schema: e.schema.id, required: e.required })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${type.id}` },
  }
}

function attributeResource(def: AttributeDef): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: def.name,
    type: def.type,
    multiValued: def.multiValued,
    description: def.description,
    required: def.required,
    caseExact: def.caseExact,
    mutability: def.mutability,
    returned: def.returned,
    uniqueness: def.uniqueness,
  }
  if (def.canonicalValues?.length) out.canonicalValues = def.canonicalValues
  if (def.referenceTypes?.length) out.referenceTypes = def.referenceTypes
  if (def.subAttributes) out.subAttributes = def.subAttributes.map(attributeResource)
  return out
}

/** A Schema resource, RFC 7643 §7. */
export function schemaResource(baseUrl: string, schema: SchemaDef) {
  return {
    schemas: [URN.schema],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(attributeResource),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  }
}

export { resourceTypes, schemas }
