/** The body of a message on the INVITES queue (README "People: invites and sign-in"). */
export interface InviteMessage {
  v: 1
  tenantId: string
  inviteId: string
}

/** True for a body of the v1 message shape. */
export function isInviteMessage(body: unknown): body is InviteMessage {
  const b = body as Partial<InviteMessage> | null
  return !!b && typeof b === 'object' && b.v === 1 && typeof b.tenantId === 'string' && typeof b.inviteId === 'string'
}
