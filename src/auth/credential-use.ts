/**
 * What support sees of authentication. "Last used" at day granularity: the first success of a
 * credential in an isolate on a given day writes one row (in the background); every other request
 * writes nothing. Failed attempts: counted in the tenant's journal.
 */
import { recordCredentialUse } from '../db/credential-use.ts'
import { recordAuthFailure, type AuthFailure } from '../db/journal.ts'
import { log } from '../observability/log.ts'
import type { Scope } from '../scope/scope.ts'

const noted = new Map<string, string>()
const MAX_ENTRIES = 5000

/** Notes that `credentialId` worked for the scope's tenant; `background` keeps the write alive after the response. */
export function noteCredentialUse(
  scope: Pick<Scope, 'db' | 'tenantKey' | 'requestId' | 'now'>,
  credentialId: string,
  background: (work: Promise<unknown>) => void,
): void {
  const day = scope.now().toISOString().slice(0, 10)
  const key = `${scope.tenantKey} ${credentialId}`
  if (noted.get(key) === day) return
  if (noted.size >= MAX_ENTRIES) noted.delete(noted.keys().next().value!)
  noted.set(key, day)
  background(
    recordCredentialUse(scope, credentialId, day).catch((error: Error) => {
      noted.delete(key)
      log('warn', 'credential_use_not_recorded', { requestId: scope.requestId, message: error.message })
    }),
  )
}

/**
 * Counts a failed authentication in the tenant's journal (one entry per minute, credential and
 * reason; never the secret); `background` keeps the write alive after the 401.
 */
export function noteAuthFailure(
  handle: Pick<Scope, 'db' | 'tenantKey'>,
  failure: AuthFailure,
  background: (work: Promise<unknown>) => void,
): void {
  background(
    recordAuthFailure(handle, failure).catch((error: Error) =>
      log('warn', 'auth_failure_not_recorded', { requestId: failure.requestId, message: error.message }),
    ),
  )
}
