/**
 * Vitest globalSetup (Node): real HTTP servers on 127.0.0.1 standing in for the mail API, which
 * tests inside workerd cannot start themselves. It runs one shared sink (the Worker's MAIL_API_URL,
 * for end-to-end tests through the real queue) and a hub where a test asks for a sink of its own:
 * `POST {hub}/sinks` → `{ url }` (src/dev/mail-sink.ts, with GET /messages and POST /_fail), or
 * `{ "kind": "hang" }` for a server that never answers (timeouts), `{ "kind": "redirect", "location" }`
 * for one answering every request with 307 to `location`, or `{ "kind": "huge", "bytes" }` for one
 * answering 400 with a body of `bytes` bytes, written with backpressure; its `GET /_written` tells how
 * many bytes it wrote before the client stopped reading.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { TestProject } from 'vitest/node'
import { startMailSink, type MailSink } from '../src/dev/mail-sink.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    mailSinkUrl: string
    mailHubUrl: string
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`)
    })
  })
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** Answers 400 with `bytes` bytes of filler, 64 KiB at a time, waiting whenever the socket is full. */
function hugeBody(bytes: number): { server: Server; written: () => number } {
  let written = 0
  const chunk = Buffer.alloc(65_536, 'x')
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/_written') return send(res, 200, { written })
    req.resume()
    res.writeHead(400, { 'Content-Type': 'text/plain', 'Content-Length': String(bytes) })
    let left = bytes
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left)
        left -= part.length
        written += part.length
        if (!res.write(part)) return void res.once('drain', pump)
      }
      if (left === 0) res.end()
    }
    res.on('error', () => {})
    pump()
  })
  return { server, written: () => written }
}

export default async function setup(project: TestProject) {
  const shared = await startMailSink({ port: 0, log: false })
  const sinks: MailSink[] = [shared]
  const hanging: Server[] = []

  const hub = createServer((req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => (text += c.toString('utf8')))
    req.on('end', async () => {
      try {
        if (req.method !== 'POST' || req.url !== '/sinks') return send(res, 404, { error: 'POST /sinks' })
        const { kind, location, bytes } = (text ? JSON.parse(text) : {}) as {
          kind?: string
          location?: string
          bytes?: number
        }
        if (kind === 'redirect') {
          const server = createServer((r, answer) => {
            r.resume()
            answer.writeHead(307, { Location: String(location) })
            answer.end()
          })
          hanging.push(server)
          return send(res, 201, { url: await listen(server) })
        }
        if (kind === 'huge') {
          const { server } = hugeBody(Number(bytes) || 40 * 1024 * 1024)
          hanging.push(server)
          return send(res, 201, { url: await listen(server) })
        }
        if (kind === 'hang') {
          const server = createServer(() => {}) // accepts, reads, never answers
          hanging.push(server)
          return send(res, 201, { url: await listen(server) })
        }
        const sink = await startMailSink({ port: 0, log: false })
        sinks.push(sink)
        return send(res, 201, { url: sink.url })
      } catch (error) {
        send(res, 500, { error: (error as Error).message })
      }
    })
  })
  const hubUrl = await listen(hub)
  project.provide('mailSinkUrl', shared.url)
  project.provide('mailHubUrl', hubUrl)

  return async () => {
    hub.closeAllConnections()
    await new Promise((r) => hub.close(r))
    for (const server of hanging) {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
    await Promise.all(sinks.map((s) => s.close()))
  }
}
