/**
 * A webhook receiver on 127.0.0.1 for tests and the bench: it records every delivery (arrival time,
 * headers, body, the status it answered) and answers as `behave` says: a status, or `hang` (no
 * answer at all, so the sender's timeout fires).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'

export interface Delivery {
  at: number
  id: string
  timestamp: string
  signature: string
  contentType: string
  body: string
  /** What the receiver answered; null when it hung. */
  status: number | null
}

export interface Receiver {
  url: string
  deliveries: Delivery[]
  /** Deliveries answered 2xx. */
  accepted(): Delivery[]
  behave: (d: Delivery) => number | 'hang'
  close(): Promise<void>
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

/** Starts a receiver; `behave` can be swapped at any time. */
export async function startReceiver(behave: Receiver['behave'] = () => 200): Promise<Receiver> {
  const hung = new Set<IncomingMessage>()
  const receiver: Receiver = {
    url: '',
    deliveries: [],
    accepted: () => receiver.deliveries.filter((d) => d.status !== null && d.status < 300),
    behave,
    close: () =>
      new Promise((r) => {
        for (const req of hung) req.socket.destroy()
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
  const server: Server = createServer(async (req, res) => {
    const body = await read(req)
    const delivery: Delivery = {
      at: Date.now(),
      id: String(req.headers['webhook-id'] ?? ''),
      timestamp: String(req.headers['webhook-timestamp'] ?? ''),
      signature: String(req.headers['webhook-signature'] ?? ''),
      contentType: String(req.headers['content-type'] ?? ''),
      body,
      status: null,
    }
    receiver.deliveries.push(delivery)
    const answer = receiver.behave(delivery)
    if (answer === 'hang') {
      hung.add(req)
      return
    }
    delivery.status = answer
    res.writeHead(answer, { 'content-type': 'application/json' })
    res.end('{}')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  receiver.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  return receiver
}
