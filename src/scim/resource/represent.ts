import type { ResourceTypeDef } from '../schemas/index.ts'
import { schemaUrns } from './normalize.ts'
import type { Json } from './values.ts'

/** Resource metadata, RFC 7643 §3.1 "meta". */
export interface Meta {
  created: string
  lastModified: string
  location: string
  version: string
}

/** The weak ETag of a resource version (RFC 7644 §3.14). */
export function etag(version: number): string {
  return `W/"${version}"`
}

/** The SCIM representation of a stored resource: schemas, id, its attributes, then meta (RFC 7643 §3). */
export function represent(type: ResourceTypeDef, id: string, stored: Json, meta: Meta): Json {
  const { schemas: _schemas, ...attributes } = stored
  return {
    schemas: schemaUrns(type, stored),
    id,
    ...attributes,
    meta: { resourceType: type.name, ...meta },
  }
}
