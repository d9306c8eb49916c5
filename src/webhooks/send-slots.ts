/**
 * The outgoing connections of one consumer invocation. A Worker invocation keeps at most 6 open at
 * once and queues the rest, so a send queued behind them would spend its timeout waiting; every
 * webhook of every tenant in a batch draws its sends from this one pool.
 */
export const SEND_SLOTS = 6

export class SendSlots {
  #free: number
  #waiters: (() => void)[] = []

  constructor(size = SEND_SLOTS) {
    this.#free = size
  }

  /** Takes up to `wanted` slots; returns how many it got (0 when all are out). */
  take(wanted: number): number {
    const n = Math.max(0, Math.min(wanted, this.#free))
    this.#free -= n
    return n
  }

  /** Gives `n` slots back and wakes whoever waits for one. */
  give(n = 1): void {
    if (n <= 0) return
    this.#free += n
    for (const wake of this.#waiters.splice(0)) wake()
  }

  /** Resolves once a slot is free (at once when one is). */
  whenFree(): Promise<void> {
    return this.#free > 0 ? Promise.resolve() : new Promise((resolve) => this.#waiters.push(resolve))
  }
}
