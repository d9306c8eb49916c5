/**
 * Events to the app as Security Event Tokens (RFC 8417) with the SCIM event URIs of RFC 9967, for
 * webhooks of format "set" (pushed per RFC 8935). Notice events by default: the subject's path and the
 * names of what changed. The full variants, with the resource JSON as `data`, only when the caller
 * passes it.
 */
import { type CryptoKey, SignJWT } from 'jose'
import type { AppEvent, EventType } from './event.ts'

/** The media type of a SET (RFC 8417 §7.2), the body of an RFC 8935 push. */
export const SET_CONTENT_TYPE = 'application/secevent+jwt'

/** The JWS `typ` of a SET (RFC 8417 §2.3). */
export const SET_TYP = 'secevent+jwt'

const PROV = 'urn:ietf:params:scim:event:prov'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

/** The RFC 9967 §2.4 provisioning event URIs. */
export const SCIM_EVENT = {
  createNotice: `${PROV}:create:notice`,
  createFull: `${PROV}:create:full`,
  patchNotice: `${PROV}:patch:notice`,
  patchFull: `${PROV}:patch:full`,
  putNotice: `${PROV}:put:notice`,
  putFull: `${PROV}:put:full`,
  delete: `${PROV}:delete`,
  activate: `${PROV}:activate`,
  deactivate: `${PROV}:deactivate`,
} as const

/**
 * A person accepted their invite and may now sign in. RFC 9967 has no such event (its `activate` is
 * what `user.reactivated` sends), so this one is scim-edge's own URI; receivers ignore URIs they do not know.
 */
export const USER_JOINED_EVENT = 'urn:scim-edge:event:user:joined'

/** Every event URI a scim-edge SET may carry (for the ServiceProviderConfig `securityEvents.eventUris`). */
export const SET_EVENT_URIS: readonly string[] = [...Object.values(SCIM_EVENT), USER_JOINED_EVENT]

/** The key that signs SETs: the Worker's first signing key (ES256 or EdDSA). */
export interface SetSigner {
  kid: string
  alg: string
  key: CryptoKey
}

export interface SetOptions {
  /** `iss`: the Worker's public URL. */
  issuer: string
  /** `aud`: whom the SET is for (the webhook's audience). */
  audience: string
  /** The tenant's SCIM Base URL; `sub_id.uri` is relative to it (RFC 9967 §2.1), so the SET names it. */
  baseUrl: string
  /** The resource as SCIM returns it: asks for the `full` variants of create and put events. */
  full?: Record<string, unknown>
  signer: SetSigner
  /** `txn`: the change the event belongs to; the event id when not given. */
  txn?: string
  /** `iat`; now when not given. */
  now?: Date
}

type Payload = Record<string, unknown>

/** Which variant of a create or put event: notice (attribute names) or full (the resource as `data`). */
function variant(notice: string, full: string, attributes: string[], data?: Payload): Record<string, Payload> {
  return data ? { [full]: { data } } : { [notice]: { attributes } }
}

/** An RFC 7644 §3.5.2 PatchOp adding or removing members by id: the members change, ids only. */
function membersPatch(op: 'add' | 'remove', ids: readonly string[]): Payload {
  const Operations =
    op === 'add'
      ? [{ op, path: 'members', value: ids.map((value) => ({ value })) }]
      : ids.map((id) => ({ op, path: `members[value eq ${JSON.stringify(id)}]` }))
  return { schemas: [PATCH_OP], Operations }
}

/** The `events` claim of an event: RFC 9967 event URIs and their payloads. */
export function setEvents(event: AppEvent, full?: Payload): Record<string, Payload> {
  // A rename changes displayName, whether or not the event lists it.
  const attributes = event.attributes?.length ? event.attributes : event.type === 'group.renamed' ? ['displayName'] : []
  const put = () => variant(SCIM_EVENT.putNotice, SCIM_EVENT.putFull, attributes, full)
  switch (event.type) {
    case 'user.created':
    case 'group.created':
      // The assigned id is part of what a create shares (RFC 9967 §2.4.1).
      return variant(
        SCIM_EVENT.createNotice,
        SCIM_EVENT.createFull,
        ['id', ...attributes.filter((a) => a !== 'id')],
        full,
      )
    case 'user.updated':
    case 'group.updated':
    case 'group.renamed':
      // put is RFC 9967's event for "attributes changed" whatever the request (§2.4.3); patch:full would
      // have to carry the PATCH request, which events do not keep.
      return put()
    case 'user.deactivated':
    case 'user.reactivated': {
      // One SET, one change (RFC 9967 §2.1): the state event, and what changed beside it.
      const state = event.type === 'user.deactivated' ? SCIM_EVENT.deactivate : SCIM_EVENT.activate
      return attributes.length || full ? { [state]: {}, ...put() } : { [state]: {} }
    }
    case 'user.deleted':
    case 'group.deleted':
      return { [SCIM_EVENT.delete]: {} }
    case 'user.joined':
      return { [USER_JOINED_EVENT]: {} }
    case 'group.members_added':
    case 'group.members_removed':
      // The notice RFC 9967 §5 recommends for groups; in full mode the change itself, as §2.4.2 shows.
      return full
        ? {
            [SCIM_EVENT.patchFull]: {
              data: membersPatch(event.type === 'group.members_added' ? 'add' : 'remove', event.members ?? []),
            },
          }
        : { [SCIM_EVENT.patchNotice]: { attributes: ['members'] } }
    default:
      return unknownType(event.type)
  }
}

function unknownType(type: never): never {
  throw new Error(`no SET for event type ${String(type)}`)
}

/** The event URIs a type's SET carries, notice or full (tests and discovery). */
export function eventUris(type: EventType, full = false): string[] {
  const event: AppEvent = {
    id: '',
    seq: 0,
    type,
    time: new Date(0).toISOString(),
    tenantId: '',
    actor: { kind: 'system', id: null },
    resource: { type: type.startsWith('group.') ? 'Group' : 'User', id: '' },
  }
  return Object.keys(setEvents(event, full ? {} : undefined))
}

/**
 * The SET of an event, a compact JWS: `jti` the event id, `toe` when it committed, `sub_id` the
 * resource's path (format "scim", RFC 9967 §2.1), `txn`, and the private `scim_base_url` the path is
 * relative to (one issuer serves every tenant, so the receiver learns the tenant and where to GET).
 */
export async function securityEventToken(event: AppEvent, options: SetOptions): Promise<string> {
  const endpoint = event.resource.type === 'User' ? 'Users' : 'Groups'
  const subId: Payload = { format: 'scim', uri: `/${endpoint}/${event.resource.id}` }
  // externalId is a value: only a full SET, which carries the resource anyway, names it.
  if (options.full && typeof options.full.externalId === 'string') subId.externalId = options.full.externalId
  const time = Date.parse(event.time)
  if (Number.isNaN(time)) throw new Error(`event ${event.id} has no valid time`)
  return new SignJWT({
    toe: Math.floor(time / 1000),
    txn: options.txn ?? event.id,
    sub_id: subId,
    events: setEvents(event, options.full),
    scim_base_url: options.baseUrl,
  })
    .setProtectedHeader({ alg: options.signer.alg, kid: options.signer.kid, typ: SET_TYP })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(Math.floor((options.now ?? new Date()).getTime() / 1000))
    .setJti(event.id)
    .sign(options.signer.key)
}
