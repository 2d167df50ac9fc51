/**
 * A service down behind the reads (a 503 naming Postgres or Redis): the page says so, keeps what
 * it shows, and finds out by itself when the service is back. While it is down, one read (the
 * last one that failed) is tried again, no sooner than the server's `Retry-After` and then less
 * often (×1.5 a time, up to 30 s), never while the last try is out; a page left open through a
 * long outage costs the server one request every half-minute, not a round of reads. A read that
 * failed in the outage, answered when sent again (the try, or the viewer's own), ends it; a read
 * that never failed proves nothing: today's visitors, say, are read from Redis alone and answer
 * while Postgres is down, so their answer must not end an outage of Postgres.
 *
 * @example
 * const outage = watchOutage({ probe: (url) => api.get(url), onChange: setOutage, onBack: refresh })
 * const unwatch = api.watch(outage.saw)
 */
import type { Outcome, Service } from './api.ts'

export interface Outage {
  service: Service
  /** when the first failed read was sent: answers of reads sent before it do not end the outage */
  since: number
  /** when the next try goes out */
  nextTry: number
}

/** Until the server says how long (`Retry-After`). */
export const FIRST_TRY_MS = 5_000
export const MAX_TRY_MS = 30_000
const GROWTH = 1.5

/** The wait before try `n` (0 first): the server's wait or the growing one, whichever is longer. */
export function tryDelay(n: number, retryAfterMs = FIRST_TRY_MS): number {
  return Math.min(MAX_TRY_MS, Math.max(retryAfterMs, FIRST_TRY_MS * GROWTH ** n))
}

export interface OutageWatch {
  /** every request's outcome (`api.watch`) */
  saw(outcome: Outcome): void
  /** the outage now, if any */
  current(): Outage | undefined
  stop(): void
}

export function watchOutage(options: {
  /** asks `url` again from the server; rejects while the service is still down */
  probe: (url: string) => Promise<unknown>
  onChange: (outage: Outage | undefined) => void
  /** the service answers again: read the view afresh */
  onBack: () => void
}): OutageWatch {
  let outage: Outage | undefined
  let url: string | undefined
  /** the reads that failed in this outage: only one of them answered ends it */
  const failed = new Set<string>()
  let tries = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  function schedule(retryAfterMs: number | undefined) {
    if (!outage || stopped) return
    // jitter, only later: a room of screens does not come back in lockstep
    const wait = tryDelay(tries++, retryAfterMs) * (1 + Math.random() * 0.2)
    outage = { ...outage, nextTry: Date.now() + wait }
    options.onChange(outage)
    timer = setTimeout(probe, wait)
  }

  async function probe() {
    timer = undefined
    if (!outage || !url || stopped) return
    const asked = url
    try {
      await options.probe(asked)
    } catch (error) {
      // still down (its outcome was seen, and kept the outage): the next try, later
      if (outage && !timer) schedule((error as { unavailable?: { retryAfterMs?: number } }).unavailable?.retryAfterMs)
    }
  }

  function back() {
    clearTimeout(timer)
    timer = undefined
    outage = undefined
    failed.clear()
    tries = 0
    options.onChange(undefined)
    options.onBack()
  }

  return {
    saw({ sentAt, error, url: read }) {
      if (stopped) return
      const down = error?.unavailable
      if (down) {
        url = read
        failed.add(read)
        if (outage) return
        outage = { service: down.service, since: sentAt, nextTry: 0 }
        schedule(down.retryAfterMs)
        return
      }
      if (outage && !error && sentAt >= outage.since && failed.has(read)) back()
    },
    current: () => outage,
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
