/**
 * Keeps a view that includes today in step with the live feed: when the feed reports a change,
 * the view's reads are asked again, but at most once every `gapMs`, and never while reads of the
 * page are still out, so a busy site (a change every second) costs one round of reads every few
 * seconds and a slow server never has rounds piled on it. Changes that come while a round waits
 * are taken in by that round.
 *
 * @example
 * const follower = followChanges({ gapMs: 3000, idle: () => api.idle(), reread: refresh })
 * follower.changed() // now, or once the gap since the last round has passed and no read is out
 */
import type { LiveToday } from './live.ts'

export interface Follower {
  /** the feed reported a change: a round of reads is coming, if one is not already */
  changed(): void
  stop(): void
}

export function followChanges(options: {
  gapMs: number
  /** settles once no read of the page is out */
  idle: () => Promise<void>
  reread: () => void
}): Follower {
  let last = Number.NEGATIVE_INFINITY
  let timer: ReturnType<typeof setTimeout> | undefined
  let waiting = false
  let stopped = false

  async function run() {
    timer = undefined
    waiting = true
    await options.idle()
    waiting = false
    if (stopped) return
    last = Date.now()
    options.reread()
  }

  return {
    changed() {
      if (stopped || timer !== undefined || waiting) return
      timer = setTimeout(run, Math.max(0, last + options.gapMs - Date.now()))
    },
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}

/**
 * What of the feed's today a read can see change: the day, its visitors and its counts. Visitors
 * now leave it out: they fall as time passes, with nothing counted.
 */
export function todayKey(today: LiveToday): string {
  const totals = Object.entries(today.totals)
    .filter(([, n]) => n)
    .sort(([a], [b]) => (a < b ? -1 : 1))
  return JSON.stringify([today.day, today.visitors, totals])
}
