import { parseEventFilter } from '../signals/event.ts'
import { newWebhookSecret } from '../signals/standard-webhooks.ts'
export const x = [parseEventFilter, newWebhookSecret]
