/**
 * Bundles the three Workers the bench serves: scim-edge as deployed (src/index.ts), the same app
 * behind the D1 row counter (bench/instrumented-entry.ts) and the bare baseline. esbuild with the
 * options wrangler uses for a modules Worker (workerd conditions, ESM, node: and cloudflare: left to
 * the runtime), so what runs is what `wrangler deploy` would upload.
 */
import { build } from 'esbuild'
import { join } from 'node:path'

export interface Bundles {
  dir: string
  app: string
  instrumented: string
  baseline: string
}

/** Builds the bundles into `outDir` and returns their file names (relative to outDir). */
export async function buildBundles(repoRoot: string, outDir: string): Promise<Bundles> {
  const entries = {
    app: join(repoRoot, 'src/index.ts'),
    instrumented: join(repoRoot, 'bench/instrumented-entry.ts'),
    baseline: join(repoRoot, 'bench/baseline/index.ts'),
  }
  await build({
    entryPoints: entries,
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: ['node:*', 'cloudflare:*'],
    minify: false,
    logLevel: 'warning',
  })
  return { dir: outDir, app: 'app.mjs', instrumented: 'instrumented.mjs', baseline: 'baseline.mjs' }
}
