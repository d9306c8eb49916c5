import { applyD1Migrations, env } from 'cloudflare:test'
import { appKeyDocumentKey, parseAppKey } from '../src/tenants/app-keys.ts'
import { sha256Hex } from '../src/tenants/secrets.ts'

// Storage is isolated per test file; applying the migrations is idempotent.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)

// The app key every test file may use (vitest.config.ts TEST_APP_KEY), allowed on every tenant.
const appKey = parseAppKey(env.TEST_APP_KEY)!
await env.TENANTS.put(
  appKeyDocumentKey(appKey.id),
  JSON.stringify({
    v: 1,
    id: appKey.id,
    secretSha256: await sha256Hex(appKey.secret),
    createdAt: new Date().toISOString(),
  }),
)
