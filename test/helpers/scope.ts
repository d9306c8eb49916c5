/** Scopes for tests that call the service layer directly, built by the Worker's own factory. */
import { env } from 'cloudflare:test'
import { tenantScope } from '../../src/runtime/scopes.ts'
import type { Actor, InviteOutbox, Scope, SystemScope } from '../../src/scope/scope.ts'
import { systemScope } from '../../src/runtime/scopes.ts'
import type { TenantDocument } from '../../src/tenants/document.ts'

/** An outbox that only notes what was announced. */
export function recordingOutbox(): { announced: string[]; outbox: InviteOutbox } {
  const announced: string[] = []
  return { announced, outbox: { announce: async (ids) => void announced.push(...ids) } }
}

/**
 * The scope of work on `tenant`, as its IdP credential unless `app` is set. New invites are announced
 * to `outbox` when one is given, else to nobody (the test consumes them itself; no queue delivery runs
 * in the background). `now` pins the clock.
 */
export function scopeOf(
  tenant: { doc: TenantDocument },
  options: { app?: boolean; outbox?: InviteOutbox; now?: Date } = {},
): Scope {
  const actor: Actor = options.app
    ? { kind: 'app', keyId: 'test-app' }
    : { kind: 'idp', credentialId: tenant.doc.credentials[0]!.id }
  const now = options.now
  const scope = tenantScope(env, tenant.doc, {
    actor,
    requestId: `test-${crypto.randomUUID()}`,
    origin: { method: 'TEST', path: 'test' },
    now: now && (() => now),
  })
  return { ...scope, outbox: { ...scope.outbox, invites: options.outbox ?? { announce: async () => {} } } }
}

/** The scope of work across tenants, at `now` when given. */
export function systemScopeAt(now?: Date): SystemScope {
  return systemScope(env, { requestId: `test-${crypto.randomUUID()}`, now: now && (() => now) })
}
