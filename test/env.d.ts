import type { D1Migration } from 'cloudflare:test'
import type { Env as WorkerEnv } from '../src/runtime/env.ts'

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[]
      TEST_APP_KEY: string
      /** test/jwks-hub.ts: where a test registers an issuer and its public keys. */
      JWKS_HUB_URL: string
    }
  }
}

declare global {
  interface ImportMeta {
    /** Vite's import.meta.glob, which vitest provides. */
    glob<T>(pattern: string, options: { eager: true; import: 'default' }): Record<string, T>
  }
}
