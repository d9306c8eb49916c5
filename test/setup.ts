import { applyD1Migrations, env } from 'cloudflare:test'

// Storage is isolated per test file; migrations are idempotent, so each file starts with the schema.
await applyD1Migrations(env.DB, (env as unknown as { TEST_MIGRATIONS: D1Migration[] }).TEST_MIGRATIONS)
