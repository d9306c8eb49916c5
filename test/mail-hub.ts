/**
 * Vitest globalSetup (Node): real HTTP servers on 127.0.0.1 standing in for the mail API, which
 * tests inside workerd cannot start themselves. It runs one shared sink (the Worker's MAIL_API_URL,
 * for end-to-end tests through the real queue) and a hub where a test asks for a sink of its own:
 * `POST {hub}/sinks` → `{ url }` (src/dev/mail-sink.ts, with GET /messages and POST /_fail), or
 * `{ "kind": "hang" }` for a server that never answers (timeouts).
 */
import { createServer, type Server, type ServerResponse } from 'node:http'
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
        const { kind } = (text ? JSON.parse(text) : {}) as { kind?: string }
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
