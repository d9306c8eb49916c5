/** `--scope` of the support CLI: our scope names or the IdP aliases (`scim`, `scim.readwrite`). */
import { CliError } from './command.ts'
import { CREDENTIAL_SCOPES, parseScopes } from './credentials.ts'
import type { CredentialScope } from './document.ts'

/** The scopes `text` names; undefined (both scopes, the default) when the flag is absent. */
export function parseScopeFlag(text: string | undefined): CredentialScope[] | undefined {
  if (text === undefined) return undefined
  const scopes = parseScopes(text)
  if (!Array.isArray(scopes))
    throw new CliError(`unknown scope "${scopes.unknown}" in --scope: use ${CREDENTIAL_SCOPES.join(' and/or ')}`, 2)
  if (!scopes.length) throw new CliError(`--scope names no scope: use ${CREDENTIAL_SCOPES.join(' and/or ')}`, 2)
  return scopes.length === CREDENTIAL_SCOPES.length ? undefined : scopes
}
