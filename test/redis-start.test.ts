/**
 * The start-time checks of how Redis is run, on real `bun src/index.ts` processes against Redis
 * servers of the test's own: an evicting policy stops the start with one line and exit code 1,
 * REDIS_ALLOW_EVICTION=true lets it start with a warning, and an append-only file that is off is
 * warned about once.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type RedisServer, startRedisServer } from './redis-server.ts'
import { spawnServerProcess, startServerProcess } from './server-process.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

const started: RedisServer[] = []
async function redisWith(args: string[]): Promise<RedisServer> {
  const redis = await startRedisServer(args)
  started.push(redis)
  return redis
}
afterAll(async () => {
  await Promise.all(started.map((r) => r.stop()))
})

/** The JSON log lines of a process whose `msg` contains `text`. */
function linesWith(logs: string, text: string): { level: string; msg: string; nodes?: string[] }[] {
  return logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((l) => String(l.msg).includes(text))
}

describe('Redis eviction policy at start', () => {
  for (const policy of ['allkeys-lru', 'volatile-ttl']) {
    test(`${policy} stops the start with one line saying why and how to fix it, exit code 1`, async () => {
      const redis = await redisWith(['--maxmemory', '64mb', '--maxmemory-policy', policy])
      const server = await spawnServerProcess({ REDIS_URL: redis.url })
      expect(await server.exited()).toBe(1)
      expect(server.logs()).toBe(
        `edge-analytics: Redis evicts keys when it is full (maxmemory-policy ${policy} on ${redis.url}), so it ` +
          'could drop events already acknowledged before they are flushed to Postgres. Set maxmemory-policy ' +
          "noeviction (in redis.conf, or in your provider's settings), or set REDIS_ALLOW_EVICTION=true to start " +
          'anyway.\n',
      )
    })
  }

  test('REDIS_ALLOW_EVICTION=true starts it, with a warning naming the policy', async () => {
    const redis = await redisWith(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru', '--appendonly', 'yes'])
    const server = await startServerProcess({ REDIS_URL: redis.url, REDIS_ALLOW_EVICTION: 'true' })
    try {
      const ready = await (await fetch(`${server.url}/readyz`)).json()
      expect(ready.status).toBe('ready')
      expect(ready.redis_config.maxmemory_policy).toBe('allkeys-lru')
      const warnings = linesWith(server.logs(), 'REDIS_ALLOW_EVICTION=true')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatchObject({ level: 'warn', maxmemory_policy: 'allkeys-lru' })
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })

  test('noeviction with an append-only file starts with no warning about Redis', async () => {
    const redis = await redisWith(['--maxmemory-policy', 'noeviction', '--appendonly', 'yes'])
    const server = await startServerProcess({ REDIS_URL: redis.url })
    try {
      // the checks run before the server listens: an answer means they are done
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
      const warnings = linesWith(server.logs(), '').filter((l) => l.level === 'warn' || l.level === 'error')
      expect(warnings).toEqual([])
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })
})

describe('Redis persistence at start', () => {
  test('an append-only file that is off is warned about once, saying what a crash loses', async () => {
    const redis = await redisWith(['--appendonly', 'no'])
    const server = await startServerProcess({ REDIS_URL: redis.url, FLUSH_INTERVAL_MS: '60000' })
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
      const warnings = linesWith(server.logs(), 'append-only file')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.level).toBe('warn')
      expect(warnings[0]!.msg).toBe(
        'Redis keeps no append-only file (appendonly no): if it crashes or restarts, every event not yet flushed ' +
          'to Postgres is lost, up to FLUSH_INTERVAL_MS (60000 ms) of them. Set appendonly yes',
      )
      expect(warnings[0]!.nodes).toEqual([redis.url])
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })
})
