/** Reading and writing SCIM JSON over HTTP (RFC 7644 §3.1, §8.1). */
import { InvalidSyntax, PayloadTooLarge, UnsupportedMediaType } from '../scim/errors.ts'
import { jsonDepthExceeded, MAX_BODY_BYTES, MAX_JSON_DEPTH } from '../scim/limits.ts'
import { parseListParams, type ListParams } from '../scim/list/params.ts'
import { isObject } from '../scim/resource/values.ts'
import type { Context } from 'hono'

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8'

/** Bodies larger than this get 413 (advertised as bulk.maxPayloadSize's sibling in the README). */
export { MAX_BODY_BYTES }

/** A SCIM JSON response with the SCIM media type. */
export function scimJson(body: unknown, status: 200 | 201 = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': SCIM_CONTENT_TYPE, ...headers } })
}

/** What reading a request's body gave: its JSON, or a refusal (so nothing reads it again). */
type BodyRead = { ok: true; json: unknown } | { ok: false }

/** Bodies already read, by request: the journal summarises these instead of reading the body again. */
const bodies = new WeakMap<Request, BodyRead>()

function tooLarge(size: string, limit: number): PayloadTooLarge {
  return new PayloadTooLarge(`The request body is ${size} bytes; the limit is ${limit} bytes`)
}

/**
 * The body's bytes, read chunk by chunk: a declared Content-Length over the limit is refused before
 * reading, and a body without one (chunked) is cancelled as soon as more than MAX_BODY_BYTES arrived.
 */
async function readBounded(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > limit) throw tooLarge(String(declared), limit)
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      throw tooLarge(`more than ${limit}`, limit)
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    bytes.set(chunk, at)
    at += chunk.byteLength
  }
  return bytes
}

/** Parses body text as JSON after checking its nesting without recursion (MAX_JSON_DEPTH). */
function parseJson(text: string): unknown {
  if (!text.trim()) throw new InvalidSyntax('The request body is empty; send a JSON object')
  const deep = jsonDepthExceeded(text, MAX_JSON_DEPTH)
  if (deep >= 0) {
    throw new InvalidSyntax(
      `The request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels (at byte ${deep}); the limit is ${MAX_JSON_DEPTH}`,
    )
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new InvalidSyntax(`The request body is not valid JSON: ${(error as Error).message}`)
  }
}

/**
 * Reads a request body as JSON: `application/scim+json` or `application/json` (a missing type is
 * tolerated), at most `maxBytes` (MAX_BODY_BYTES unless the endpoint takes more) and MAX_JSON_DEPTH,
 * otherwise a SCIM error that says what to change.
 */
export async function readScimJson(c: Context, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type && type !== 'application/scim+json' && type !== 'application/json') {
    throw new UnsupportedMediaType(
      `Content-Type "${type.slice(0, 60)}" is not supported; send application/scim+json or application/json`,
    )
  }
  const request = c.req.raw
  bodies.set(request, { ok: false })
  const json = parseJson(new TextDecoder().decode(await readBounded(request, maxBytes)))
  bodies.set(request, { ok: true, json })
  return json
}

/**
 * The body's JSON for the journal: what readScimJson gave, or (when no handler read it) the body read
 * under the same limits; undefined when it is too large, not JSON, or was refused.
 */
export async function bodyForJournal(request: Request): Promise<unknown> {
  const known = bodies.get(request)
  if (known) return known.ok ? known.json : undefined
  if (request.bodyUsed) return undefined
  bodies.set(request, { ok: false })
  try {
    return parseJson(new TextDecoder().decode(await readBounded(request)))
  } catch {
    return undefined
  }
}

/** The list parameters of a POST .search body (RFC 7644 §3.4.3): a SearchRequest object. */
export async function searchParams(c: Context): Promise<ListParams> {
  const body = await readScimJson(c)
  return parseListParams(isObject(body) ? body : {})
}

/** Anything whose JSON comes in chunks (src/provisioning/group-representation.ts). */
interface Chunked {
  chunks(): AsyncGenerator<string>
}

function isChunked(value: unknown): value is Chunked {
  return typeof (value as Chunked | undefined)?.chunks === 'function'
}

/** A SCIM JSON response streamed from chunks of text, so a big resource is never whole in memory. */
export function scimStream(
  chunks: AsyncIterable<string>,
  status: 200 | 201 = 200,
  headers: Record<string, string> = {},
): Response {
  const encoder = new TextEncoder()
  const iterator = chunks[Symbol.asyncIterator]()
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await iterator.next()
      if (done) controller.close()
      else controller.enqueue(encoder.encode(value))
    },
  })
  return new Response(body, { status, headers: { 'Content-Type': SCIM_CONTENT_TYPE, ...headers } })
}

/** A ListResponse (RFC 7644 §3.4.2): plain JSON, or streamed when a resource in it is streamed. */
export function scimList(list: { head: Record<string, unknown>; resources: unknown[] }): Response {
  if (!list.resources.some(isChunked)) return scimJson({ ...list.head, Resources: list.resources })
  return scimStream(
    (async function* () {
      yield `${JSON.stringify(list.head).slice(0, -1)},"Resources":[`
      for (const [i, resource] of list.resources.entries()) {
        if (i > 0) yield ','
        if (isChunked(resource)) yield* resource.chunks()
        else yield JSON.stringify(resource)
      }
      yield ']}'
    })(),
  )
}

/** Runs `work` after the response is sent (waitUntil); without an execution context it just runs. */
export function background(c: Context): (work: Promise<unknown>) => void {
  return (work) => {
    try {
      c.executionCtx.waitUntil(work)
    } catch {
      void work
    }
  }
}
