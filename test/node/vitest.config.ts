import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Node-side tests (the support CLI, dev tooling): they spawn wrangler, which workerd cannot.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/node/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
