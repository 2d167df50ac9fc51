/**
 * Redis bytes per counter: 100,000 distinct per-user counters written through the real group
 * commit, then MEMORY USAGE of the pending hash that holds them.
 */
import { GroupCommit } from '../src/counters/batcher.ts'
import { createKeys } from '../src/counters/keys.ts'
import { openRedis } from '../src/db/redis.ts'
import type { CountedEvent } from '../src/events/types.ts'
import { silentLogger } from '../src/log.ts'
import type { BenchServices } from './lib.ts'

export async function memoryScenario(services: BenchServices, counters = 100_000) {
  const redis = await openRedis(services.redisUrl, silentLogger)
  try {
    const keys = createKeys(services.newPrefix())
    const batcher = new GroupCommit(redis, keys, { ttlSeconds: 604_800 })
    const at = Date.now()
    const writes: Promise<void>[] = []
    for (let i = 0; i < counters; i += 1000) {
      const events: CountedEvent[] = Array.from({ length: 1000 }, (_, j) => ({
        type: 'generation_completed',
        at,
        userId: `user-${i + j}`,
      }))
      writes.push(batcher.add({ events }))
    }
    await Promise.all(writes)
    const key = keys.shards[0]!.pending('u')
    const fields = await redis.hLen(key)
    const bytes = Number(await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']))
    return { fields, bytes, bytesPerCounter: bytes / fields }
  } finally {
    await redis.close()
  }
}
