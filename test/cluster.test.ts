import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createClient } from 'redis'
import { openDatabase } from '../src/db/pool.ts'
import { BROWSER_UA } from './app.ts'
import { countsOf, openFeed, snapshotOf } from './live-feed.ts'
import { clusterBinaries, NO_CLUSTER_BINARIES, type RedisCluster, startRedisCluster } from './redis-cluster.ts'
import { spawnServerProcess, startServerProcess } from './server-process.ts'
import { freshDatabaseUrl } from './services.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const INGEST = { authorization: 'Bearer test-ingest-token-0123456789', 'content-type': 'application/json' }

if (!clusterBinaries()) console.warn(NO_CLUSTER_BINARIES)

describe.skipIf(!clusterBinaries())('on a real 3-master Redis Cluster', () => {
  let cluster: RedisCluster
  beforeAll(async () => {
    cluster = (await startRedisCluster())!
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  test('ingest, exact reads, SSE and flush, with counters spread over every node', async () => {
    const databaseUrl = await freshDatabaseUrl()
    const server = await startServerProcess({
      DATABASE_URL: databaseUrl,
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      REDIS_SHARDS: '16',
    })
    try {
      const ready = await fetch(`${server.url}/readyz`)
      expect(ready.status).toBe(200)
      // every master's INFO, summed up: AOF is off on all three (redis-cluster.ts)
      expect((await ready.json()).redis_config).toMatchObject({ maxmemory_policy: 'noeviction', aof_enabled: false })
      const feed = await openFeed(server.url, { query: '?types=page_view' })
      const first = snapshotOf(await feed.nextEvent())
      expect(first.types.page_view?.total ?? 0).toBe(0)

      const beacon = (i: number) =>
        fetch(`${server.url}/e`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
          body: JSON.stringify({ event_type: 'page_view', user_id: `b${i % 9}`, properties: { path: `/p${i % 4}` } }),
        })
      let sent = 0
      for (let round = 0; round < 8; round++) {
        const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => beacon(round * 25 + i)))
        expect(answers.every((r) => r.status === 202)).toBe(true)
        const batch = await fetch(`${server.url}/analytics/events`, {
          method: 'POST',
          headers: INGEST,
          body: JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ event_type: 'user_login', user_id: `u${i}` }))),
        })
        expect(batch.status).toBe(202)
        sent += 35
      }

      // the live feed saw the page views from every shard
      let seen = 0
      const deadline = Date.now() + 5000
      while (seen < 200 && Date.now() < deadline) {
        const message = await feed.nextEvent(3000)
        if (message.event === 'counts') seen = countsOf(message).types.page_view?.total ?? seen
        if (message.event === 'snapshot') seen = snapshotOf(message).types.page_view?.total ?? seen
      }
      expect(seen).toBe(200)
      await feed.close()

      const stats = async () =>
        (await (await fetch(`${server.url}/analytics/stats?granularity=hour`, { headers: ADMIN })).json()).total
      expect(await stats()).toBe(sent)

      // the 16 shards' keys landed on all three masters
      for (const node of cluster.nodes) {
        const client = await createClient({ url: node }).connect()
        expect(await client.dbSize()).toBeGreaterThan(0)
        await client.close()
      }

      const flushed = await fetch(`${server.url}/analytics/flush`, { method: 'POST', headers: ADMIN })
      expect(flushed.status).toBe(200)
      expect((await flushed.json()).flushed).toBeGreaterThan(0)
      expect(await stats()).toBe(sent)
      const db = await openDatabase(databaseUrl, { max: 1 })
      try {
        const r = await db.pool.query("SELECT sum(count)::int AS n FROM analytics_daily WHERE event_type <> 'visit'")
        expect(r.rows[0].n).toBe(sent)
      } finally {
        await db.close()
      }
      const dashboard = await (await fetch(`${server.url}/analytics/dashboard`, { headers: ADMIN })).json()
      expect(dashboard.page_views_today).toBe(200)
      expect(dashboard.total_users).toBe(19)
      // one browser sent every beacon: one visitor, today and over the week (a union read on the cluster)
      expect([dashboard.visitors_today, dashboard.visitors_7d]).toEqual([1, 1])
      const visitors = await fetch(`${server.url}/analytics/stats?metric=visitors&from=${dashboard.day}`, {
        headers: ADMIN,
      })
      expect((await visitors.json()).total).toBe(1)
      expect(await server.stop()).toBe(0)
    } finally {
      await server.stop('SIGKILL')
    }
  }, 60_000)

  test('an evicting policy on any one master stops the start, naming that master', async () => {
    const [seed, , evicting] = cluster.nodes as [string, string, string]
    const node = await createClient({ url: evicting }).connect()
    try {
      await node.configSet('maxmemory-policy', 'allkeys-lru')
      // seeded with another node: the check finds every master itself
      const server = await spawnServerProcess({ REDIS_CLUSTER_NODES: seed, REDIS_SHARDS: '16' })
      expect(await server.exited()).toBe(1)
      const refusal = server.logs().trim().split('\n').at(-1)
      expect(refusal).toStartWith(
        `edge-analytics: Redis evicts keys when it is full (maxmemory-policy allkeys-lru on ${new URL(evicting).host}), `,
      )
    } finally {
      await node.configSet('maxmemory-policy', 'noeviction')
      await node.close()
    }
  })
})
