/**
 * The comparator: the original pattern's counting, honestly implemented behind the very same
 * app (HTTP path, validation, crawler check). Only the recorder differs: per event, one pipeline
 * of INCR + EXPIRE for each counter key the pattern keeps (daily, hourly, per-user daily,
 * per-feature daily) plus SADD to the pending-flush set — what its `track_event` does.
 */
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import type { Recorder } from '../src/counters/recorder.ts'
import { openDatabase } from '../src/db/pool.ts'
import { openRedis, type Redis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import type { CountedEvent } from '../src/events/types.ts'
import { createLogger } from '../src/log.ts'

const TTL = 7 * 24 * 60 * 60

/** Redis commands the pattern sends for one event. */
export function patternCommands(event: CountedEvent): number {
  return 2 + 2 + (event.userId ? 2 : 0) + (event.feature ? 2 : 0) + 1
}

async function trackEvent(redis: Redis, prefix: string, e: CountedEvent): Promise<void> {
  const iso = new Date(e.at).toISOString()
  const day = iso.slice(0, 10)
  const hour = `${day}:${iso.slice(11, 13)}`
  const pipe = redis.multi()
  const daily = `${prefix}:counter:${e.type}:${day}`
  const hourly = `${prefix}:counter:${e.type}:${hour}`
  pipe.incr(daily).expire(daily, TTL).incr(hourly).expire(hourly, TTL)
  if (e.userId) {
    const user = `${prefix}:user:${e.userId}:${e.type}:${day}`
    pipe.incr(user).expire(user, TTL)
  }
  if (e.feature) {
    const feature = `${prefix}:feature:${e.feature}:${day}`
    pipe.incr(feature).expire(feature, TTL)
  }
  pipe.sAdd(`${prefix}:pending_flush`, `${e.type}:${day}`)
  await pipe.execAsPipeline()
}

const config = loadConfig()
const log = createLogger(config.logLevel)
const redis = await openRedis(config.redisUrl!, log)
const db = await openDatabase(config.databaseUrl!, { max: 2 })
const deps = createDeps({ config, redis, pool: db.pool, log })
// typed as the service's recorder, so a change of its signature is a type error here, not a
// flood of failed requests in the benchmark
const original: Pick<Recorder, 'browser' | 'server'> = {
  async browser(request) {
    for (const e of request.events) await trackEvent(redis, config.redisPrefix, e)
  },
  async server(events) {
    for (const e of events) await trackEvent(redis, config.redisPrefix, e)
  },
}
const app = createApp({ ...deps, recorder: Object.assign(Object.create(deps.recorder), original) as Recorder })
app.listen({ port: config.port, hostname: config.host })
process.on('SIGTERM', async () => {
  await app.stop()
  redis.destroy()
  await db.close()
  process.exit(0)
})
