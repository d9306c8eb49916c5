/**
 * The running `npm start`, as the CLI finds it: `npm start` writes `.wrangler/dev-server.json` (or
 * into `--persist-to`) once its Worker answers and removes it when it stops, so
 * `npm run tenant -- ...` reaches that Worker whatever PORT or PUBLIC_URL it was started with.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** What `npm start` records about itself. */
export interface DevServer {
  /** The `npm start` process; a file whose process is gone is ignored. */
  pid: number
  /** The Worker on this machine, `http://127.0.0.1:{PORT}`: the CLI calls it there. */
  url: string
  /** The base of Base URLs and invite links: PUBLIC_URL (a tunnel) or `url`. */
  publicUrl: string
  /** The local mail sink, whose `/signed-in` page local tenants' invitees land on. */
  mailSink: string
}

export function devServerFile(localDir: string): string {
  return join(localDir, 'dev-server.json')
}

/** The running `npm start` whose state is in `localDir`, or undefined. */
export function findDevServer(localDir: string): DevServer | undefined {
  let server: DevServer
  try {
    server = JSON.parse(readFileSync(devServerFile(localDir), 'utf8')) as DevServer
  } catch {
    return undefined
  }
  if (!Number.isInteger(server.pid) || typeof server.url !== 'string' || typeof server.publicUrl !== 'string')
    return undefined
  try {
    process.kill(server.pid, 0)
  } catch (error) {
    // EPERM: alive, owned by someone else; ESRCH: a file left by an `npm start` that was killed.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined
  }
  return server
}
