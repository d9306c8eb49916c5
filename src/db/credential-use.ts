/** The one writer of credential_use: the day each credential last worked, for support's `show`. */
import { sql } from 'drizzle-orm'
import { runWrite, statement } from '../d1/batch.ts'
import type { Scope } from '../scope/scope.ts'

/** Marks `credentialId` used on `day` (`YYYY-MM-DD`); never moves the day backwards. */
export async function recordCredentialUse(
  scope: Pick<Scope, 'db' | 'tenantKey'>,
  credentialId: string,
  day: string,
): Promise<void> {
  await runWrite(
    scope.db,
    statement(
      sql`INSERT INTO credential_use (tenant_id, credential_id, used_on) VALUES (${scope.tenantKey}, ${credentialId}, ${day})
          ON CONFLICT (tenant_id, credential_id) DO UPDATE SET used_on = excluded.used_on WHERE used_on < excluded.used_on`,
    ),
  )
}
