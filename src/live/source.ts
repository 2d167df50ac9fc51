/**
 * The Redis read behind each tick of the live feed: the day's hourly hash and its visitor count.
 * With one shard that is one MULTI/EXEC round trip (both keys share the `{prefix}` hash tag), so
 * counts and visitors come from one instant; with several shards, one HGETALL per shard in
 * parallel, summed, plus the global visitor count.
 *
 * @example
 * const read = redisLiveSource(redis, keys)
 * const { fields, visitors } = await read('2026-11-28') // fields: { 'page_view|09': '42', ... }
 */
import type { Keys } from '../counters/keys.ts'
import type { Redis } from '../db/redis.ts'

export interface LiveReading {
  /** field of kind `live` (src/counters/fields.ts) → count */
  fields: Record<string, string>
  visitors: number
}

/** Reads one UTC day (`YYYY-MM-DD`). */
export type LiveSource = (day: string) => Promise<LiveReading>

export function redisLiveSource(redis: Redis, keys: Keys): LiveSource {
  if (keys.shards.length === 1) {
    const shard = keys.shards[0]!
    return async (day) => {
      const [fields, visitors] = await redis
        .multi()
        .hGetAll(shard.liveHourly(day))
        .pfCount(keys.visitors(day))
        .exec<'typed'>()
      return { fields: fields as Record<string, string>, visitors: Number(visitors) }
    }
  }
  return async (day) => {
    const [visitors, ...hashes] = await Promise.all([
      redis.pfCount(keys.visitors(day)),
      ...keys.shards.map((shard) => redis.hGetAll(shard.liveHourly(day))),
    ])
    const fields: Record<string, number> = {}
    for (const hash of hashes as Record<string, string>[]) {
      for (const [field, n] of Object.entries(hash)) fields[field] = (fields[field] ?? 0) + Number(n)
    }
    return {
      fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])),
      visitors: Number(visitors),
    }
  }
}
