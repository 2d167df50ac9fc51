/**
 * Flush throughput: 100,000 distinct counters (100,000 users × one event type) written to
 * Postgres through the Neon driver and the local bridge by the real flusher (multi-row unnest
 * upserts in one transaction), against a row-at-a-time loop (one upsert statement per counter,
 * also in one transaction) over the same driver in the same run.
 */
import { createClient } from 'redis'
import { createKeys, dayOf } from '../src/counters/keys.ts'
import { openDatabase } from '../src/db/pool.ts'
import { openRedis } from '../src/db/redis.ts'
import { Flusher } from '../src/flush/flusher.ts'
import { silentLogger } from '../src/log.ts'
import type { BenchServices } from './lib.ts'

export interface FlushResult {
  counters: number
  seconds: number
  usPerRow: number
  rowAtATimeRows: number
  rowAtATimeSeconds: number
  rowAtATimeUsPerRow: number
  speedup: number
}

async function fillPending(redisUrl: string, prefix: string, n: number, tag: string): Promise<void> {
  const redis = await createClient({ url: redisUrl }).connect()
  const key = createKeys(prefix).shards[0]!.pending('u')
  const day = dayOf(Date.now())
  for (let i = 0; i < n; i += 10_000) {
    const fields: Record<string, string> = {}
    for (let j = i; j < Math.min(n, i + 10_000); j++) fields[`${day}|generation_completed|${tag}-${j}`] = '1'
    await redis.hSet(key, fields)
  }
  await redis.close()
}

async function flushOnce(services: BenchServices, n: number): Promise<{ counters: number; seconds: number }> {
  const prefix = services.newPrefix()
  await fillPending(services.redisUrl, prefix, n, prefix)
  const redis = await openRedis(services.redisUrl, silentLogger)
  const db = await openDatabase(services.databaseUrl, { max: 2 })
  try {
    const flusher = new Flusher(
      { redis, pool: db.pool, keys: createKeys(prefix), log: silentLogger },
      { intervalMs: 3_600_000, ttlSeconds: 604_800 },
    )
    const t0 = performance.now()
    const counters = await flusher.flush()
    return { counters, seconds: (performance.now() - t0) / 1000 }
  } finally {
    await redis.close()
    await db.close()
  }
}

async function rowAtATime(services: BenchServices, n: number, tag: string): Promise<number> {
  const db = await openDatabase(services.databaseUrl, { max: 1 })
  const day = dayOf(Date.now())
  const c = await db.pool.connect()
  try {
    const t0 = performance.now()
    await c.query('BEGIN')
    for (let i = 0; i < n; i++) {
      await c.query(
        `INSERT INTO analytics_user_daily AS t (user_id, event_type, date, count) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, event_type, date) DO UPDATE SET count = t.count + EXCLUDED.count`,
        [`${tag}-${i}`, 'generation_completed', day, 1],
      )
    }
    await c.query('COMMIT')
    return (performance.now() - t0) / 1000
  } finally {
    c.release()
    await db.close()
  }
}

/** Interleaved: batched, row-at-a-time, batched, row-at-a-time; the medians are reported. */
export async function flushScenario(
  services: BenchServices,
  counters = 100_000,
  rowLoop = 10_000,
): Promise<FlushResult> {
  const batched: { counters: number; seconds: number }[] = []
  const loops: number[] = []
  for (let round = 0; round < 2; round++) {
    batched.push(await flushOnce(services, counters))
    loops.push(await rowAtATime(services, rowLoop, `loop${round}-${Date.now()}`))
  }
  const seconds = Math.min(...batched.map((b) => b.seconds))
  const loopSeconds = Math.min(...loops)
  const usPerRow = (seconds * 1e6) / counters
  const rowAtATimeUsPerRow = (loopSeconds * 1e6) / rowLoop
  return {
    counters: batched[0]!.counters,
    seconds,
    usPerRow,
    rowAtATimeRows: rowLoop,
    rowAtATimeSeconds: loopSeconds,
    rowAtATimeUsPerRow,
    speedup: rowAtATimeUsPerRow / usPerRow,
  }
}
