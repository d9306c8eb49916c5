// The part of autocannon's API that bench/load.ts uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  interface Request {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request
    onResponse?: (
      status: number,
      body: string,
      context: Record<string, unknown>,
      headers: Record<string, string>,
    ) => void
  }

  interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    overallRate?: number
    ignoreCoordinatedOmission?: boolean
    timeout?: number
    requests?: Request[]
  }

  interface Result {
    duration: number
    errors: number
    timeouts: number
    non2xx: number
  }

  interface Instance extends EventEmitter {
    stop(): void
  }

  function autocannon(options: Options, done: (error: Error | null, result: Result) => void): Instance
  export default autocannon
}
