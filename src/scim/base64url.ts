/** base64url without padding (RFC 4648 §5): cursors, tokens and secrets use it. */

/** Encodes bytes, or a string's code units (each below 256, as `btoa` requires). */
export function base64urlEncode(input: Uint8Array | string): string {
  let bin = ''
  if (typeof input === 'string') bin = input
  else for (const b of input) bin += String.fromCharCode(b)
  return btoa(bin).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

/** Decodes to a binary string (one code unit per byte); throws on text that is not base64url. */
export function base64urlDecode(text: string): string {
  return atob(text.replaceAll('-', '+').replaceAll('_', '/'))
}
