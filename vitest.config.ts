import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { exportJWK, generateKeyPair } from 'jose'
import { defineConfig } from 'vitest/config'

export default defineConfig(async () => {
  const migrations = await readD1Migrations('migrations')
  // The Worker's token signing key for this run: made here, so no private key is committed.
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'ES256', use: 'sig' }
  return {
    plugins: [
      // A function, so the mail servers that test/mail-hub.ts starts in Node reach the Worker's bindings.
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // An app key allowed on every tenant; test/setup.ts stores its document (src/tenants/app-keys.ts).
            TEST_APP_KEY: 'sea_atestappkey23456_test-app-key-secret-0123456789',
            INVITE_TOKEN_KEY: 'test-invite-token-key',
            OAUTH_SIGNING_KEYS: JSON.stringify({ keys: [signingKey] }),
            JWKS_HUB_URL: inject('jwksHubUrl'),
            // Tests change tenant documents and expect the next request to see it.
            TENANT_CACHE_SECONDS: '0',
            MAIL_API_KEY: 'test-mail-key',
            MAIL_API_URL: `${inject('mailSinkUrl')}/emails`,
            MAIL_HUB_URL: inject('mailHubUrl'),
          },
          // A tiny tier that test/hardening/rate-limit.test.ts tenants opt into (settings.rateLimitTier "test").
          // Failed authentication is limited higher than in wrangler.toml, so tests of 401s share the budget.
          ratelimits: {
            RATE_LIMITER_TEST: { namespace_id: '9001', simple: { limit: 3, period: 10 } },
            AUTH_FAILURES_BY_ADDRESS: { namespace_id: '9002', simple: { limit: 200, period: 60 } },
            AUTH_FAILURES_BY_TENANT: { namespace_id: '9003', simple: { limit: 40, period: 60 } },
            APP_RATE_LIMITER: { namespace_id: '9004', simple: { limit: 50, period: 10 } },
          },
        },
      })),
    ],
    test: {
      globalSetup: ['./test/mail-hub.ts', './test/jwks-hub.ts'],
      setupFiles: ['./test/setup.ts'],
      include: ['test/**/*.test.ts'],
      exclude: ['test/node/**', 'node_modules/**'],
      // Console output of passing tests is dropped (the Worker logs a line per request); failures keep theirs.
      silent: 'passed-only' as const,
    },
  }
})
