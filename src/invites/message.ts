/** The body of a message on the INVITES queue (README "People: invites and sign-in"). */
export interface InviteMessage {
  v: 2
  /** The tenant key its rows are stored under (src/tenants/document.ts `tenantKey`), not the tenant id. */
  tenantKey: string
  inviteId: string
}

/**
 * The message of a body, or undefined. v1 messages (`tenantId`), sent before tenant keys, are still read:
 * a tenant made then has its id as its key.
 */
export function readInviteMessage(body: unknown): InviteMessage | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as { v?: unknown; tenantKey?: unknown; tenantId?: unknown; inviteId?: unknown }
  if (typeof b.inviteId !== 'string') return undefined
  if (b.v === 2 && typeof b.tenantKey === 'string') return { v: 2, tenantKey: b.tenantKey, inviteId: b.inviteId }
  if (b.v === 1 && typeof b.tenantId === 'string') return { v: 2, tenantKey: b.tenantId, inviteId: b.inviteId }
  return undefined
}
