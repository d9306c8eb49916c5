/**
 * Vitest globalSetup (Node): a real HTTP server on 127.0.0.1 standing in for identity providers that
 * publish keys (Entra's login.microsoftonline.com, a client's JWKS URL), which tests inside workerd
 * cannot start themselves. A test registers an issuer with its public keys:
 * `POST {hub}/issuers` with `{ "keys": [...] }` → `{ issuer, jwksUri }`; the issuer then serves
 * `GET {issuer}/.well-known/openid-configuration` and `GET {jwksUri}`; `PUT {jwksUri}` replaces the
 * keys (rotation) and `GET {issuer}/_hits` tells how often its keys were fetched.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    jwksHubUrl: string
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = ''
    req.on('data', (c: Buffer) => (text += c.toString()))
    req.on('end', () => {
      try {
        resolve(text ? JSON.parse(text) : undefined)
      } catch (error) {
        reject(error)
      }
    })
  })
}

export default async function setup(project: TestProject) {
  const issuers = new Map<string, { keys: unknown; hits: number }>()
  let next = 0
  let origin = ''
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', origin)
    if (req.method === 'POST' && url.pathname === '/issuers') {
      const body = (await readBody(req)) as { keys?: unknown }
      const id = String(next++)
      issuers.set(id, { keys: body?.keys ?? [], hits: 0 })
      return send(res, 201, { issuer: `${origin}/issuers/${id}`, jwksUri: `${origin}/issuers/${id}/keys` })
    }
    const match = /^\/issuers\/(\d+)(\/.*)$/.exec(url.pathname)
    const issuer = match && issuers.get(match[1]!)
    if (!match || !issuer) return send(res, 404, { error: 'no such issuer' })
    const rest = match[2]
    if (rest === '/.well-known/openid-configuration' && req.method === 'GET')
      return send(res, 200, { issuer: `${origin}/issuers/${match[1]}`, jwks_uri: `${origin}/issuers/${match[1]}/keys` })
    if (rest === '/keys' && req.method === 'GET') {
      issuer.hits++
      return send(res, 200, { keys: issuer.keys })
    }
    if (rest === '/keys' && req.method === 'PUT') {
      issuer.keys = ((await readBody(req)) as { keys?: unknown })?.keys ?? []
      return send(res, 200, { ok: true })
    }
    if (rest === '/_hits') return send(res, 200, { hits: issuer.hits })
    return send(res, 404, { error: 'not found' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  project.provide('jwksHubUrl', origin)
  return async () => {
    await new Promise((resolve) => server.close(resolve))
  }
}
