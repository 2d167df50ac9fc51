import { describe, expect, test } from 'bun:test'
import { closeRedis, openRedis } from '../src/db/redis.ts'
import { silentLogger } from '../src/log.ts'
import { testContext } from './services.ts'
import { proxyFor } from './tcp-proxy.ts'

describe('proxyFor', () => {
  test('rewrites the host and port only: scheme, credentials, database index and query stay', () => {
    const cases = [
      ['redis://127.0.0.1:6379/7', 'redis://127.0.0.1:PORT/7'],
      ['rediss://app:p%40ss@cache.internal/3', 'rediss://app:p%40ss@127.0.0.1:PORT/3'],
      [
        'postgres://app:pw@db.internal:5433/analytics?sslmode=disable',
        'postgres://app:pw@127.0.0.1:PORT/analytics?sslmode=disable',
      ],
    ]
    for (const [url, expected] of cases) {
      const { proxy, url: through } = proxyFor(url!, 6379)
      proxy.close()
      expect(through).toBe(expected!.replace('PORT', String(proxy.port)))
    }
  })

  test('a Redis client through the proxy works in the same database as the direct client', async () => {
    const { config, redis } = await testContext()
    const { proxy, url } = proxyFor(config.redisUrl, 6379)
    const proxied = await openRedis(url, silentLogger)
    try {
      const key = `{${config.redisPrefix}}:through-proxy`
      await proxied.set(key, 'written through the proxy')
      expect(await redis.get(key)).toBe('written through the proxy')
      // both in the database REDIS_URL names (0 when it names none)
      const named = Number(new URL(config.redisUrl).pathname.slice(1) || 0)
      expect((await proxied.clientInfo()).db).toBe(named)
      expect((await redis.clientInfo()).db).toBe(named)
    } finally {
      await closeRedis(proxied)
      proxy.close()
    }
  })
})
