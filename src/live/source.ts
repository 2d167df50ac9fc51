/**
 * The one Redis read behind each tick of the live feed: the day's hourly hash and its visitor
 * count, in one MULTI/EXEC round trip (both keys share the `{prefix}` hash tag, so this works on
 * a cluster too) and from one instant, so counts and visitors always agree.
 *
 * @example
 * const read = redisLiveSource(redis, keys)
 * const { fields, visitors } = await read('2026-11-28') // fields: { 'page_view|09': '42', ... }
 */
import type { Keys } from '../counters/keys.ts'
import type { Redis } from '../db/redis.ts'

export interface LiveReading {
  /** `${event_type}|${HH}` → count */
  fields: Record<string, string>
  visitors: number
}

/** Reads one UTC day (`YYYY-MM-DD`). */
export type LiveSource = (day: string) => Promise<LiveReading>

export function redisLiveSource(redis: Redis, keys: Keys): LiveSource {
  return async (day) => {
    const [fields, visitors] = await redis
      .multi()
      .hGetAll(keys.liveHourly(day))
      .pfCount(keys.visitors(day))
      .exec<'typed'>()
    return { fields: fields as Record<string, string>, visitors: Number(visitors) }
  }
}
