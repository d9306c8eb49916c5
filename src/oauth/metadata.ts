/** Authorization server metadata, RFC 8414 §2: what a tenant's token endpoint offers. */
import { ASSERTION_ALGORITHMS } from './assertion.ts'

/** The metadata document of one tenant's issuer. */
export function authorizationServerMetadata(input: {
  issuer: string
  tokenEndpoint: string
  jwksUri: string
  scopes: readonly string[]
  documentation: string
}) {
  return {
    issuer: input.issuer,
    token_endpoint: input.tokenEndpoint,
    jwks_uri: input.jwksUri,
    scopes_supported: [...input.scopes],
    // Client credentials only: there is no authorization endpoint, so no response type.
    response_types_supported: [],
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    service_documentation: input.documentation,
  }
}
