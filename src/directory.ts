/**
 * The `Directory` RPC entrypoint: what the app-facing HTTP API answers, for a Worker-based app bound
 * to scim-edge by a service binding. Methods throw a plain Error with a readable message for what HTTP
 * would answer with 4xx.
 */
import { WorkerEntrypoint } from 'cloudflare:workers'
import { acceptInvite as accept, type DeadReason } from './invites/accept.ts'
import { appUser, canSignIn as access, type Access, type AppUser, type Who } from './lifecycle/access.ts'
import { acknowledgeEvent, readFeed, type FeedPage } from './provisioning/event-feed.ts'
import { createScimGroup } from './provisioning/groups.ts'
import { createScimUser, getUser as readUser } from './provisioning/users.ts'
import type { Env } from './runtime/env.ts'
import { activeTenantScope, systemScope, systemTenantScopes } from './runtime/scopes.ts'
import { ScimError } from './scim/errors.ts'
import type { Scope } from './scope/scope.ts'
import type { AppEvent } from './signals/event.ts'

export type { Access, AppUser, FeedPage, Who }
export type { AppEvent } from './signals/event.ts'

export class Directory extends WorkerEntrypoint<Env> {
  /** The scope of one call on an active tenant; its errors are plain Errors (RPC carries no SCIM status). */
  private async scope(tenantId: string, method: string): Promise<Scope> {
    try {
      return await activeTenantScope(this.env, tenantId, {
        actor: { kind: 'app', keyId: 'directory' },
        requestId: `rpc-${crypto.randomUUID()}`,
        origin: { method: 'RPC', path: `Directory.${method}` },
      })
    } catch (error) {
      throw error instanceof ScimError ? new Error(error.message) : error
    }
  }

  /** May this person sign in? Only joined users may; `state` says why not. */
  async canSignIn(tenantId: string, who: Who): Promise<Access> {
    return access(await this.scope(tenantId, 'canSignIn'), who)
  }

  /** A live user by id, or null. */
  async getUser(tenantId: string, userId: string): Promise<AppUser | null> {
    const record = await readUser(await this.scope(tenantId, 'getUser'), userId)
    return record ? appUser(record) : null
  }

  /** Accepts an invite token (for apps that host their own invite page); accepting twice is harmless. */
  async acceptInvite(
    token: string,
  ): Promise<
    { accepted: true; tenantId: string; user: AppUser; appUrl: string } | { accepted: false; reason: DeadReason }
  > {
    const requestId = `rpc-${crypto.randomUUID()}`
    const result = await accept(
      {
        system: systemScope(this.env, { requestId }),
        scope: systemTenantScopes(this.env, { task: 'invite-page', requestId }),
      },
      token,
    )
    if (!result.ok) return { accepted: false, reason: result.status.reason }
    return { accepted: true, tenantId: result.tenant.id, user: appUser(result.user), appUrl: result.tenant.appUrl }
  }

  /** A user made by the app (source "app", joined), which an IdP import can later find by userName or email. */
  async createUser(tenantId: string, user: Record<string, unknown>): Promise<AppUser> {
    return appUser(await createScimUser(await this.scope(tenantId, 'createUser'), user))
  }

  /** A group made by the app (source "app"). */
  async createGroup(
    tenantId: string,
    group: Record<string, unknown>,
  ): Promise<{ id: string; displayName: string; memberCount: number }> {
    const created = await createScimGroup(await this.scope(tenantId, 'createGroup'), group)
    return { id: created.id, displayName: String(created.resource.displayName), memberCount: created.memberCount }
  }

  /** The change feed: events after `after` (a cursor of an earlier page; omitted: the oldest kept), at most `limit`. */
  async events(tenantId: string, query: { after?: string; limit?: number } = {}): Promise<FeedPage> {
    return this.call(() => this.scope(tenantId, 'events').then((scope) => readFeed(scope, query)))
  }

  /** The app's receipt of a deactivation or deletion: the person's sessions and tokens are revoked. */
  async ackEvent(tenantId: string, eventId: string): Promise<AppEvent> {
    return this.call(() => this.scope(tenantId, 'ackEvent').then((scope) => acknowledgeEvent(scope, eventId)))
  }

  /** Runs `work`, turning a SCIM error into a plain Error (RPC carries no SCIM status). */
  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw error instanceof ScimError ? new Error(error.message) : error
    }
  }
}
