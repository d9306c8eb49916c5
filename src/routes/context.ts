import type { Context } from 'hono'
import type { Db } from '../db/client.ts'
import type { Env } from '../env.ts'
import type { JournalDraft } from '../observability/journal.ts'
import type { Credential, TenantDocument } from '../tenants/document.ts'

/** Hono's typing of our bindings and per-request variables. */
export interface AppEnv {
  Bindings: Env
  Variables: {
    requestId: string
    db: Db
    tenant: TenantDocument
    credential: Credential
    /** The tenant's SCIM Base URL, `{PUBLIC_URL}/scim/v2/{tenantId}`, no trailing slash. */
    baseUrl: string
    /** The journal entry of a SCIM change (src/observability/journal.ts); absent on reads. */
    journal?: JournalDraft
  }
}

export type AppContext = Context<AppEnv>
