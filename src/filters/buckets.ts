/**
 * The time buckets a log read counts into: their start instants and the end of the last, as the
 * stats read gives them (local days, hours, ISO weeks or months of a zone, from src/time.ts), so
 * a filtered series has the same buckets and labels as the unfiltered one. A range with one
 * bucket is just `[from, to]`. Rows fall into them the same way in both executions:
 * `width_bucket` over the bounds in SQL, a binary search here.
 *
 * @example
 * const b = bucketsOf('day', '2026-11-27', '2026-11-28', 'Europe/Berlin')
 * b.labels // ['2026-11-27', '2026-11-28']
 * bucketOf(b.bounds, Date.parse('2026-11-27T23:30:00Z')) // 1: that is the 28th in Berlin
 */
import type { Granularity } from '../read/bounds.ts'
import { addDays, dayStart, dayStarts, localHours, periodsOf } from '../time.ts'

export interface Buckets {
  /** bucket starts then the end of the last, epoch ms, ascending: the range is [first, last) */
  bounds: number[]
  /** one per bucket: its first local day (`YYYY-MM-DD`), or its start instant (ISO) by hour */
  labels: string[]
}

/** The buckets of local days `from`..`to` (inclusive) in `tz`. */
export function bucketsOf(granularity: Granularity, from: string, to: string, tz: string): Buckets {
  const end = dayStart(addDays(to, 1), tz)
  if (granularity === 'hour') {
    const hours = localHours(dayStart(from, tz), end, tz)
    return { bounds: [...hours.map((h) => h.start), end], labels: hours.map((h) => new Date(h.start).toISOString()) }
  }
  if (granularity === 'day') {
    const bounds = dayStarts(from, to, tz)
    return { bounds, labels: bounds.slice(0, -1).map((_, i) => addDays(from, i)) }
  }
  const periods = periodsOf(from, to, granularity)
  return { bounds: [...periods.map(([first]) => dayStart(first, tz)), end], labels: periods.map(([first]) => first) }
}

/** The bucket `ms` falls in (an index into the buckets), or -1 outside the range. */
export function bucketOf(bounds: readonly number[], ms: number): number {
  if (bounds.length < 2 || ms < bounds[0]! || ms >= bounds.at(-1)!) return -1
  let lo = 0
  let hi = bounds.length - 1
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (bounds[mid]! <= ms) lo = mid
    else hi = mid
  }
  return lo
}
