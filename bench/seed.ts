/**
 * Seeds tenants straight into the local D1 database, bypassing the API, with rows shaped exactly as
 * src/db/users.ts createUser and src/db/groups.ts createGroup write them: the resource normalised by
 * the service's own normalizeResource, the indexed columns from its userColumns/userEmails (lower-cased
 * comparison forms), lifecycle from initialState, per-tenant seq 1..N, the kept tenant_counts row, one
 * user_emails row per email, group_members rows and member_count. Rows travel as one JSON parameter
 * per statement (INSERT ... SELECT ... FROM json_each(?)), about 1,000 rows a statement.
 */
import { newId } from '../src/db/ids.ts'
import { userColumns, userEmails } from '../src/db/user-columns.ts'
import { initialState } from '../src/lifecycle/state.ts'
import { normalizeResource } from '../src/scim/resource/normalize.ts'
import { groupResourceType, userResourceType } from '../src/scim/schemas/index.ts'
import { URN } from '../src/scim/urns.ts'
import { secretHash } from '../src/tenants/credentials.ts'
import { mintCredentials, newTenantDocument } from '../src/tenants/mint.ts'
import {
  tenantDocumentKey,
  tenantKey,
  type OAuthClientCredential,
  type TenantDocument,
  type WebhookConfig,
} from '../src/tenants/document.ts'
import { parseBearerToken, randomId, randomSecret, sha256Hex } from '../src/tenants/secrets.ts'

const ROWS_PER_STATEMENT = 1000
const STATEMENTS_PER_BATCH = 5

export interface SeededTenant {
  id: string
  /** `Basic base64(username:password)` for this tenant's minted credential. */
  authorization: string
  /** `Bearer scim_{id}_{secret}`: the tenant's static bearer credential. */
  bearer: string
  /** The tenant's OAuth client (secret method): its client_id and secret, and the client_secret_basic header. */
  oauthClient: { id: string; secret: string; basic: string }
  /** userIds[seq - 1] is the id of the user with that seq. */
  userIds: string[]
  /** groupIds[seq - 1]; groups with no members are listed in emptyGroupIds. */
  groupIds: string[]
  emptyGroupIds: string[]
  bigGroupId?: string
}

export interface TenantShape {
  users: number
  groups: number
  /** Members of group 1 (users seq 1..bigGroupMembers). */
  bigGroupMembers: number
  /** Groups (after group 1) that get `smallGroupMembers` members each; the remaining groups stay empty. */
  smallGroups: number
  smallGroupMembers: number
}

/** The SCIM body an Okta-like IdP would POST for user `seq` of a tenant; userName is `user{seq}@example.com`. */
export function userBody(seq: number, userName = `user${seq}@example.com`): Record<string, unknown> {
  return {
    schemas: [URN.user, URN.enterpriseUser],
    userName,
    externalId: `00u${String(seq).padStart(12, '0')}`,
    name: { givenName: `Given${seq}`, familyName: `Family${seq}`, formatted: `Given${seq} Family${seq}` },
    displayName: `Given${seq} Family${seq}`,
    emails: [{ value: userName, type: 'work', primary: true }],
    title: 'Engineer',
    locale: 'en-US',
    active: true,
    [URN.enterpriseUser]: { employeeNumber: String(100000 + seq), department: `Department ${seq % 40}` },
  }
}

/** `Basic base64(username:password)`. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
}

/** `Basic base64(client_id:client_secret)`, each form-urlencoded first (RFC 6749 §2.3.1). */
export function clientSecretBasic(clientId: string, secret: string): string {
  return basicAuth(encodeURIComponent(clientId), encodeURIComponent(secret))
}

/**
 * The tenant's credentials beside its Basic one: the static bearer token (newTenantDocument mints one;
 * a document without one gets one from mintCredentials) and an OAuth client of the secret method, made
 * as the support CLI makes credentials (randomId, randomSecret, only the SHA-256 stored). Each secret
 * is checked against the hash the Worker compares (credentials.ts secretHash) before it is used.
 */
async function addBenchCredentials(
  doc: TenantDocument,
  bearerToken: string | undefined,
  now: Date,
): Promise<{ bearer: string; oauthClient: SeededTenant['oauthClient'] }> {
  let token = bearerToken
  if (!token || !doc.credentials.some((c) => c.kind === 'bearer')) {
    const minted = await mintCredentials(now)
    doc.credentials.push(...minted.credentials.filter((c) => c.kind === 'bearer'))
    token = minted.secrets.bearerToken
  }
  const secret = randomSecret()
  const client: OAuthClientCredential = {
    id: randomId(),
    kind: 'oauth-client',
    createdAt: now.toISOString(),
    auth: { method: 'client_secret', secretSha256: await sha256Hex(secret) },
  }
  doc.credentials.push(client)
  const parsed = parseBearerToken(token)
  const bearerCredential = doc.credentials.find((c) => c.kind === 'bearer' && c.id === parsed?.credentialId)
  if (!parsed || secretHash(bearerCredential) !== (await sha256Hex(parsed.secret)))
    throw new Error(`seeding ${doc.id}: the bearer token does not match its credential's hash`)
  if (secretHash(client) !== (await sha256Hex(secret)))
    throw new Error(`seeding ${doc.id}: the OAuth client secret does not match its credential's hash`)
  return {
    bearer: `Bearer ${token}`,
    oauthClient: { id: client.id, secret, basic: clientSecretBasic(client.id, secret) },
  }
}

/** One SQL statement and its parameters, as the bench's seeding transport carries it. */
export interface SeedStatement {
  sql: string
  params: unknown[]
}

/** Runs statements in one D1 batch (a transaction). */
export type SeedExec = (statements: SeedStatement[]) => Promise<void>

async function runChunks(exec: SeedExec, sql: string, tenantId: string, rows: unknown[][]): Promise<void> {
  let batch: SeedStatement[] = []
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    batch.push({ sql, params: [tenantId, JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))] })
    if (batch.length === STATEMENTS_PER_BATCH) {
      await exec(batch)
      batch = []
    }
  }
  if (batch.length) await exec(batch)
}

const col = (i: number) => `json_extract(j.value, '$[${i}]')`

const USERS_SQL = `INSERT INTO users (tenant_id, id, seq, user_name, external_id, display_name, given_name, family_name, email,
  employee_number, department, manager_id, active, state, state_before_deactivation, source, version, created_at, updated_at, deleted_at, resource)
  SELECT ?1, ${Array.from({ length: 18 }, (_, i) => col(i)).join(', ')}, NULL, ${col(18)} FROM json_each(?2) j`

const EMAILS_SQL = `INSERT INTO user_emails (tenant_id, user_id, value, type, is_primary)
  SELECT ?1, ${col(0)}, ${col(1)}, ${col(2)}, ${col(3)} FROM json_each(?2) j`

const GROUPS_SQL = `INSERT INTO groups (tenant_id, id, seq, display_name, external_id, member_count, source, version, created_at, updated_at, resource)
  SELECT ?1, ${Array.from({ length: 10 }, (_, i) => col(i)).join(', ')} FROM json_each(?2) j`

const MEMBERS_SQL = `INSERT INTO group_members (tenant_id, group_id, member_id) SELECT ?1, ${col(0)}, ${col(1)} FROM json_each(?2) j`

/**
 * Creates tenant `id` in KV (a document as newTenantDocument makes it, plus an OAuth client: see
 * addBenchCredentials, and `options.webhooks` in its `webhooks` field, as the CLI's `webhook create`
 * stores them) and seeds its users and groups.
 */
export async function seedTenant(
  exec: SeedExec,
  kv: KVNamespace,
  id: string,
  shape: TenantShape,
  now: Date,
  options: { webhooks?: WebhookConfig[] } = {},
): Promise<SeededTenant> {
  // Tier "off": the bench measures the service, not the per-tenant limiter (the server declares no limiter).
  const { doc, secrets } = await newTenantDocument({ id, name: `bench ${id}`, settings: { rateLimitTier: 'off' } }, now)
  const { bearer, oauthClient } = await addBenchCredentials(doc, secrets.bearerToken, now)
  if (options.webhooks) doc.webhooks = options.webhooks
  // Rows under the tenant id (as for tenants made before keys), so the baseline Worker and the checks
  // address them by id; the key's length is all that differs from a minted key.
  const { key: _minted, ...legacy } = doc
  await kv.put(tenantDocumentKey(id), JSON.stringify(legacy))
  const key = tenantKey(legacy)
  const at = now.toISOString()

  // Rows are built a batch at a time while D1 inserts the batch before (building takes about a third
  // of the time, so overlapping it keeps the full seed well under half a minute).
  const userIds: string[] = []
  const batchUsers = ROWS_PER_STATEMENT * STATEMENTS_PER_BATCH
  let pending: Promise<void> = Promise.resolve()
  for (let from = 1; from <= shape.users; from += batchUsers) {
    const userRows: unknown[][] = []
    const emailRows: unknown[][] = []
    for (let seq = from; seq < from + batchUsers && seq <= shape.users; seq++) {
      const userId = newId()
      userIds.push(userId)
      const resource = normalizeResource(userResourceType, userBody(seq))
      const c = userColumns(resource)
      const life = initialState(true, 'scim')
      userRows.push([
        userId,
        seq,
        c.userName,
        c.externalId,
        c.displayName,
        c.givenName,
        c.familyName,
        c.email,
        c.employeeNumber,
        c.department,
        c.managerId,
        c.active ? 1 : 0,
        life.state,
        life.stateBeforeDeactivation,
        'scim',
        1,
        at,
        at,
        JSON.stringify(resource),
      ])
      for (const e of userEmails(resource)) emailRows.push([userId, e.value, e.type, e.primary ? 1 : 0])
    }
    await pending
    pending = runChunks(exec, USERS_SQL, key, userRows).then(() => runChunks(exec, EMAILS_SQL, key, emailRows))
  }
  await pending

  const groupIds: string[] = []
  const groupRows: unknown[][] = []
  const memberCounts: number[] = []
  for (let seq = 1; seq <= shape.groups; seq++) {
    const groupId = newId()
    groupIds.push(groupId)
    const resource = normalizeResource(groupResourceType, {
      schemas: [URN.group],
      displayName: `Group ${seq}`,
      externalId: `00g${String(seq).padStart(12, '0')}`,
    })
    const members = seq === 1 ? shape.bigGroupMembers : seq <= 1 + shape.smallGroups ? shape.smallGroupMembers : 0
    memberCounts.push(members)
    groupRows.push([
      groupId,
      seq,
      String(resource.displayName).toLowerCase(),
      resource.externalId,
      members,
      'scim',
      1,
      at,
      at,
      JSON.stringify(resource),
    ])
  }
  await runChunks(exec, GROUPS_SQL, key, groupRows)
  const memberRows: unknown[][] = []
  for (let g = 0; g < shape.groups; g++) {
    const n = memberCounts[g]!
    // Small groups take a window of users that moves along, so memberships spread over the tenant.
    const start = g === 0 ? 0 : (g * 37) % Math.max(1, shape.users - n)
    for (const userId of userIds.slice(start, start + n)) memberRows.push([groupIds[g], userId])
  }
  await runChunks(exec, MEMBERS_SQL, key, memberRows)
  await exec([
    {
      sql: 'INSERT INTO tenant_counts (tenant_id, users, groups) VALUES (?1, ?2, ?3) ON CONFLICT (tenant_id) DO UPDATE SET users = ?2, groups = ?3',
      params: [key, shape.users, shape.groups],
    },
  ])

  return {
    id,
    authorization: basicAuth(secrets.username, secrets.password),
    bearer,
    oauthClient,
    userIds,
    groupIds,
    emptyGroupIds: groupIds.filter((_, i) => memberCounts[i] === 0),
    bigGroupId: shape.bigGroupMembers ? groupIds[0] : undefined,
  }
}
