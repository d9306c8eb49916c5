/**
 * The `Directory` RPC entrypoint (shared/DESIGN.md "One Worker, three faces"): what the app-facing
 * HTTP API answers, for a Worker-based app bound to scim-edge by a service binding. Methods throw
 * a plain Error with a readable message for what HTTP would answer with 4xx.
 */
import { WorkerEntrypoint } from 'cloudflare:workers'
import { createDb, type Db } from './db/client.ts'
import type { Env } from './env.ts'
import { acceptInvite as accept, type DeadReason } from './invites/accept.ts'
import { inviteOutbox, tenantLoader } from './invites/runtime.ts'
import { appUser, canSignIn as access, type Access, type AppUser, type Who } from './lifecycle/access.ts'
import { createScimGroup } from './provisioning/groups.ts'
import { createScimUser } from './provisioning/users.ts'
import { getUser as readUser } from './db/users.ts'
import type { TenantDocument } from './tenants/document.ts'

export type { Access, AppUser, Who }

export class Directory extends WorkerEntrypoint<Env> {
  private get db(): Db {
    return createDb(this.env.DB)
  }

  private async tenant(tenantId: string): Promise<TenantDocument> {
    const tenant = await tenantLoader(this.env.TENANTS)(tenantId)
    if (!tenant) throw new Error(`No such tenant: ${tenantId}`)
    if (tenant.status !== 'active') throw new Error(`Tenant ${tenantId} is disabled`)
    return tenant
  }

  /** May this person sign in? Only joined users may; `state` says why not. */
  async canSignIn(tenantId: string, who: Who): Promise<Access> {
    await this.tenant(tenantId)
    return access(this.db, tenantId, who)
  }

  /** A live user by id, or null. */
  async getUser(tenantId: string, userId: string): Promise<AppUser | null> {
    await this.tenant(tenantId)
    const record = await readUser(this.db, tenantId, userId)
    return record ? appUser(record) : null
  }

  /** Accepts an invite token (for apps that host their own invite page); accepting twice is harmless. */
  async acceptInvite(token: string): Promise<{ accepted: true; tenantId: string; user: AppUser; appUrl: string } | { accepted: false; reason: DeadReason }> {
    const result = await accept(this.db, tenantLoader(this.env.TENANTS), token, new Date())
    if (!result.ok) return { accepted: false, reason: result.status.reason }
    return { accepted: true, tenantId: result.tenant.id, user: appUser(result.user), appUrl: result.tenant.appUrl }
  }

  /** A user made by the app (source "app", joined), which an IdP import can later find by userName or email. */
  async createUser(tenantId: string, user: Record<string, unknown>): Promise<AppUser> {
    await this.tenant(tenantId)
    return appUser(await createScimUser(this.db, tenantId, user, new Date(), inviteOutbox(this.env), 'app'))
  }

  /** A group made by the app (source "app"). */
  async createGroup(tenantId: string, group: Record<string, unknown>): Promise<{ id: string; displayName: string; memberCount: number }> {
    await this.tenant(tenantId)
    const created = await createScimGroup(this.db, tenantId, group, new Date(), 'app')
    return { id: created.id, displayName: String(created.resource.displayName), memberCount: created.memberCount }
  }
}
