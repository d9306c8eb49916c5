/**
 * `oauth-client create|list|revoke`: a tenant's OAuth 2.0 clients for its token endpoint. A client
 * proves itself with a secret (shown once, stored as SHA-256), a registered public key or JWKS URL
 * (private_key_jwt), or an assertion of a trusted issuer (workload identity federation, e.g. Entra).
 */
import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { checkId, CliError, type Command, type CommandContext } from './command.ts'
import {
  credentialExpired,
  credentialScopes,
  DEFAULT_CLIENT_EXPIRY,
  formatScopes,
  isKeyUrl,
  tokenEndpoint,
} from './credentials.ts'
import {
  tenantBaseUrl,
  type ClientAuthentication,
  type OAuthClientCredential,
  type PublicJwk,
  type TenantDocument,
} from './document.ts'
import { parseExpiry } from './expiry.ts'
import { parseScopeFlag } from './scope-flag.ts'
import { randomId, randomSecret, sha256Hex } from './secrets.ts'

const SHOWN_ONCE = 'The client secret is shown once; only its SHA-256 is stored.'
const PUBLIC_KEY_TYPES = ['RSA', 'EC', 'OKP']
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use']

async function load(ctx: CommandContext, id: string): Promise<TenantDocument> {
  const doc = await ctx.store.get(checkId(id))
  if (!doc) throw new CliError(`unknown tenant "${id}" (${ctx.store.where})`)
  return doc
}

/** The public JWK in a PEM (SPKI) or JWK file; refuses private and symmetric keys. */
export function readPublicKey(file: string): PublicJwk {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read --public-key ${file}: ${(error as Error).message}`, 2)
  }
  if (/PRIVATE KEY/.test(text))
    throw new CliError(`--public-key ${file} holds a private key: register the public key only`, 2)
  let jwk: Record<string, unknown>
  if (text.includes('-----BEGIN')) {
    try {
      jwk = createPublicKey(text).export({ format: 'jwk' }) as Record<string, unknown>
    } catch (error) {
      throw new CliError(`--public-key ${file} is not a PEM public key: ${(error as Error).message}`, 2)
    }
  } else {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown> & { keys?: unknown[] }
      jwk = (Array.isArray(parsed.keys) && parsed.keys.length === 1 ? parsed.keys[0] : parsed) as Record<
        string,
        unknown
      >
    } catch {
      throw new CliError(`--public-key ${file} is neither a PEM public key nor a JWK (JSON)`, 2)
    }
    if (jwk.d !== undefined || jwk.p !== undefined)
      throw new CliError(`--public-key ${file} holds a private key: register the public key only`, 2)
  }
  if (typeof jwk.kty !== 'string' || !PUBLIC_KEY_TYPES.includes(jwk.kty))
    throw new CliError(
      `--public-key ${file}: only RSA, EC and OKP (Ed25519) public keys; symmetric keys are refused`,
      2,
    )
  return Object.fromEntries(PUBLIC_MEMBERS.filter((m) => jwk[m] !== undefined).map((m) => [m, jwk[m]])) as PublicJwk
}

/** A URL flag that keys are fetched from: https, or http on the loopback address. */
function keyUrl(flag: string, value: string): string {
  if (!isKeyUrl(value)) throw new CliError(`--${flag} "${value}" must be an https URL (http only for 127.0.0.1)`, 2)
  return value
}

/** How the client will authenticate, from the flags; at most one kind. */
async function authFromFlags(
  flags: Record<string, string | undefined>,
): Promise<{ auth: ClientAuthentication; secret?: string }> {
  const federated = flags['federated-issuer'] !== undefined || flags['federated-subject'] !== undefined
  const kinds = [flags['public-key'] !== undefined, federated, flags['jwks-url'] !== undefined && !federated]
  if (kinds.filter(Boolean).length > 1)
    throw new CliError('use one of --public-key, --jwks-url, or --federated-issuer with --federated-subject', 2)
  if (flags['federated-audience'] !== undefined && !federated)
    throw new CliError('--federated-audience needs --federated-issuer and --federated-subject', 2)
  if (federated) {
    const issuer = flags['federated-issuer']
    const subject = flags['federated-subject']?.trim()
    if (!issuer || !subject) throw new CliError('--federated-issuer and --federated-subject go together', 2)
    const audience = flags['federated-audience']?.trim()
    return {
      auth: {
        method: 'federated',
        issuer: keyUrl('federated-issuer', issuer),
        subject,
        ...(audience ? { audience } : {}),
        ...(flags['jwks-url'] ? { jwksUrl: keyUrl('jwks-url', flags['jwks-url']) } : {}),
      },
    }
  }
  if (flags['public-key'] !== undefined)
    return { auth: { method: 'private_key_jwt', jwk: readPublicKey(flags['public-key']) } }
  if (flags['jwks-url'] !== undefined)
    return { auth: { method: 'private_key_jwt', jwksUrl: keyUrl('jwks-url', flags['jwks-url']) } }
  const secret = randomSecret()
  return { auth: { method: 'client_secret', secretSha256: await sha256Hex(secret) }, secret }
}

/** A new client with a secret (client_secret_basic or _post), expiring at `expiresAt`; the secret is returned once. */
export async function newSecretClient(
  now: Date,
  expiresAt: string,
): Promise<{ client: OAuthClientCredential; secret: string }> {
  const secret = randomSecret()
  const client: OAuthClientCredential = {
    id: randomId(),
    kind: 'oauth-client',
    createdAt: now.toISOString(),
    expiresAt,
    auth: { method: 'client_secret', secretSha256: await sha256Hex(secret) },
  }
  return { client, secret }
}

/** What `list` and `show` print of a client: never a hash. */
export function describeClient(c: OAuthClientCredential, now: Date) {
  const { auth } = c
  return {
    clientId: c.id,
    method: auth.method,
    scope: formatScopes(credentialScopes(c)),
    createdAt: c.createdAt,
    expiresAt: c.expiresAt ?? null,
    expired: credentialExpired(c, now),
    ...(auth.method === 'federated'
      ? { issuer: auth.issuer, subject: auth.subject, audience: auth.audience ?? null, jwksUrl: auth.jwksUrl ?? null }
      : {}),
    ...(auth.method === 'private_key_jwt' && 'jwksUrl' in auth ? { jwksUrl: auth.jwksUrl } : {}),
  }
}

export const oauthClientCommands: Record<string, Command> = {
  'oauth-client create': {
    args: ['id'],
    flags: {
      expires: {
        description: `when the client stops working: 90d, 18m, 2y or a date (default ${DEFAULT_CLIENT_EXPIRY}, at most 3y)`,
      },
      scope: { description: '"scim:read scim:write" (default), or "scim:read" for a read-only client' },
      'public-key': { description: 'private_key_jwt: a PEM or JWK file with the public key the client signs with' },
      'jwks-url': { description: "private_key_jwt: the client's JWKS URL; with --federated-issuer: the issuer's keys" },
      'federated-issuer': { description: 'workload identity federation: the iss of the assertions (Entra: Issuer)' },
      'federated-subject': { description: 'workload identity federation: their sub (Entra: Subject)' },
      'federated-audience': { description: 'workload identity federation: their aud (Entra: Audience)' },
    },
    summary: 'add an OAuth 2.0 client to a tenant; print its client id (and secret, once) and token endpoint',
    async run(ctx, args, flags) {
      const doc = await load(ctx, args.id!)
      const now = ctx.now()
      const expiresAt = parseExpiry(flags.expires ?? DEFAULT_CLIENT_EXPIRY, now).toISOString()
      const scope = parseScopeFlag(flags.scope)
      const { auth, secret } = await authFromFlags(flags)
      const client: OAuthClientCredential = {
        id: randomId(),
        kind: 'oauth-client',
        createdAt: now.toISOString(),
        expiresAt,
        ...(scope ? { scope } : {}),
        auth,
      }
      await ctx.store.put({ ...doc, credentials: [...doc.credentials, client] })
      const endpoint = tokenEndpoint(ctx.publicUrl, doc.id)
      const baseUrl = tenantBaseUrl(ctx.publicUrl, doc.id)
      const scopeText = formatScopes(credentialScopes(client))
      return {
        json: {
          tenantId: doc.id,
          clientId: client.id,
          ...(secret ? { clientSecret: secret } : {}),
          tokenEndpoint: endpoint,
          baseUrl,
          expiresAt,
          scope: scopeText,
          method: auth.method,
        },
        lines: [
          `Added OAuth client ${client.id} (${auth.method}) to tenant ${doc.id} (${ctx.store.where}).`,
          `  Client ID:      ${client.id}`,
          ...(secret ? [`  Client secret:  ${secret}`] : []),
          `  Token URL:      ${endpoint}`,
          `  Base URL:       ${baseUrl}`,
          `  Scope:          ${scopeText}`,
          `  Expires:        ${expiresAt}`,
          ...(secret ? [SHOWN_ONCE] : []),
        ],
      }
    },
  },

  'oauth-client list': {
    args: ['id'],
    summary: "list a tenant's OAuth clients (never secrets or hashes)",
    async run(ctx, args) {
      const doc = await load(ctx, args.id!)
      const now = ctx.now()
      const clients = doc.credentials
        .filter((c): c is OAuthClientCredential => c.kind === 'oauth-client')
        .map((c) => describeClient(c, now))
      return {
        json: { tenantId: doc.id, tokenEndpoint: tokenEndpoint(ctx.publicUrl, doc.id), clients },
        lines: clients.length
          ? clients.map(
              (c) =>
                `${c.clientId}  ${c.method.padEnd(15)}  ${c.scope.padEnd(20)}  created ${c.createdAt.slice(0, 10)}  expires ${c.expiresAt?.slice(0, 10) ?? 'never'}${c.expired ? '  EXPIRED' : ''}`,
            )
          : [`Tenant ${doc.id} has no OAuth clients; add one with oauth-client create ${doc.id}.`],
      }
    },
  },

  'oauth-client revoke': {
    args: ['id', 'clientId'],
    summary: 'remove an OAuth client; its tokens stop within the tenant cache time',
    async run(ctx, args) {
      const doc = await load(ctx, args.id!)
      const target = doc.credentials.find((c) => c.id === args.clientId && c.kind === 'oauth-client')
      if (!target) throw new CliError(`tenant "${doc.id}" has no OAuth client "${args.clientId}"`)
      const credentials = doc.credentials.filter((c) => c !== target)
      await ctx.store.put({ ...doc, credentials })
      return {
        json: { tenantId: doc.id, revoked: target.id, remaining: credentials.length },
        lines: [
          `Revoked OAuth client ${target.id} of tenant ${doc.id}: it gets no new token, and its tokens stop within the tenant cache time.`,
        ],
      }
    },
  },
}
