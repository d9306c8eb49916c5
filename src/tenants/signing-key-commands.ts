/**
 * `signing-key generate`: a JWK set for the Worker's secret OAUTH_SIGNING_KEYS (private ES256 or EdDSA
 * keys with a `kid`; the first signs access tokens, every key verifies them). With `--rotate-from`, the
 * new key goes first and the current signer second, so tokens it signed verify until they expire.
 */
import { readFileSync } from 'node:fs'
import { exportJWK, generateKeyPair } from 'jose'
import { CliError, type Command } from './command.ts'
import { ACCESS_TOKEN_MINUTES } from './credentials.ts'
import { randomId } from './secrets.ts'

const ALGORITHMS = ['ES256', 'EdDSA'] as const

/** A fresh private signing key as a JWK, with kid, alg and use. */
export async function newSigningKey(alg: string, now: Date): Promise<Record<string, unknown>> {
  if (!(ALGORITHMS as readonly string[]).includes(alg))
    throw new CliError(`invalid --alg "${alg}": use ${ALGORITHMS.join(' or ')}`, 2)
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  })
  const kid = `${now.toISOString().slice(0, 10)}-${randomId('', 8)}`
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' }
}

/** The signing key that a current set's first position holds; a usage error when the file is not a set. */
function currentSigner(file: string): Record<string, unknown> {
  let parsed: { keys?: unknown }
  try {
    parsed = JSON.parse(file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8'))
  } catch (error) {
    throw new CliError(`--rotate-from ${file} is not a readable JSON key set: ${(error as Error).message}`, 2)
  }
  const first = Array.isArray(parsed.keys) ? (parsed.keys[0] as Record<string, unknown> | undefined) : undefined
  if (!first || typeof first.kid !== 'string' || typeof first.d !== 'string')
    throw new CliError(`--rotate-from ${file} has no first key with a kid and a private part`, 2)
  return first
}

export const signingKeyCommands: Record<string, Command> = {
  'signing-key generate': {
    args: [],
    flags: {
      alg: { description: 'ES256 (default) or EdDSA' },
      'rotate-from': { description: 'the current OAUTH_SIGNING_KEYS (a file, or - for stdin): keep its signer second' },
    },
    summary: 'print a new OAUTH_SIGNING_KEYS key set (with --json: the set itself, for wrangler secret put)',
    async run(ctx, _args, flags) {
      const key = await newSigningKey(flags.alg ?? 'ES256', ctx.now())
      const previous = flags['rotate-from'] === undefined ? undefined : currentSigner(flags['rotate-from'])
      if (previous && previous.kid === key.kid)
        throw new CliError('the new key has the kid of the old one; run again', 1)
      const set = { keys: previous ? [key, previous] : [key] }
      const text = JSON.stringify(set)
      return {
        json: set,
        lines: [text],
        warnings: [
          `New signing key ${String(key.kid)}${previous ? `, first; ${String(previous.kid)} kept second to verify the tokens it signed` : ''}.`,
          'This holds private keys: set it with `npx wrangler secret put OAUTH_SIGNING_KEYS` and keep no copy in git.',
          ...(previous
            ? [
                `After ${ACCESS_TOKEN_MINUTES.max / 60} hours (the longest token lifetime), set a set without ${String(previous.kid)}.`,
              ]
            : []),
        ],
      }
    },
  },
}
