import { describe, expect, test } from 'bun:test'
import { openDatabase } from '../src/db/pool.ts'
import { closeRedis, openRedis } from '../src/db/redis.ts'
import { silentLogger } from '../src/log.ts'
import { deleteKeys, freshDatabaseUrl, redisUrl, servicesSource, testPrefix } from './services.ts'

describe('test services', () => {
  // CI sets EXPECT_SERVICES to prove which provisioning path a run took (env URLs, or the local
  // binaries a newcomer without Docker gets).
  test('come from the expected source', async () => {
    const source = await servicesSource()
    expect(['env', 'containers', 'local']).toContain(source)
    if (process.env.EXPECT_SERVICES) expect(source).toBe(process.env.EXPECT_SERVICES as typeof source)
  })

  test('Redis and an isolated, migrated Postgres database answer', async () => {
    const redis = await openRedis(await redisUrl(), silentLogger)
    const db = await openDatabase(await freshDatabaseUrl(), { max: 1 })
    try {
      expect(await redis.ping()).toBe('PONG')
      const r = await db.pool.query('SELECT current_database() AS name, count(*)::int AS n FROM schema_migrations')
      expect(r.rows[0].name).toStartWith('analytics_test_')
      expect(r.rows[0].n).toBeGreaterThan(0)
    } finally {
      await closeRedis(redis)
      await db.close()
    }
  })

  test("the teardown deletes a prefix's keys, global and sharded, and no other key", async () => {
    const redis = await openRedis(await redisUrl(), silentLogger)
    const prefix = testPrefix()
    const own = [`{${prefix}}:pend:d`, `{${prefix}:3}:pend:d`]
    // a longer prefix, the prefix without its tag, a key naming it later on
    const others = [`{${prefix}x}:pend:d`, `${prefix}:pend:d`, `{analytics}:${prefix}`]
    try {
      for (const key of [...own, ...others]) await redis.set(key, '1')
      await deleteKeys(redis, [prefix])
      for (const key of own) expect(await redis.exists(key)).toBe(0)
      for (const key of others) expect(await redis.get(key)).toBe('1')
    } finally {
      await redis.del(others)
      await closeRedis(redis)
    }
  })
})
