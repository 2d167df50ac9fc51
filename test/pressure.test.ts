/**
 * Under pressure, against real services of the test's own: a Redis at its `maxmemory` drains
 * itself through the flush, and a Postgres that is stopped and started again makes reads answer
 * 503 naming it, then 200. Nothing acknowledged is lost either way.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { openDatabase } from '../src/db/pool.ts'
import { closeRedis, openRedis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import { silentLogger } from '../src/log.ts'
import { findPostgresBinaries, startLocalPostgres } from '../src/services/local.ts'
import { beaconRequest, testApp } from './app.ts'
import { startRedisServer } from './redis-server.ts'
import { redisUrl } from './services.ts'
import { proxyFor, tcpProxy } from './tcp-proxy.ts'
import { waitFor } from './wait.ts'

// these tests start servers and fill them: bun's 5 s default is too short on a busy machine
setDefaultTimeout(120_000)

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
})

type App = { handle(request: Request): Promise<Response> }

const get = async (app: App, path: string) => {
  const res = await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() }
}
const post = async (app: App, path: string) => {
  const res = await app.handle(new Request(`http://localhost${path}`, { method: 'POST', headers: ADMIN }))
  return { status: res.status, body: await res.json() }
}
/** A page view of a page and a visitor of its own: each takes Redis memory until flushed. */
const pageView = (i: number) =>
  beaconRequest(
    { event_type: 'page_view', user_id: `user-${i}`, properties: { path: `/docs/page-${i}`, referrer: '' } },
    { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
  )
/** Every read answers 503 naming `service`, with Retry-After. */
async function expectUnavailable(app: App, service: 'postgres' | 'redis') {
  for (const path of READS) {
    const res = await get(app, path)
    expect({ path, status: res.status, retryAfter: res.retryAfter, service: res.body.service }).toEqual({
      path,
      status: 503,
      retryAfter: '5',
      service,
    })
    expect(res.body.error).toStartWith(service === 'postgres' ? 'Postgres is unavailable' : 'Redis is unavailable')
  }
}

const READS = [
  '/analytics/stats?event_type=page_view',
  '/analytics/stats?metric=visits&granularity=hour&from=2026-12-01&to=2026-12-31',
  '/analytics/stats?metric=visitors',
  '/analytics/top?dimension=page',
  '/analytics/top?dimension=entry_page',
  '/analytics/dashboard',
  '/analytics/users/user-1',
]

describe('a Redis at maxmemory', () => {
  test('fill until 503, reads still answer, the flush drains Redis, beacons are 202 again, Postgres holds every acknowledged event', async () => {
    const redis = await startRedisServer([
      '--maxmemory',
      '3mb',
      '--maxmemory-policy',
      'noeviction',
      '--appendonly',
      'no',
    ])
    cleanups.push(() => redis.stop())
    const { app, deps, db } = await testApp({ redisUrl: redis.url, trustProxy: { hops: 1 } })

    // 1. fill until Redis refuses
    let acknowledged = 0
    let refused = 0
    for (let i = 0; i < 40_000 && refused < 20; i++) {
      const res = await app.handle(pageView(i))
      if (res.status === 202) acknowledged++
      else {
        expect(res.status).toBe(503)
        refused++
      }
    }
    expect(refused).toBe(20)
    expect(acknowledged).toBeGreaterThan(1000)
    const used = async () => Number(/used_memory:(\d+)/.exec(await deps.redis.info('memory'))![1])
    const full = await used()

    // reads need no memory: every one answers, exactly
    for (const path of READS) expect({ path, status: (await get(app, path)).status }).toEqual({ path, status: 200 })
    expect((await get(app, '/analytics/stats?event_type=page_view')).body.total).toBe(acknowledged)
    expect((await app.handle(new Request('http://localhost/readyz'))).status).toBe(200)

    // 2. the flush runs at maxmemory, and frees it
    const flushed = await post(app, '/analytics/flush')
    expect(flushed.status).toBe(200)
    expect(flushed.body.flushed).toBeGreaterThan(acknowledged)
    expect(await used()).toBeLessThan(full)

    // 3. beacons are acknowledged again
    for (let i = 0; i < 50; i++) {
      const res = await app.handle(pageView(100_000 + i))
      expect(res.status).toBe(202)
      acknowledged++
    }
    expect((await post(app, '/analytics/flush')).status).toBe(200)

    // 4. Postgres holds exactly every acknowledged event, and the reads say so
    const stored = await db.pool.query(
      `SELECT coalesce(sum(count), 0)::int AS n FROM analytics_daily WHERE event_type = 'page_view'`,
    )
    expect(stored.rows[0].n).toBe(acknowledged)
    expect((await get(app, '/analytics/stats?event_type=page_view')).body.total).toBe(acknowledged)
  })
})

const found = findPostgresBinaries()
// skipped without them, as other tests that start Postgres are; CI fails on a skip
const binaries = 'missing' in found ? undefined : found

describe('a Postgres stopped and started again', () => {
  test.skipIf(!binaries)(
    'reads answer 503 naming Postgres with Retry-After while it is down, beacons are acknowledged, and all of it is flushed once it is back',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'edge-analytics-pressure-'))
      cleanups.push(() => rm(dir, { recursive: true, force: true }))
      let postgres = await startLocalPostgres(binaries!, { dir, persistent: true })
      cleanups.push(() => postgres.stop())
      // the service's address for Postgres stays the same across the restart, which comes on
      // another port: a proxy in front of it is pointed at the new one
      const target = { host: '127.0.0.1', port: Number(new URL(postgres.databaseUrl).port) }
      const proxy = tcpProxy(target)
      cleanups.push(async () => proxy.close())
      const databaseUrl = `postgres://postgres@127.0.0.1:${proxy.port}/postgres`
      const db = await openDatabase(databaseUrl, { max: 4 })
      cleanups.push(() => db.close())
      await migrate(db.pool)
      const redis = await openRedis(await redisUrl(), silentLogger)
      cleanups.push(() => closeRedis(redis))
      const config = {
        ...loadConfig({}),
        databaseUrl,
        redisPrefix: `pressure-${Date.now().toString(36)}`,
        adminToken: 'test-admin-token-0123456789',
        trustProxy: { hops: 1 } as const,
      }
      const deps = createDeps({ config, redis, pool: db.pool, log: silentLogger })
      const app = createApp(deps)
      cleanups.push(async () => {
        const keys = await redis.keys(`{${config.redisPrefix}}*`)
        if (keys.length > 0) await redis.del(keys)
      })

      let acknowledged = 0
      const send = async (n: number) => {
        for (let i = 0; i < n; i++) {
          expect((await app.handle(pageView(acknowledged))).status).toBe(202)
          acknowledged++
        }
      }
      await send(30)
      expect((await post(app, '/analytics/flush')).status).toBe(200)
      await send(20)

      // Postgres stops (a smart shutdown, which waits for its clients: the service's
      // connections go first, with the proxy's); its address then refuses connections
      proxy.close()
      await postgres.stop()
      proxy.reopen()
      // beacons are acknowledged into Redis while Postgres is down
      await send(40)
      await expectUnavailable(app, 'postgres')
      const ready = await app.handle(new Request('http://localhost/readyz'))
      expect(ready.status).toBe(503)
      expect((await ready.json()).postgres).toBe('unavailable')
      expect((await post(app, '/analytics/flush')).status).toBe(503)

      postgres = await startLocalPostgres(binaries!, { dir, persistent: true })
      target.port = Number(new URL(postgres.databaseUrl).port)
      for (const path of READS) expect({ path, status: (await get(app, path)).status }).toEqual({ path, status: 200 })
      expect((await get(app, '/analytics/stats?event_type=page_view')).body.total).toBe(acknowledged)
      expect((await post(app, '/analytics/flush')).status).toBe(200)
      const stored = await db.pool.query(
        `SELECT coalesce(sum(count), 0)::int AS n FROM analytics_daily WHERE event_type = 'page_view'`,
      )
      expect(stored.rows[0].n).toBe(acknowledged)
    },
  )
})

describe('a Redis that goes away', () => {
  test('reads answer 503 naming Redis with Retry-After, and 200 once it is back', async () => {
    const { proxy, url } = proxyFor(await redisUrl(), 6379)
    cleanups.push(async () => proxy.close())
    const { app } = await testApp({ redisUrl: url })
    expect((await app.handle(pageView(1))).status).toBe(202)
    proxy.close()
    await expectUnavailable(app, 'redis')
    proxy.reopen()
    await waitFor(async () => (await get(app, READS[0]!)).status === 200, { what: 'reads to answer again' })
    expect((await get(app, '/analytics/stats?event_type=page_view')).body.total).toBe(1)
  })
})
