/** OAuth 2.0 token endpoint errors, RFC 6749 §5.2. Throw these; the one error handler renders them. */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'temporarily_unavailable'

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  temporarily_unavailable: 503,
}

/** An error of the token endpoint: `{ error, error_description }` with the status RFC 6749 gives it. */
export class OAuthError extends Error {
  readonly code: OAuthErrorCode
  readonly status: number
  readonly headers: Record<string, string>

  constructor(
    code: OAuthErrorCode,
    description: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(description)
    this.name = 'OAuthError'
    this.code = code
    this.status = options.status ?? STATUS[code]
    // A failed client authentication names the scheme a client can use (RFC 6749 §5.2).
    this.headers =
      code === 'invalid_client'
        ? { 'WWW-Authenticate': 'Basic realm="scim-edge token endpoint"', ...options.headers }
        : { ...options.headers }
  }
}

/** The body of an OAuth error response. */
export function oauthErrorBody(error: OAuthError): { error: OAuthErrorCode; error_description: string } {
  return { error: error.code, error_description: error.message }
}
