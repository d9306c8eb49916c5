/**
 * The one read-compute-guarded-write loop (RFC 7644 §3.14): read the resource, compute its next
 * state, write it guarded by the version read. With If-Match the client's version must hold, so a lost
 * race is a 412. Without it, a lost race is read again and recomputed, after a jittered backoff, until
 * it applies or the time budget runs out: then the answer is 503 with Retry-After and nothing written.
 * A client that did not send If-Match is never answered 412.
 */
import { PreconditionFailed, ServiceUnavailable } from '../scim/errors.ts'

/** What one attempt came to: done (with the answer), or lost to a concurrent write. */
export type Attempt<T> = { done: T } | { lost: true }

/** The attempt lost the race: the version it read moved before its write. */
export const LOST: { lost: true } = { lost: true }

/** How long a write keeps trying before it answers 503; IdPs time out far later. */
export const WRITE_BUDGET_MS = 8_000

/** Backoff: full jitter over an exponential cap (10 ms doubling to 320 ms). */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(320, 10 * 2 ** attempt)
}

/** What is being written, for the errors. */
export interface WriteTarget {
  /** "User 0190…", "Group 0190…" */
  what: string
  /** True when the request sent If-Match: a lost race is then the client's 412. */
  pinned: boolean
}

/**
 * Runs `attempt` until it is done. Attempt counts bound the loop too, so a test that pins the clock
 * still ends.
 */
export async function guardedWrite<T>(target: WriteTarget, attempt: (n: number) => Promise<Attempt<T>>): Promise<T> {
  const started = Date.now()
  for (let n = 0; ; n++) {
    const result = await attempt(n)
    if ('done' in result) return result.done
    if (target.pinned)
      throw new PreconditionFailed(`${target.what} changed since If-Match was read; read it again and retry`)
    const wait = backoffMs(n)
    if (Date.now() - started + wait > WRITE_BUDGET_MS || n >= 200) {
      throw new ServiceUnavailable(
        `${target.what} is being changed by many requests at once; nothing was written. Retry shortly.`,
        1,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, wait))
  }
}
