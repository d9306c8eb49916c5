/**
 * Standard Webhooks (standardwebhooks.com): the JSON payload `{ type, timestamp, data }` and the
 * `webhook-id`, `webhook-timestamp`, `webhook-signature` headers, signed by every live secret of a
 * webhook (so an app verifies with the old or the new secret while a rotation overlaps).
 */
import { Webhook } from 'standardwebhooks'
import type { AppEvent } from './event.ts'

/** A fresh webhook secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return `whsec_${btoa(String.fromCharCode(...bytes))}`
}

/** True for a secret of the form `whsec_` + base64 of 24 to 64 bytes. */
export function isWebhookSecret(secret: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret)
  if (!match) return false
  try {
    const length = atob(match[1]!).length
    return length >= 24 && length <= 64
  } catch {
    return false
  }
}

/** The payload of one event. */
export function standardPayload(event: AppEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.time, data: event })
}

/** The signature headers of `payload`, sent as message `id` at `at`, signed with each of `secrets`. */
export function signatureHeaders(
  id: string,
  at: Date,
  payload: string,
  secrets: string[],
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(id, at, payload)).join(' '),
  }
}
