import { URN } from '../urns.ts'

/** A ListResponse, RFC 7644 §3.4.2: counts are JSON integers, Resources present even when empty (Okta). */
export function listResponse(
  resources: unknown[],
  totalResults: number,
  startIndex: number,
  extra: Record<string, unknown> = {},
) {
  return {
    schemas: [URN.listResponse],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    ...extra,
    Resources: resources,
  }
}
