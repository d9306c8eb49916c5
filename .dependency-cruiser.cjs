// Import rules for src/ (npm run deps). Every rule is an error, so `npm test` and `npm run check` fail on it.
//
// The layers of src/, top to bottom. A module imports only from its own layer or the layers below it, never
// from a layer above. Because that order is total, a cycle between two folders of src/ cannot pass the
// 'layers' rule: one of the two folders sits above the other, and the import from the lower one to the
// upper one is an error. 'no-folder-cycles' checks the same thing directly, for sub-folders too (src/scim/*).
// A folder that is not in this list is an error ('layer-unknown') until it is given its place here.
const LAYERS = [
  // The files at the root of src/ (index.ts, app.ts, directory.ts, maintenance.ts) and the dev tooling.
  { name: 'top', path: ['^src/[^/]+$', '^src/dev/'] },
  { name: 'routes', path: ['^src/routes/'] },
  { name: 'runtime', path: ['^src/runtime/'] },
  { name: 'auth', path: ['^src/auth/'] },
  { name: 'invites', path: ['^src/invites/'] },
  // Webhook deliveries: the events outbox, the queue consumer, the sender.
  { name: 'webhooks', path: ['^src/webhooks/'] },
  { name: 'provisioning', path: ['^src/provisioning/'] },
  { name: 'lifecycle', path: ['^src/lifecycle/'] },
  { name: 'db', path: ['^src/db/'] },
  { name: 'scope', path: ['^src/scope/'] },
  { name: 'd1', path: ['^src/d1/'] },
  { name: 'observability', path: ['^src/observability/'] },
  // Events to the app: their shape, Standard Webhooks signatures, RFC 9967 SETs; Workers-free.
  { name: 'signals', path: ['^src/signals/'] },
  // OAuth 2.0 (RFC 6749, 7523, 8414, 9068): tokens, assertions, keys; Workers-free but for fetch.
  { name: 'oauth', path: ['^src/oauth/'] },
  { name: 'tenants', path: ['^src/tenants/'] },
  { name: 'scim', path: ['^src/scim/'] },
]

// The support CLI (a Node program) inside src/tenants/; the rest of src/tenants/ is the tenant document the Worker reads.
const TENANT_CLI =
  '^src/tenants/(cli|commands|kv-store|worker-commands|command|app-key-commands|erasure-commands|oauth-client-commands|signing-key-commands|set-command|webhook-commands|expiry|scope-flag|user-commands|catalog-commands|schema-commands|support-journal|operator|next-steps)\\.tsx?$'

const layerRules = LAYERS.slice(1).map((layer, i) => ({
  name: `layer-${layer.name}`,
  comment: `src/${layer.name}/ sits below ${LAYERS.slice(0, i + 1)
    .map((l) => l.name)
    .join(', ')}: it imports none of them`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: LAYERS.slice(0, i + 1).flatMap((l) => l.path) },
}))

const KNOWN = LAYERS.flatMap((l) => l.path)

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle between files (type-only imports count).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'No import cycle between folders (the layer order forbids them between the folders of src/ too).',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'scim-is-pure',
      comment: 'src/scim/ is the SCIM model: it imports nothing outside itself, no npm package, no node: module.',
      severity: 'error',
      from: { path: '^src/scim/' },
      to: { pathNot: '^src/scim/' },
    },
    ...layerRules,
    {
      name: 'routes-not-db',
      comment:
        'Routes call the service layer, never the database directly (they may recognise the storage error types, to render them).',
      severity: 'error',
      from: { path: '^src/routes/' },
      to: { path: ['^src/db/', '^src/d1/'], pathNot: '^src/d1/errors\\.ts$' },
    },
    {
      name: 'db-not-services',
      comment: 'src/db/ knows nothing of the services and the HTTP side above it.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/(lifecycle|invites|provisioning|routes|runtime|auth)/' },
    },
    {
      name: 'tenant-cli-imports',
      comment: 'The support CLI (a Node program) imports only src/tenants/ and src/scim/ from src/.',
      severity: 'error',
      from: { path: TENANT_CLI },
      to: { path: '^src/', pathNot: '^src/(tenants|scim)/' },
    },
    {
      name: 'worker-not-tenant-cli',
      comment: 'Only src/dev/ and the CLI itself import the support CLI; the Worker and the tenant document never do.',
      severity: 'error',
      from: { pathNot: ['^src/dev/', TENANT_CLI] },
      to: { path: TENANT_CLI },
    },
    {
      name: 'layer-unknown',
      comment: 'Every module of src/ is in a layer: give a new folder its place in LAYERS (.dependency-cruiser.cjs).',
      severity: 'error',
      from: { path: '^src/', pathNot: KNOWN },
      to: {},
    },
    {
      name: 'layer-unknown-target',
      comment: 'Every module of src/ is in a layer: give a new folder its place in LAYERS (.dependency-cruiser.cjs).',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: KNOWN },
    },
    {
      name: 'not-to-test',
      comment: 'src/ never imports the tests or the bench.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: ['^test/', '^bench/'] },
    },
    {
      name: 'not-unresolvable',
      comment: 'Every import resolves (a typo, a missing file, or a resolver that does not see the .ts imports).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // typescript 7 has no JS API that dependency-cruiser can use (it wants typescript <7), so @swc/core parses
    // the sources. swc always keeps type-only imports (`import type`, `type X` specifiers) as dependencies, so
    // they count for every rule above, cycles included. tsPreCompilationDeps only steers the tsc parser: true
    // changes nothing here but a warning that typescript is missing.
    parser: 'swc',
    tsPreCompilationDeps: false,
    doNotFollow: { path: 'node_modules' },
    moduleSystems: ['es6', 'cjs'],
    // Provided by workerd, not by node_modules. Imports use explicit extensions ('./y.ts', './page.tsx').
    builtInModules: { add: ['cloudflare:workers'] },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
}
