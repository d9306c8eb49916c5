/**
 * Runs the real support CLI (`src/tenants/cli.ts`) against a temporary `--persist-to` directory,
 * never the dev server's state. Shared by the node-side CLI test files.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect } from 'vitest'
import type { TenantDocument } from '../../src/tenants/document.ts'
import { secretHash } from '../../src/tenants/credentials.ts'
import { NODE_BIN, REPO_ROOT, createWranglerTenantStore } from '../../src/tenants/kv-store.ts'
import { parseBearerToken } from '../../src/tenants/secrets.ts'

/** One CLI run: exit code, output, and stdout parsed as JSON when it is JSON. */
export interface Run {
  code: number
  stdout: string
  stderr: string
  json: any
}

/**
 * Runs `node src/tenants/cli.ts ...args --persist-to {persistTo}` as its own process; `input` is
 * written to its stdin (for `-` file arguments), which is closed either way.
 */
export function runCli(args: string[], options: { persistTo: string; input?: string }): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      NODE_BIN,
      [join(REPO_ROOT, 'src/tenants/cli.ts'), ...args, '--persist-to', options.persistTo],
      { cwd: REPO_ROOT, env: { ...process.env, PUBLIC_URL: '' } },
      (error, stdout, stderr) => {
        let json: unknown
        try {
          json = JSON.parse(stdout)
        } catch {}
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, json })
      },
    )
    child.stdin?.end(options.input ?? '')
  })
}

/** A fresh local KV directory (removed after the file) and a `cli(...)` bound to it. */
export function useCli() {
  const persistTo = mkdtempSync(join(tmpdir(), 'scim-edge-cli-'))
  afterAll(() => rmSync(persistTo, { recursive: true, force: true }))

  const cli = (...args: string[]): Promise<Run> => runCli(args, { persistTo })

  /** The stored document, hashes included, read with wrangler directly. */
  const raw = (id: string) => createWranglerTenantStore({ remote: false, persistTo }).get(id)

  return { cli, raw, persistTo }
}

/** Non-zero exit and exactly one line on stderr matching `pattern`. */
export function expectOneLineError(run: Run, pattern: RegExp) {
  expect(run.code).not.toBe(0)
  expect(run.stderr.trim().split('\n')).toHaveLength(1)
  expect(run.stderr).toMatch(pattern)
}

/** Output holds no hash (64 hex), no password and no bearer secret. */
export function expectNoSecrets(
  output: string,
  doc: TenantDocument,
  secrets: { password?: string; bearerToken?: string },
) {
  for (const hash of doc.credentials.map(secretHash)) if (hash) expect(output).not.toContain(hash)
  expect(output).not.toMatch(/[0-9a-f]{64}/)
  expect(output).not.toContain(secrets.password)
  expect(output).not.toContain(parseBearerToken(secrets.bearerToken!)!.secret)
}
