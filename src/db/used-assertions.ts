/** The one writer of used_assertions: the `jti`s of accepted client assertions, kept until they expire. */
import { sql } from 'drizzle-orm'
import { runWrite, statement } from '../d1/batch.ts'
import type { Scope, SystemScope } from '../scope/scope.ts'

/**
 * Records that `issuer` used `jti`, valid until `expiresAt`; false when it was used before (a replay).
 * One statement: two requests racing with the same jti cannot both see it unused.
 */
export async function recordAssertionUse(
  scope: Pick<Scope, 'db' | 'tenantKey'>,
  use: { issuer: string; jti: string; expiresAt: Date },
): Promise<boolean> {
  const changes = await runWrite(
    scope.db,
    statement(
      sql`INSERT INTO used_assertions (tenant_id, issuer, jti, expires_at) VALUES (${scope.tenantKey}, ${use.issuer}, ${use.jti}, ${use.expiresAt.toISOString()})
          ON CONFLICT (tenant_id, issuer, jti) DO NOTHING`,
    ),
  )
  return changes === 1
}

/** Removes the jtis whose assertions have expired (the cron): they can no longer be replayed. */
export async function pruneUsedAssertions(scope: SystemScope): Promise<number> {
  return runWrite(
    scope.db,
    statement(sql`DELETE FROM used_assertions WHERE expires_at <= ${scope.now().toISOString()}`),
  )
}
