import { describe, expect, test } from 'bun:test'
import { createApp } from '../src/app.ts'
import { openDatabase } from '../src/db/pool.ts'
import { closeRedis, openRedis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import { silentLogger } from '../src/log.ts'
import { testContext } from './services.ts'
import { proxyFor } from './tcp-proxy.ts'
import { waitFor } from './wait.ts'

const get = (path: string, headers: Record<string, string> = {}) => new Request(`http://localhost${path}`, { headers })

describe('health', () => {
  test('/healthz answers while the process runs', async () => {
    const { config, redis, db } = await testContext()
    const app = createApp(createDeps({ config, redis, pool: db.pool, log: silentLogger }))
    const res = await app.handle(get('/healthz'))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  test('/readyz is 200 when Redis and Postgres answer', async () => {
    const { config, redis, db } = await testContext()
    const app = createApp(createDeps({ config, redis, pool: db.pool, log: silentLogger }))
    const res = await app.handle(get('/readyz'))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      status: 'ready',
      redis: 'ok',
      postgres: 'ok',
      held_batches: 0,
      log_dropped_rows: 0,
      redis_config: expect.objectContaining({ maxmemory_policy: expect.any(String) }),
    })
  })

  test('/readyz is 503 naming Redis when Redis is unreachable, and recovers', async () => {
    const { config, db } = await testContext()
    const { proxy, url } = proxyFor(config.redisUrl, 6379)
    const redis = await openRedis(url, silentLogger)
    try {
      const app = createApp(createDeps({ config, redis, pool: db.pool, log: silentLogger }))
      proxy.close()
      await waitFor(() => !redis.isReady, { what: 'the client to see Redis gone' })
      const res = await app.handle(get('/readyz'))
      expect(res.status).toBe(503)
      const body = await res.json()
      expect(body.status).toBe('unavailable')
      expect(body.postgres).toBe('ok')
      // no host or port in a public answer
      expect(body.redis).toBe('unavailable')

      proxy.reopen()
      await waitFor(async () => (await app.handle(get('/readyz'))).status === 200, {
        what: '/readyz to answer 200 again',
      })
    } finally {
      proxy.close()
      await closeRedis(redis)
    }
  })

  test('/readyz is 503 naming Postgres when Postgres is unreachable', async () => {
    const { config, redis } = await testContext()
    const { proxy, url } = proxyFor(config.databaseUrl, 5432)
    const db = await openDatabase(url, { max: 2 })
    try {
      const app = createApp(createDeps({ config, redis, pool: db.pool, log: silentLogger }))
      expect((await app.handle(get('/readyz'))).status).toBe(200)
      proxy.close()
      const res = await app.handle(get('/readyz'))
      expect(res.status).toBe(503)
      const body = await res.json()
      expect(body.redis).toBe('ok')
      expect(body.postgres).toBe('unavailable')
    } finally {
      proxy.close()
      await db.close()
    }
  })
})

describe('OpenAPI', () => {
  test('the JSON document lists the routes, and is off in production', async () => {
    const { testApp } = await import('./app.ts')
    const { app } = await testApp({ openapi: true })
    const res = await app.handle(get('/openapi'))
    expect(res.status).toBe(200)
    const doc = await res.json()
    expect(doc.info.title).toBe('edge-analytics')
    for (const path of ['/e', '/analytics/events', '/analytics/stats', '/analytics/dashboard', '/analytics/me']) {
      expect(Object.keys(doc.paths)).toContain(path)
    }
    expect(doc.paths['/analytics/events'].post.summary).toBe('Server events, all-or-nothing')
    const off = await testApp({ openapi: false })
    expect((await off.app.handle(get('/openapi'))).status).toBe(404)
  })
})

describe('JSON errors', () => {
  test('every kind carries X-Content-Type-Options: nosniff, so no browser reads one as something else', async () => {
    const { testApp, beaconRequest, ingestRequest } = await import('./app.ts')
    const { app } = await testApp()
    const answers = [
      await app.handle(get('/no-such-route')),
      await app.handle(get('/analytics/stats')),
      await app.handle(
        get('/analytics/stats?granularity=year', { authorization: 'Bearer test-admin-token-0123456789' }),
      ),
      await app.handle(ingestRequest('[]', { raw: true, headers: { 'content-type': 'text/plain' } })),
      await app.handle(beaconRequest('{', { raw: true })),
      await app.handle(beaconRequest({ event_type: 'nope' })),
    ]
    expect(answers.map((r) => r.status)).toEqual([404, 401, 422, 415, 400, 422])
    for (const r of answers) {
      expect(r.headers.get('content-type')).toStartWith('application/json')
      expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    }
  })
})
