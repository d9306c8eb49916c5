/** The body of a WEBHOOKS queue message: "this tenant has events to deliver". */
export interface WebhookMessage {
  v: 1
  tenantKey: string
}

/** What goes to the webhook dead letter queue when a delivery ran out of retries. */
export interface DeadDelivery {
  v: 1
  tenantKey: string
  webhookId: string
  eventId: string
  seq: number
  type: string
  attempts: number
  lastError: string | null
}
