/**
 * Liveness, readiness. `/healthz` answers while the process runs; `/readyz` answers 200 only
 * when Redis answers PING and Postgres answers `SELECT 1`, and otherwise names what failed. Its
 * `held_batches` counts the flush batches set aside (Postgres refused their data): the service is
 * ready with them, but someone should look (README, "Held flush batches"). Its `redis_config`
 * tells how Redis is run (eviction policy, append-only file, memory used of maxmemory), with no
 * address: the dashboard shows a notice when `memory_ratio` passes 0.9.
 */
import { Elysia } from 'elysia'
import { type RedisConfigSummary, summarize } from '../db/redis-info.ts'
import type { Deps } from '../deps.ts'
import { errorMessage } from '../log.ts'
import { json, operation, SECURITY } from './openapi.ts'

const CHECK_TIMEOUT_MS = 2000

/** 'ok', or 'unavailable' (the cause goes to the log: a public probe must not show hosts and ports). */
async function check(probe: () => Promise<unknown>, onError: (err: unknown) => void): Promise<string> {
  let timer: Timer | undefined
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)
      }),
    ])
    return 'ok'
  } catch (err) {
    onError(err)
    return 'unavailable'
  } finally {
    clearTimeout(timer)
  }
}

export const health = (deps: Pick<Deps, 'redis' | 'pool' | 'log' | 'flusher' | 'redisMemory'>) =>
  new Elysia({ name: 'health' })
    .get(
      '/healthz',
      () => ({ status: 'ok' }),
      operation({
        summary: 'Liveness',
        tags: ['ops'],
        security: SECURITY.anyone,
        responses: { 200: json('the process runs', 'Health') },
      }),
    )
    .get(
      '/readyz',
      async ({ set }) => {
        const report = (what: string) => (err: unknown) =>
          deps.log.warn('readiness check failed', { service: what, error: errorMessage(err) })
        let held: number | undefined
        let dropped: number | undefined
        let config: RedisConfigSummary | undefined
        const [redis, postgres] = await Promise.all([
          check(async () => {
            await deps.redis.ping()
            // a Redis that refuses INFO is still ready: its configuration is then just not shown
            const [batches, rows, info] = await Promise.all([
              deps.flusher.heldBatches(),
              deps.flusher.droppedRows(),
              deps.redisMemory.read().then(summarize, (err) => report('redis INFO')(err)),
            ])
            held = batches
            dropped = rows
            config = info ?? undefined
          }, report('redis')),
          check(() => deps.pool.query('SELECT 1'), report('postgres')),
        ])
        const ready = redis === 'ok' && postgres === 'ok'
        set.status = ready ? 200 : 503
        return {
          status: ready ? 'ready' : 'unavailable',
          redis,
          postgres,
          held_batches: held ?? null,
          log_dropped_rows: dropped ?? null,
          redis_config: config ?? null,
        }
      },
      operation({
        summary: 'Readiness: Redis answers PING and Postgres SELECT 1',
        tags: ['ops'],
        security: SECURITY.anyone,
        responses: { 200: json('ready', 'Ready'), 503: json('not ready; names what failed', 'Ready') },
      }),
    )
