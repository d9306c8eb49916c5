/**
 * Invite link tokens. A token is the HMAC-SHA256 of the invite's
 * random id under a Worker secret, so the consumer can render the same link on every retry while
 * D1 keeps only the token's SHA-256: someone who reads the database cannot rebuild a link, and a
 * redelivered message never mints a second, different link for one invite.
 */
import { base64urlEncode } from '../scim/base64url.ts'
import { sha256Hex } from '../tenants/secrets.ts'

/** INVITE_TOKEN_KEY is missing: no invite link can be made or checked until it is set. */
export class InviteTokenKeyMissing extends Error {
  constructor() {
    super(
      'INVITE_TOKEN_KEY is not set: invite links cannot be made. Set it with `wrangler secret put INVITE_TOKEN_KEY` (npm start generates a local one)',
    )
  }
}

/** The secret that tokens are derived from: INVITE_TOKEN_KEY, its own secret, never derived from another. */
export function inviteTokenKey(env: { INVITE_TOKEN_KEY?: string }): string {
  if (!env.INVITE_TOKEN_KEY) throw new InviteTokenKeyMissing()
  return env.INVITE_TOKEN_KEY
}

/** The link token of one invite: 43 URL-safe characters (256 bits). */
export async function inviteToken(key: string, tenantKey: string, inviteId: string): Promise<string> {
  const hmacKey = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const mac = await crypto.subtle.sign(
    'HMAC',
    hmacKey,
    new TextEncoder().encode(`scim-edge/invite-token/v1\u0000${tenantKey}\u0000${inviteId}`),
  )
  return base64urlEncode(new Uint8Array(mac))
}

/** What D1 stores and looks a token up by. */
export function tokenHash(token: string): Promise<string> {
  return sha256Hex(token)
}

/** True for text that has the shape of a token; anything else is an unknown link without a D1 read. */
export function isTokenShaped(text: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(text)
}
