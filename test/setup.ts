import { applyD1Migrations, env } from 'cloudflare:test'

// Storage is isolated per test file; applying the migrations is idempotent.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)
