/**
 * Redis's memory headroom, against Redis servers of the test's own with a small `maxmemory`:
 * `/metrics` shows its used memory and limit, `/readyz` how it is run (with no address), and a
 * warning is logged once each time a master passes 80% of its `maxmemory`.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createApp } from '../src/app.ts'
import { closeRedis, openRedis, type Redis } from '../src/db/redis.ts'
import { parseInfo, readRedisInfo, summarize } from '../src/db/redis-info.ts'
import { createDeps } from '../src/deps.ts'
import { createLogger, silentLogger } from '../src/log.ts'
import { RedisMemory } from '../src/redis-memory.ts'
import { type RedisServer, startRedisServer } from './redis-server.ts'
import { testContext } from './services.ts'
import { waitFor } from './wait.ts'

setDefaultTimeout(20_000)

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const MAXMEMORY = 4 * 1024 * 1024

const cleanup: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of cleanup.reverse()) await close()
})

/** A Redis of the test's own, and a client of it. */
async function ownRedis(args: string[]): Promise<{ server: RedisServer; redis: Redis }> {
  const server = await startRedisServer(args)
  cleanup.push(server.stop)
  const redis = await openRedis(server.url, silentLogger)
  cleanup.push(() => closeRedis(redis))
  return { server, redis }
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(parseInfo(await redis.info('memory')).get('used_memory'))
}

/**
 * Memory that stays: used_memory without the append-only file's buffer, which holds the writes
 * not yet written to the file and is emptied within a second (counted, it stopped a fill short).
 */
async function keptMemory(redis: Redis): Promise<number> {
  const info = parseInfo(await redis.info('memory'))
  return Number(info.get('used_memory')) - Number(info.get('mem_aof_buffer') ?? 0)
}

/** Writes 64 KB values until what Redis keeps is past `ratio` of MAXMEMORY. */
async function fillTo(redis: Redis, ratio: number): Promise<void> {
  const value = 'x'.repeat(64 * 1024)
  for (let i = 0; (await keptMemory(redis)) < ratio * MAXMEMORY; i++) await redis.set(`fill:${i}`, value)
}

/** A logger that keeps its lines. */
function capturingLogger() {
  const lines: { level: string; msg: string; [field: string]: unknown }[] = []
  return { lines, log: createLogger('debug', (line) => lines.push(JSON.parse(line))) }
}

async function appOn(redis: Redis) {
  const { config, db } = await testContext()
  const deps = createDeps({ config, redis, pool: db.pool, log: silentLogger })
  return createApp(deps)
}

/** A sample's value from Prometheus text; undefined when absent. */
function sample(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)
  return m ? Number(m[1]) : undefined
}

describe('GET /metrics: Redis memory', () => {
  test('used memory and maxmemory are the Redis server’s own numbers', async () => {
    const { redis } = await ownRedis(['--maxmemory', String(MAXMEMORY)])
    const app = await appOn(redis)
    await fillTo(redis, 0.5)
    const before = await usedMemory(redis)
    const text = await (await app.handle(new Request('http://localhost/metrics', { headers: ADMIN }))).text()
    const after = await usedMemory(redis)
    expect(sample(text, 'analytics_redis_maxmemory_bytes')).toBe(MAXMEMORY)
    const used = sample(text, 'analytics_redis_used_memory_bytes')!
    // INFO's own connection moves used_memory by a few KB between reads
    expect(used).toBeGreaterThan(Math.min(before, after) - 64 * 1024)
    expect(used).toBeLessThan(Math.max(before, after) + 64 * 1024)
    expect(used).toBeGreaterThan(0.5 * MAXMEMORY)
  })

  test('maxmemory is 0 when Redis has no limit', async () => {
    const { redis } = await ownRedis([])
    const app = await appOn(redis)
    const text = await (await app.handle(new Request('http://localhost/metrics', { headers: ADMIN }))).text()
    expect(sample(text, 'analytics_redis_maxmemory_bytes')).toBe(0)
    expect(sample(text, 'analytics_redis_used_memory_bytes')).toBeGreaterThan(0)
  })
})

describe('GET /readyz: redis_config', () => {
  test('the policy, the append-only file and the memory used of maxmemory, with no address', async () => {
    const { redis } = await ownRedis(['--maxmemory', String(MAXMEMORY), '--appendonly', 'yes'])
    const app = await appOn(redis)
    await fillTo(redis, 0.5)
    const res = await app.handle(new Request('http://localhost/readyz'))
    expect(res.status).toBe(200)
    const text = await res.text()
    const body = JSON.parse(text)
    expect(body.redis_config).toEqual({
      maxmemory_policy: 'noeviction',
      aof_enabled: true,
      used_memory: expect.any(Number),
      maxmemory: MAXMEMORY,
      memory_ratio: expect.any(Number),
    })
    expect(body.redis_config.memory_ratio).toBeCloseTo(body.redis_config.used_memory / MAXMEMORY, 2)
    expect(body.redis_config.memory_ratio).toBeGreaterThan(0.5)
    expect(body.redis_config.memory_ratio).toBeLessThan(1)
    expect(text).not.toContain('127.0.0.1')
    expect(text).not.toContain('redis://')
  })

  test('memory_ratio is null without a limit, and aof_enabled false without the file', async () => {
    const { redis } = await ownRedis(['--appendonly', 'no', '--maxmemory-policy', 'allkeys-lfu'])
    const app = await appOn(redis)
    const body = await (await app.handle(new Request('http://localhost/readyz'))).json()
    expect(body.redis_config).toMatchObject({
      maxmemory_policy: 'allkeys-lfu',
      aof_enabled: false,
      maxmemory: 0,
      memory_ratio: null,
    })
  })

  test('of a cluster: the evicting policy if any master has one, AOF only if on everywhere, the fullest master', () => {
    const master = (node: string, policy: string, used: number, max: number, aof: boolean) => ({
      node,
      policy,
      usedMemory: used,
      maxmemory: max,
      aofEnabled: aof,
    })
    expect(
      summarize([
        master('a', 'noeviction', 900, 1000, true),
        master('b', 'volatile-lru', 100, 0, true),
        master('c', 'noeviction', 950, 2000, false),
      ]),
    ).toEqual({
      maxmemory_policy: 'volatile-lru',
      aof_enabled: false,
      used_memory: 900,
      maxmemory: 1000,
      memory_ratio: 0.9,
    })
  })
})

describe('the 80% warning', () => {
  test('is logged once when Redis passes 80% of maxmemory, and again only after it went below', async () => {
    const { server, redis } = await ownRedis(['--maxmemory', String(MAXMEMORY)])
    const { lines, log } = capturingLogger()
    const memory = new RedisMemory(() => readRedisInfo(redis), log)
    const warnings = () => lines.filter((l) => l.level === 'warn' && l.msg.includes('past 80% of maxmemory'))

    await memory.check()
    expect(lines).toEqual([])

    await fillTo(redis, 0.85)
    for (let i = 0; i < 3; i++) await memory.check()
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toMatchObject({ node: server.url, maxmemory: MAXMEMORY })
    expect(warnings()[0]!.ratio as number).toBeGreaterThanOrEqual(0.8)

    await redis.flushAll()
    await memory.check()
    expect(lines.filter((l) => l.msg.includes('back under 80%'))).toHaveLength(1)
    await memory.check()
    expect(warnings()).toHaveLength(1)

    await fillTo(redis, 0.85)
    await memory.check()
    await memory.check()
    expect(warnings()).toHaveLength(2)
  })

  test('is checked on a timer of its own once started', async () => {
    const { redis } = await ownRedis(['--maxmemory', String(MAXMEMORY)])
    const { lines, log } = capturingLogger()
    const memory = new RedisMemory(() => readRedisInfo(redis), log, { intervalMs: 50 })
    memory.start()
    try {
      await fillTo(redis, 0.85)
      await waitFor(() => lines.some((l) => l.msg.includes('past 80% of maxmemory')), {
        what: 'the 80% warning from the timer',
      })
    } finally {
      memory.stop()
    }
  })
})
