/**
 * How long the event log keeps its rows: EVENTS_RETENTION_DAYS. A UTC day is dropped whole once
 * its last moment is that many days old, so every row is kept at least that long; 0 keeps every
 * day. The counters are not touched: the totals of a dropped day stay exact, only its rows (its
 * filtered reads) are gone.
 *
 * The flusher may call this after every flush: it drops at most once an hour per store, and a
 * drop is one catalog read when there is nothing to drop.
 *
 * @example
 * await enforceRetention(store, Date.now(), 400) // ['2025-10-31'] on the day that day turns 400 days old
 */
import { utcDay } from './partitions.ts'
import type { EventStore } from './store.ts'

export const RETENTION_EVERY_MS = 3_600_000

const DAY_MS = 86_400_000

/** When each store last dropped (by the callers' clock). */
const lastRun = new WeakMap<EventStore, number>()

/**
 * The first day kept at `now`: the UTC day of the instant `days` days before now. Every day
 * before it ended at least `days` days ago.
 */
export function firstKeptDay(now: number, days: number): string {
  const day = utcDay(now - days * DAY_MS)
  if (day === undefined) throw new RangeError(`no day is ${days} days before ${now}`)
  return day
}

/**
 * Drops the days before {@link firstKeptDay}, unless `days` is 0 or this store dropped less than
 * an hour before `now`; returns the days dropped.
 */
export async function enforceRetention(store: EventStore, now: number, days: number): Promise<string[]> {
  if (days === 0) return []
  const last = lastRun.get(store)
  if (last !== undefined && now >= last && now - last < RETENTION_EVERY_MS) return []
  lastRun.set(store, now)
  try {
    return await store.dropBefore(firstKeptDay(now, days))
  } catch (err) {
    // Postgres down: try again on the next call rather than in an hour
    if (last === undefined) lastRun.delete(store)
    else lastRun.set(store, last)
    throw err
  }
}
