import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Node-side tests (the support CLI, dev tooling): they spawn wrangler, which workerd cannot.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/node/**/*.test.ts'],
    environment: 'node',
    // Console output of passing tests is dropped (the Worker logs a line per request); failures keep theirs.
    silent: 'passed-only',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
