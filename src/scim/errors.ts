/** SCIM error types, RFC 7644 §3.12. Throw these anywhere; one handler renders them. */

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  | 'invalidCursor'
  | 'expiredCursor'
  | 'invalidCount'

/** Base of every error that reaches an IdP as a SCIM Error response (RFC 7644 §3.12). */
export class ScimError extends Error {
  readonly status: number
  readonly scimType: ScimType | undefined
  readonly headers: Record<string, string>

  constructor(status: number, detail: string, scimType?: ScimType, headers: Record<string, string> = {}) {
    super(detail)
    this.name = 'ScimError'
    this.status = status
    this.scimType = scimType
    this.headers = headers
  }
}

/** 400 invalidFilter: the filter cannot be parsed or names what cannot be filtered (RFC 7644 §3.4.2.2). */
export class InvalidFilter extends ScimError {
  constructor(detail: string) {
    super(400, detail, 'invalidFilter')
  }
}

/** 400 invalidSyntax: the request body is not valid SCIM JSON (RFC 7644 §3.12). */
export class InvalidSyntax extends ScimError {
  constructor(detail: string) {
    super(400, detail, 'invalidSyntax')
  }
}

/** 400 invalidValue: a value does not fit the schema (RFC 7644 §3.12). */
export class InvalidValue extends ScimError {
  constructor(detail: string) {
    super(400, detail, 'invalidValue')
  }
}

/** 400 invalidPath: a PATCH path is malformed or names no attribute (RFC 7644 §3.5.2). */
export class InvalidPath extends ScimError {
  constructor(detail: string) {
    super(400, detail, 'invalidPath')
  }
}

/** 400 noTarget: a PATCH path matched nothing (RFC 7644 §3.5.2). */
export class NoTarget extends ScimError {
  constructor(detail: string) {
    super(400, detail, 'noTarget')
  }
}

/** 400 mutability: an attempt to change a readOnly or immutable attribute (RFC 7644 §3.5.2). */
export class Mutability extends ScimError {
  constructor(detail: string) {
    super(400, detail, 'mutability')
  }
}

/** 400 tooMany: the query would return or process too much (RFC 7644 §3.4.2.4). */
export class TooMany extends ScimError {
  constructor(detail: string) {
    super(400, detail, 'tooMany')
  }
}

/** 409 uniqueness: a unique attribute is already taken (RFC 7644 §3.3). */
export class Uniqueness extends ScimError {
  constructor(detail: string) {
    super(409, detail, 'uniqueness')
  }
}

/** 400 with an RFC 9865 cursor scimType (invalidCursor, expiredCursor, invalidCount). */
export class CursorError extends ScimError {
  constructor(scimType: 'invalidCursor' | 'expiredCursor' | 'invalidCount', detail: string) {
    super(400, detail, scimType)
  }
}

/** 401: the same answer for every authentication failure (RFC 7644 §3.12). */
export class Unauthorized extends ScimError {
  constructor(detail = 'Authentication failed: send the Basic or Bearer credentials issued for this Base URL.') {
    super(401, detail, undefined, {
      'WWW-Authenticate': 'Basic realm="scim-edge", Bearer realm="scim-edge"',
    })
  }
}

/** 404: the resource or endpoint does not exist (RFC 7644 §3.12). */
export class NotFound extends ScimError {
  constructor(detail: string) {
    super(404, detail)
  }
}

/** 405: the endpoint exists but not with this method. */
export class MethodNotAllowed extends ScimError {
  constructor(method: string, allowed: string[]) {
    super(405, `${method} is not supported here; use ${allowed.join(', ')}.`, undefined, { Allow: allowed.join(', ') })
  }
}

/** 409 without a scimType: the request conflicts with the state of the server (a /Bulk cycle, RFC 7644 §3.7.1). */
export class Conflict extends ScimError {
  constructor(detail: string) {
    super(409, detail)
  }
}

/** 412: If-Match did not match the current version (RFC 7644 §3.14). */
export class PreconditionFailed extends ScimError {
  constructor(detail: string) {
    super(412, detail)
  }
}

/** 413: the body is larger than the server accepts (RFC 7644 §3.12). */
export class PayloadTooLarge extends ScimError {
  constructor(detail: string) {
    super(413, detail)
  }
}

/** 415: the body is not application/scim+json or application/json. */
export class UnsupportedMediaType extends ScimError {
  constructor(detail: string) {
    super(415, detail)
  }
}

/** 501: a SCIM endpoint this server does not implement, such as /Bulk or /Me (RFC 7644 §3.12). */
export class NotImplemented extends ScimError {
  constructor(detail: string) {
    super(501, detail)
  }
}

/** 503: storage failed; the client should retry after the given seconds. */
export class ServiceUnavailable extends ScimError {
  constructor(detail: string, retryAfterSeconds = 5) {
    super(503, detail, undefined, { 'Retry-After': String(retryAfterSeconds) })
  }
}
