/**
 * Credential secrets: minted from crypto.getRandomValues, stored as SHA-256, compared in constant time.
 * Works in Workers and in Node 22 (both have Web Crypto), so the CLI and the Worker share it.
 */

import { base64urlEncode } from '../scim/base64url.ts'

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** A URL-safe random string of `bytes` random bytes (base64url, no padding). */
export function randomSecret(bytes = 32): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(bytes)))
}

/** A short random id (lower-case base32), for credentials: `c` + 15 characters = 75 bits. */
export function randomId(prefix = 'c', length = 15): string {
  const buf = crypto.getRandomValues(new Uint8Array(length))
  let out = prefix
  for (const b of buf) out += BASE32[b & 31]
  return out
}

/** Hex SHA-256 of a UTF-8 string. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const length = Math.max(a.length, b.length)
  let diff = a.length ^ b.length
  for (let i = 0; i < length; i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0)
  return diff === 0
}

/** Bearer tokens carry their credential id: `scim_{credentialId}_{secret}`. */
export function formatBearerToken(credentialId: string, secret: string): string {
  return `scim_${credentialId}_${secret}`
}

/** Splits a bearer token into credential id and secret, or undefined when it has not our shape. */
export function parseBearerToken(token: string): { credentialId: string; secret: string } | undefined {
  const match = /^scim_(c[a-z2-7]{15})_([A-Za-z0-9_-]{22,})$/.exec(token)
  return match ? { credentialId: match[1]!, secret: match[2]! } : undefined
}
