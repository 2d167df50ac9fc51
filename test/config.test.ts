import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join, relative as relativePath, resolve } from 'node:path'
import { ConfigError, loadConfig, maskUrl } from '../src/config.ts'
import { spawnServerProcess } from './server-process.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('config', () => {
  test('defaults follow the contract', () => {
    const c = loadConfig({})
    expect(c.port).toBe(3000)
    expect(c.flushIntervalMs).toBe(300_000)
    expect(c.counterTtlSeconds).toBe(604_800)
    expect(c.redisPrefix).toBe('analytics')
    expect(c.allowedOrigins).toEqual([])
    expect(c.adminToken).toBeUndefined()
    expect(c.migrateOnStart).toBe(true)
    expect(c.dataDir).toBe(join(import.meta.dir, '..', '.data'))
    expect(c.production).toBe(false)
    expect(c.geoipDb).toBeUndefined()
  })

  test('DATA_DIR is resolved against the working directory; NODE_ENV=production is production', () => {
    expect(loadConfig({ DATA_DIR: 'var/analytics' }).dataDir).toBe(resolve('var/analytics'))
    expect(loadConfig({ DATA_DIR: ' ' }).dataDir).toBe(join(import.meta.dir, '..', '.data'))
    expect(loadConfig({ NODE_ENV: 'production' }).production).toBe(true)
  })

  test('reads every variable', () => {
    const c = loadConfig({
      PORT: '8080',
      REDIS_URL: 'redis://:pw@cache:6380/2',
      DATABASE_URL: 'postgresql://u:p@db.example.com/app',
      FLUSH_INTERVAL_MS: '60000',
      ADMIN_TOKEN: 'a'.repeat(32),
      INGEST_TOKEN: 'b'.repeat(32),
      USER_JWT_SECRET: 'c'.repeat(32),
      ALLOWED_ORIGINS: 'https://a.example.com, https://b.example.com/',
      COUNTER_TTL_SECONDS: '1209600',
      REDIS_PREFIX: 'acme',
      MIGRATE_ON_START: 'false',
      TRUST_PROXY: '1',
    })
    expect(c).toMatchObject({
      port: 8080,
      redisUrl: 'redis://:pw@cache:6380/2',
      databaseUrl: 'postgresql://u:p@db.example.com/app',
      flushIntervalMs: 60000,
      allowedOrigins: ['https://a.example.com', 'https://b.example.com'],
      counterTtlSeconds: 1209600,
      redisPrefix: 'acme',
      migrateOnStart: false,
      trustProxy: { hops: 1 },
    })
  })

  test('Redis Cluster nodes: host:port or URLs; a cluster defaults to 16 shards', () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.5:6379, redis://10.0.0.6:6380' })
    expect(c.redisClusterNodes).toEqual(['redis://10.0.0.5:6379', 'redis://10.0.0.6:6380'])
    expect(c.redisShards).toBe(16)
    expect(loadConfig({}).redisShards).toBe(1)
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SHARDS: '4' }).redisShards).toBe(4)
    expect(failure({ REDIS_CLUSTER_NODES: 'no-port' }).variable).toBe('REDIS_CLUSTER_NODES')
    expect(failure({ REDIS_SHARDS: '0' }).variable).toBe('REDIS_SHARDS')
  })

  test('REUSE_PORT: off unless set, a boolean like the others', () => {
    expect(loadConfig({}).reusePort).toBe(false)
    expect(loadConfig({ REUSE_PORT: 'true' }).reusePort).toBe(true)
    expect(loadConfig({ REUSE_PORT: '1' }).reusePort).toBe(true)
    expect(loadConfig({ REUSE_PORT: 'false' }).reusePort).toBe(false)
    const err = failure({ REUSE_PORT: 'yes' })
    expect(err.variable).toBe('REUSE_PORT')
    expect(err.message).toBe('REUSE_PORT: must be one of true, false, 1, 0 (got "yes")')
  })

  test('REDIS_ALLOW_EVICTION: off unless set, a boolean like the others', () => {
    expect(loadConfig({}).redisAllowEviction).toBe(false)
    expect(loadConfig({ REDIS_ALLOW_EVICTION: 'true' }).redisAllowEviction).toBe(true)
    expect(loadConfig({ REDIS_ALLOW_EVICTION: '0' }).redisAllowEviction).toBe(false)
    const err = failure({ REDIS_ALLOW_EVICTION: 'maybe' })
    expect(err.variable).toBe('REDIS_ALLOW_EVICTION')
    expect(err.message).toBe('REDIS_ALLOW_EVICTION: must be one of true, false, 1, 0 (got "maybe")')
  })

  test('a bad PORT fails naming the variable', () => {
    for (const PORT of ['abc', '70000', '-1', '3.5']) {
      const err = failure({ PORT })
      expect(err.variable).toBe('PORT')
      expect(err.message).toContain('PORT: must be an integer from 0 to 65535')
    }
  })

  test('a malformed REDIS_URL fails naming the variable', () => {
    for (const REDIS_URL of ['localhost:6379', 'http://x:6379', 'redis//x']) {
      const err = failure({ REDIS_URL })
      expect(err.variable).toBe('REDIS_URL')
      expect(err.message).toContain('redis://')
    }
  })

  test('a non-numeric FLUSH_INTERVAL_MS fails naming the variable', () => {
    const err = failure({ FLUSH_INTERVAL_MS: '5m' })
    expect(err.variable).toBe('FLUSH_INTERVAL_MS')
    expect(err.message).toBe('FLUSH_INTERVAL_MS: must be an integer from 1000 to 86400000 (got "5m")')
  })

  test('other bad values are named too, and secrets are not echoed', () => {
    expect(failure({ DATABASE_URL: 'mysql://x/y' }).variable).toBe('DATABASE_URL')
    expect(failure({ ALLOWED_ORIGINS: 'example.com' }).variable).toBe('ALLOWED_ORIGINS')
    expect(failure({ REDIS_PREFIX: 'has space' }).variable).toBe('REDIS_PREFIX')
    expect(failure({ TRUST_PROXY: 'maybe' }).variable).toBe('TRUST_PROXY')
    const err = failure({ ADMIN_TOKEN: 'short-secret' })
    expect(err.variable).toBe('ADMIN_TOKEN')
    expect(err.message).not.toContain('short-secret')
  })

  test('TRUST_PROXY: true, false, a number of proxies, or a list of proxy addresses and CIDR ranges', () => {
    const trust = (TRUST_PROXY: string) => loadConfig({ TRUST_PROXY }).trustProxy
    expect(loadConfig({}).trustProxy).toEqual({ hops: 0 })
    expect(trust('true')).toEqual({ hops: 1 })
    expect(trust('false')).toEqual({ hops: 0 })
    expect(trust('2')).toEqual({ hops: 2 })
    expect(trust('10.0.0.0/8, 192.0.2.7,fd00::/8, ::1')).toEqual({
      proxies: ['10.0.0.0/8', '192.0.2.7', 'fd00::/8', '::1'],
    })
    for (const bad of ['11', '10.0.0.0/33', 'fd00::/129', '10.0.0/8', 'proxy.example', '10.0.0.0/8/1', '1.2.3.4/x']) {
      const err = failure({ TRUST_PROXY: bad })
      expect(err.variable).toBe('TRUST_PROXY')
      expect(err.message).toContain('CIDR')
    }
  })

  test('USER_JWT_SECRET needs 32 bytes, as HS256 wants a key as long as its hash', () => {
    expect(loadConfig({ USER_JWT_SECRET: 'x'.repeat(32) }).userJwtSecret).toBe('x'.repeat(32))
    // counted in bytes: 16 two-byte characters are enough
    expect(loadConfig({ USER_JWT_SECRET: 'é'.repeat(16) }).userJwtSecret).toBe('é'.repeat(16))
    const err = failure({ USER_JWT_SECRET: 'y'.repeat(31) })
    expect(err.variable).toBe('USER_JWT_SECRET')
    expect(err.message).toBe('USER_JWT_SECRET: must be a secret of at least 32 bytes (got (hidden))')
  })

  test('COUNTED_PROPERTIES and the per-dimension cap', () => {
    expect(loadConfig({}).countedProperties).toEqual([])
    expect(loadConfig({}).caps.dimensions).toBe(1000)
    const c = loadConfig({ COUNTED_PROPERTIES: ' plan, variant,plan ', MAX_DIMENSION_VALUES_PER_DAY: '50' })
    expect(c.countedProperties).toEqual(['plan', 'variant'])
    expect(c.caps.dimensions).toBe(50)
    for (const bad of ['has space', 'a|b', 'referrer', 'path', 'utm_source', 'x'.repeat(65)]) {
      const err = failure({ COUNTED_PROPERTIES: bad })
      expect(err.variable).toBe('COUNTED_PROPERTIES')
    }
    const many = Array.from({ length: 21 }, (_, i) => `k${i}`).join(',')
    expect(failure({ COUNTED_PROPERTIES: many }).message).toContain('at most 20')
    expect(failure({ MAX_DIMENSION_VALUES_PER_DAY: '0' }).variable).toBe('MAX_DIMENSION_VALUES_PER_DAY')
  })

  test('write-path budgets and the body deadline', () => {
    const c = loadConfig({})
    expect([c.maxInFlight, c.ingestMaxInFlight, c.bodyTimeoutMs]).toEqual([5000, 64, 10_000])
    const set = loadConfig({ MAX_IN_FLIGHT: '10', INGEST_MAX_IN_FLIGHT: '3', BODY_TIMEOUT_MS: '2500' })
    expect([set.maxInFlight, set.ingestMaxInFlight, set.bodyTimeoutMs]).toEqual([10, 3, 2500])
    expect(failure({ BODY_TIMEOUT_MS: '50' }).variable).toBe('BODY_TIMEOUT_MS')
  })

  test('GEOIP_DB: off, or the path of a readable file, resolved against the working directory', () => {
    expect(loadConfig({ GEOIP_DB: '' }).geoipDb).toBeUndefined()
    for (const off of ['off', 'OFF', ' off ']) expect(loadConfig({ GEOIP_DB: off }).geoipDb).toBe('off')
    expect(loadConfig({ GEOIP_DB: import.meta.path }).geoipDb).toBe(import.meta.path)
    const relative = relativePath(process.cwd(), import.meta.path)
    expect(loadConfig({ GEOIP_DB: relative }).geoipDb).toBe(resolve(relative))
    const missing = failure({ GEOIP_DB: '/nonexistent/GeoLite2-Country.mmdb' })
    expect(missing.variable).toBe('GEOIP_DB')
    expect(missing.message).toBe(
      'GEOIP_DB: must be off or the path of a readable MMDB file such as GeoLite2-Country.mmdb ' +
        '(got "/nonexistent/GeoLite2-Country.mmdb": no such file)',
    )
    expect(failure({ GEOIP_DB: import.meta.dir }).message).toEndWith(': not a file)')
    expect(failure({ GEOIP_DB: 'no' }).variable).toBe('GEOIP_DB')
  })

  test('the process stops with one clear line', async () => {
    // the configuration is checked before anything connects: no database of its own needed
    const server = await spawnServerProcess({ PORT: 'not-a-port', DATABASE_URL: process.env.DATABASE_URL })
    expect(await server.exited()).toBe(1)
    expect(server.logs().trim()).toBe(
      'edge-analytics: invalid configuration: PORT: must be an integer from 0 to 65535 (got "not-a-port")',
    )
  })

  test('HOST: an IP address or a host name', () => {
    for (const host of ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost', 'analytics.internal']) {
      expect(loadConfig({ HOST: host }).host).toBe(host)
    }
    for (const host of ['0.0.0.0:3000', 'http://localhost', '[::1]', 'a b', 'x'.repeat(300)]) {
      expect(failure({ HOST: host }).message).toStartWith('HOST: must be an IP address')
    }
  })

  test('PATH_QUERY_PARAMS: a list of parameter names', () => {
    expect(loadConfig({ PATH_QUERY_PARAMS: ' ref, utm_source ,ref,items[]' }).pathQueryParams).toEqual([
      'ref',
      'utm_source',
      'items[]',
    ])
    expect(failure({ PATH_QUERY_PARAMS: 'ref,a=b' }).message).toBe(
      'PATH_QUERY_PARAMS: "a=b" is not a query parameter name of 1-64 characters of A-Z a-z 0-9 _ . - [ ]',
    )
    expect(failure({ PATH_QUERY_PARAMS: 'a&b' }).message).toContain('"a&b"')
    const many = Array.from({ length: 21 }, (_, i) => `p${i}`).join(',')
    expect(failure({ PATH_QUERY_PARAMS: many }).message).toBe('PATH_QUERY_PARAMS: lists 21 names; at most 20')
  })

  test('EVENTS_RETENTION_DAYS: 400 by default, 0 keeps every day, at least the 31 days a server event can reach back', () => {
    expect(loadConfig({}).eventsRetentionDays).toBe(400)
    expect(loadConfig({ EVENTS_RETENTION_DAYS: '0' }).eventsRetentionDays).toBe(0)
    expect(loadConfig({ EVENTS_RETENTION_DAYS: '31' }).eventsRetentionDays).toBe(31)
    expect(loadConfig({ EVENTS_RETENTION_DAYS: ' 3650 ' }).eventsRetentionDays).toBe(3650)
    for (const bad of ['30', '1', '-1', '36501', '1.5', 'forever']) {
      expect(failure({ EVENTS_RETENTION_DAYS: bad }).message).toBe(
        `EVENTS_RETENTION_DAYS: must be 0 (keep every day) or a number of days from 31 to 36500 (got ${JSON.stringify(bad)})`,
      )
    }
  })

  test('READ_TIMEOUT_MS: 30 s by default, 1 s to an hour; DATABASE_WORK_MEM: 32MB by default, a size in kB, MB or GB', () => {
    expect(loadConfig({}).readTimeoutMs).toBe(30_000)
    expect(loadConfig({ READ_TIMEOUT_MS: '5000' }).readTimeoutMs).toBe(5000)
    expect(failure({ READ_TIMEOUT_MS: '10' }).message).toContain('READ_TIMEOUT_MS')
    expect(loadConfig({}).databaseWorkMem).toBe('32MB')
    expect(loadConfig({ DATABASE_WORK_MEM: '256MB' }).databaseWorkMem).toBe('256MB')
    for (const bad of ['32', '32mb', "32MB'; DROP TABLE x; --", '0MB', '1TB']) {
      expect(failure({ DATABASE_WORK_MEM: bad }).message).toBe(
        `DATABASE_WORK_MEM: must be a size like 32MB (kB, MB or GB) (got ${JSON.stringify(bad)})`,
      )
    }
  })

  test("README's variable table names exactly the variables the configuration reads", () => {
    const read = new Set<string>()
    const env = new Proxy({} as Record<string, string | undefined>, {
      get(_, name) {
        if (typeof name === 'string') read.add(name)
        return undefined
      },
    })
    loadConfig(env)
    const readme = readFileSync(join(import.meta.dir, '..', 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Routes'))
    const documented = new Set([...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!))
    expect([...read].sort()).toEqual([...documented].sort())
  })

  test('maskUrl hides passwords', () => {
    expect(maskUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db')
    expect(maskUrl('redis://h:6379')).toBe('redis://h:6379')
  })
})
