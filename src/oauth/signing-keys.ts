/**
 * The Worker's token signing keys, from the secret OAUTH_SIGNING_KEYS: a JWK set of private keys
 * (ES256 or EdDSA), each with a `kid`. The first key signs; every key verifies, so a rotation keeps
 * the previous key second until the tokens it signed have expired. The public halves are published.
 */
import { createLocalJWKSet, importJWK, type CryptoKey, type JWK, type JWTVerifyGetKey } from 'jose'

/** Algorithms our access tokens may be signed with. */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256', 'EdDSA'] as const

/** The keys, imported once per isolate. */
export interface SigningKeys {
  /** The key that signs new tokens. */
  signer: { kid: string; alg: string; key: CryptoKey }
  /** Resolves the verification key of a token by its `kid` and `alg`. */
  verifier: JWTVerifyGetKey
  /** The public keys, as `/.well-known/jwks.json` serves them. */
  publicJwks: { keys: JWK[] }
}

/** OAUTH_SIGNING_KEYS is set but is not a usable key set; the message says why (never a key). */
export class SigningKeysInvalid extends Error {}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use'] as const

/** The parsed set: each key with its `kid`, algorithm and private part, the public half beside it. */
export function parseSigningKeys(text: string): { keys: (JWK & { kid: string; alg: string })[]; publics: JWK[] } {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new SigningKeysInvalid('OAUTH_SIGNING_KEYS is not JSON: set it to a JWK set, {"keys":[...]}')
  }
  const keys = (parsed as { keys?: unknown })?.keys
  if (!Array.isArray(keys) || keys.length === 0)
    throw new SigningKeysInvalid('OAUTH_SIGNING_KEYS has no "keys" array with at least one key')
  const out: (JWK & { kid: string; alg: string })[] = []
  const kids = new Set<string>()
  for (const [i, raw] of keys.entries()) {
    const key = raw as JWK
    const alg = key.alg ?? (key.kty === 'OKP' ? 'EdDSA' : key.kty === 'EC' && key.crv === 'P-256' ? 'ES256' : '')
    if (!(ACCESS_TOKEN_ALGORITHMS as readonly string[]).includes(alg))
      throw new SigningKeysInvalid(`OAUTH_SIGNING_KEYS key ${i + 1} is not an ES256 (P-256) or EdDSA (Ed25519) key`)
    if (typeof key.kid !== 'string' || !key.kid)
      throw new SigningKeysInvalid(`OAUTH_SIGNING_KEYS key ${i + 1} has no "kid"`)
    if (kids.has(key.kid)) throw new SigningKeysInvalid(`OAUTH_SIGNING_KEYS has two keys with kid "${key.kid}"`)
    if (typeof key.d !== 'string')
      throw new SigningKeysInvalid(`OAUTH_SIGNING_KEYS key "${key.kid}" has no private part ("d")`)
    kids.add(key.kid)
    out.push({ ...key, kid: key.kid, alg })
  }
  const publics = out.map((k) => {
    const pub: JWK = { use: 'sig' }
    for (const m of PUBLIC_MEMBERS) if (k[m] !== undefined) (pub as Record<string, unknown>)[m] = k[m]
    return pub
  })
  return { keys: out, publics }
}

let memo: { text: string; keys: Promise<SigningKeys> } | undefined

/** The imported keys of OAUTH_SIGNING_KEYS (kept for the isolate's life); undefined when the secret is unset. */
export function signingKeys(text: string | undefined): Promise<SigningKeys> | undefined {
  if (!text) return undefined
  if (memo?.text === text) return memo.keys
  const keys = (async (): Promise<SigningKeys> => {
    const { keys: set, publics } = parseSigningKeys(text)
    const first = set[0]!
    let key: CryptoKey
    try {
      key = (await importJWK(first, first.alg)) as CryptoKey
    } catch {
      throw new SigningKeysInvalid(`OAUTH_SIGNING_KEYS key "${first.kid}" cannot be imported as ${first.alg}`)
    }
    return {
      signer: { kid: first.kid, alg: first.alg, key },
      verifier: createLocalJWKSet({ keys: publics }),
      publicJwks: { keys: publics },
    }
  })()
  memo = { text, keys }
  // A bad secret fails every call the same way, without being cached as a rejected promise for ever.
  keys.catch(() => {
    if (memo?.keys === keys) memo = undefined
  })
  return keys
}
