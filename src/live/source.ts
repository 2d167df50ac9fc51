/**
 * The Redis read behind each tick of the live feed: the UTC day's hourly hash, today's counts and
 * unique visitors (today in TIME_ZONE) and the visitors of the last 5 minutes (the union of five
 * per-minute HyperLogLogs). With one shard that is one MULTI/EXEC round trip (every key shares the
 * `{prefix}` hash tag), so counts and visitors come from one instant; with several shards, one
 * HGETALL per shard in parallel, summed, plus the global visitor counts.
 *
 * @example
 * const read = redisLiveSource(redis, keys, calendar)
 * const { fields, visitors, visitorsNow } = await read('2026-11-28', Date.now()) // fields: { 'page_view|09': '42', ... }
 */
import type { Calendar } from '../counters/calendar.ts'
import type { Keys } from '../counters/keys.ts'
import type { Redis } from '../db/redis.ts'

/** Visitors now: those seen in the last 5 minutes (this one and the 4 before). */
export const RECENT_MINUTES = 5

export interface LiveReading {
  /** field of kind `live` (src/counters/fields.ts) → count */
  fields: Record<string, string>
  /**
   * today in TIME_ZONE: its day, the zone, its hour now, and its counts and local hours (fields
   * of kinds `ld` and `lh` → count); a source without it (a test's) makes the UTC day today
   */
  today?: { day: string; timeZone: string; hour: number; fields: Record<string, string> }
  /** today's unique visitors (today in TIME_ZONE) */
  visitors: number
  /** unique visitors of the last 5 minutes */
  visitorsNow: number
}

/** Reads one UTC day (`YYYY-MM-DD`) of hourly counts, and the visitors as of `now`. */
export type LiveSource = (day: string, now: number) => Promise<LiveReading>

/** The keys of the last 5 minutes' visitors. */
function recentKeys(keys: Keys, now: number): string[] {
  const minute = Math.floor(now / 60_000)
  return Array.from({ length: RECENT_MINUTES }, (_, i) => keys.recentVisitors(minute - i))
}

export function redisLiveSource(redis: Redis, keys: Keys, calendar: Calendar): LiveSource {
  // Sent together, so node-redis pipelines them: one round trip. Not a MULTI: at maxmemory Redis
  // refuses to queue even reads in one, and the screen must keep showing today then.
  return async (day, now) => {
    const zoneDay = calendar.day(now)
    const n = keys.shards.length
    const [visitors, visitorsNow, ...hashes] = await Promise.all([
      redis.pfCount(keys.visitors(zoneDay)),
      redis.pfCount(recentKeys(keys, now)),
      ...keys.shards.map((shard) => redis.hGetAll(shard.liveHourly(day))),
      ...keys.shards.map((shard) => redis.hGetAll(shard.liveDaily(zoneDay))),
    ])
    const all = hashes as Record<string, string>[]
    return {
      fields: sumHashes(all.slice(0, n)),
      today: {
        day: zoneDay,
        timeZone: calendar.zone,
        hour: Number(calendar.hour(now)),
        fields: sumHashes(all.slice(n)),
      },
      visitors: Number(visitors),
      visitorsNow: Number(visitorsNow),
    }
  }
}

/** The shards' hashes of one day added up, field by field. */
function sumHashes(hashes: readonly Record<string, string>[]): Record<string, string> {
  const sums: Record<string, number> = {}
  for (const hash of hashes) {
    for (const [field, n] of Object.entries(hash)) sums[field] = (sums[field] ?? 0) + Number(n)
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, String(v)]))
}
