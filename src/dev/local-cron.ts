/**
 * The cron trigger for a local Worker. `wrangler dev` runs no cron on its own; with
 * `--test-scheduled` it serves `/__scheduled`, and calling that each minute runs the same sweep
 * production runs (invites whose queue send failed, webhooks whose wake-up went missing, pruning).
 */
export const TEST_SCHEDULED_FLAG = '--test-scheduled'

/** Fires the Worker's scheduled handler every `everyMs` until the returned function is called. */
export function startLocalCron(workerUrl: string, everyMs = 60_000): () => void {
  const fire = async () => {
    try {
      const res = await fetch(`${workerUrl}/__scheduled?cron=${encodeURIComponent('* * * * *')}`)
      await res.arrayBuffer()
    } catch {
      // The Worker is restarting or stopping; the next minute tries again.
    }
  }
  const timer = setInterval(() => void fire(), everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
