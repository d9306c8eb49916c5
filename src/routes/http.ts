/** Reading and writing SCIM JSON over HTTP (RFC 7644 §3.1, §8.1). */
import { InvalidSyntax, PayloadTooLarge, UnsupportedMediaType } from '../scim/errors.ts'
import { parseListParams, type ListParams } from '../scim/list/params.ts'
import { isObject } from '../scim/resource/values.ts'
import type { Context } from 'hono'

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8'

/** Bodies larger than this get 413 (advertised as bulk.maxPayloadSize's sibling in the README). */
export const MAX_BODY_BYTES = 1024 * 1024

/** A SCIM JSON response with the SCIM media type. */
export function scimJson(body: unknown, status: 200 | 201 = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': SCIM_CONTENT_TYPE, ...headers } })
}

/**
 * Reads a request body as JSON: `application/scim+json` or `application/json` (a missing type is
 * tolerated), at most MAX_BODY_BYTES, otherwise a SCIM error that says what to change.
 */
export async function readScimJson(c: Context): Promise<unknown> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type && type !== 'application/scim+json' && type !== 'application/json') {
    throw new UnsupportedMediaType(
      `Content-Type "${type.slice(0, 60)}" is not supported; send application/scim+json or application/json`,
    )
  }
  const declared = Number(c.req.header('content-length') ?? '0')
  if (declared > MAX_BODY_BYTES)
    throw new PayloadTooLarge(`The request body is ${declared} bytes; the limit is ${MAX_BODY_BYTES} bytes`)
  const buffer = await c.req.arrayBuffer()
  if (buffer.byteLength > MAX_BODY_BYTES) {
    throw new PayloadTooLarge(`The request body is ${buffer.byteLength} bytes; the limit is ${MAX_BODY_BYTES} bytes`)
  }
  const text = new TextDecoder().decode(buffer)
  if (!text.trim()) throw new InvalidSyntax('The request body is empty; send a JSON object')
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new InvalidSyntax(`The request body is not valid JSON: ${(error as Error).message}`)
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
