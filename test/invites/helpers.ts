/** Helpers for invite tests: per-test mail servers (test/mail-hub.ts), consumer deps, users with invites. */
import { createExecutionContext, createMessageBatch, env, getQueueResult, type QueueResult } from 'cloudflare:test'
import { expect } from 'vitest'
import type { SinkMessage } from '../../src/dev/mail-sink.ts'
import { invitesOfUser, type InviteRecord } from '../../src/db/invites.ts'
import type { UserRecord } from '../../src/db/users.ts'
import { handleInviteBatch, type ConsumerDeps } from '../../src/invites/consumer.ts'
import { createMailClient, type MailProvider } from '../../src/invites/mail.ts'
import type { InviteMessage } from '../../src/invites/message.ts'
import { createScimUser } from '../../src/provisioning/users.ts'
import { systemTenantScopes } from '../../src/runtime/scopes.ts'
import { scopeOf } from '../helpers/scope.ts'
import type { TestTenant } from '../helpers/tenant.ts'

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

/** Where each provider's adapter posts on the sink. */
export const PROVIDER_PATH: Record<MailProvider, string> = {
  resend: '/emails',
  postmark: '/email',
  sendgrid: '/v3/mail/send',
}

/** A mail server of the test's own (a real HTTP server on 127.0.0.1 in the Node process). */
export interface TestSink {
  url: string
  messages(): Promise<SinkMessage[]>
  failNext(status: number, count?: number): Promise<void>
}

export async function newSink(): Promise<TestSink> {
  const res = await fetch(`${env.MAIL_HUB_URL}/sinks`, { method: 'POST', body: '{}' })
  expect(res.status).toBe(201)
  const { url } = (await res.json()) as { url: string }
  return {
    url,
    messages: async () => (await (await fetch(`${url}/messages`)).json()) as SinkMessage[],
    async failNext(status, count = 1) {
      const r = await fetch(`${url}/_fail`, { method: 'POST', body: JSON.stringify({ status, count }) })
      expect(r.status).toBe(200)
    },
  }
}

/** A server that accepts connections and never answers. */
export async function hangingServer(): Promise<string> {
  const res = await fetch(`${env.MAIL_HUB_URL}/sinks`, { method: 'POST', body: JSON.stringify({ kind: 'hang' }) })
  return ((await res.json()) as { url: string }).url
}

/** The messages the shared sink (the Worker's MAIL_API_URL) received for one recipient. */
export async function sharedSinkMessages(to: string): Promise<SinkMessage[]> {
  const origin = env.MAIL_API_URL.replace(/\/emails$/, '')
  const all = (await (await fetch(`${origin}/messages`)).json()) as SinkMessage[]
  return all.filter((m) => m.to === to)
}

/** Polls until `check` returns a value (the real queue delivers in the background). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Consumer deps that post to `sinkUrl` as `provider`; `now` pins the clock of the scopes it builds. */
export function consumerDeps(
  sinkUrl: string,
  overrides: Partial<ConsumerDeps> & { provider?: MailProvider; timeoutMs?: number; now?: () => Date } = {},
): ConsumerDeps {
  const { provider = 'resend', timeoutMs, now, ...rest } = overrides
  return {
    scope: systemTenantScopes(env, { task: 'queue', requestId: 'test-consumer', now }),
    mail: createMailClient({
      fetch: (i, init) => fetch(i, init),
      url: `${sinkUrl}${PROVIDER_PATH[provider]}`,
      apiKey: 'test-mail-key',
      from: 'scim-edge <invites@scim-edge.local>',
      provider,
      timeoutMs,
    }),
    tokenKey: env.INVITE_TOKEN_KEY!,
    appName: () => 'Demo App',
    ...rest,
  }
}

let messageSeq = 0

/** Runs the consumer on a batch of invite messages and returns the queue's verdict. */
export async function consume(deps: ConsumerDeps, bodies: unknown[], attempts = 1): Promise<QueueResult> {
  const batch = createMessageBatch<unknown>(
    'invites',
    bodies.map((body) => ({ id: `m${++messageSeq}`, timestamp: new Date(), attempts, body })),
  )
  const ctx = createExecutionContext()
  // The test batch does not record retry delays, so each message is wrapped to note them.
  const delays = new Map<string, number | undefined>()
  const messages = batch.messages.map((m) => ({
    id: m.id,
    timestamp: m.timestamp,
    attempts: m.attempts,
    body: m.body,
    ack: () => m.ack(),
    retry: (options?: QueueRetryOptions) => {
      delays.set(m.id, options?.delaySeconds)
      m.retry(options)
    },
  }))
  await handleInviteBatch(
    {
      queue: batch.queue,
      messages,
      ackAll: () => batch.ackAll(),
      retryAll: (o?: QueueRetryOptions) => batch.retryAll(o),
    } as unknown as MessageBatch<unknown>,
    deps,
  )
  const result = await getQueueResult(batch, ctx)
  return { ...result, retryMessages: result.retryMessages.map((r) => ({ ...r, delaySeconds: delays.get(r.msgId) })) }
}

/** A SCIM user created through provisioning (no queue involved), and its single pending invite. */
export async function userWithInvite(
  tenant: TestTenant,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<{ user: UserRecord; invite: InviteRecord; message: InviteMessage }> {
  const user = await createScimUser(scopeOf(tenant), {
    schemas: [USER],
    userName,
    displayName: 'Ada Lovelace',
    emails: [{ value: userName, primary: true }],
    ...extra,
  })
  const invites = await invitesOfUser(scopeOf(tenant), user.id)
  expect(invites).toHaveLength(1)
  return { user, invite: invites[0]!, message: { v: 2, tenantKey: tenant.key, inviteId: invites[0]!.id } }
}
