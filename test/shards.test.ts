import { describe, expect, test } from 'bun:test'
import { dayOf } from '../src/counters/keys.ts'
import { redisLiveSource } from '../src/live/source.ts'
import { allKeys, beaconRequest, ingestRequest, pendingTotal, testApp } from './app.ts'

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }

describe('counters spread over several shards', () => {
  test('ingest, exact reads during flushes, flush and live reads cover every shard', async () => {
    const { app, deps, db } = await testApp({ redisShards: 4, trustProxy: { hops: 1 } })
    const get = async (path: string) =>
      (await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))).json()
    let sent = 0
    for (let i = 0; i < 24; i++) {
      const beacon = await app.handle(
        beaconRequest(
          { event_type: 'page_view', user_id: `b${i}`, properties: { path: `/p${i % 3}` } },
          {
            ip: `192.0.2.${i}`,
          },
        ),
      )
      expect(beacon.status).toBe(202)
      const batch = await app.handle(ingestRequest([{ event_type: 'generation_completed', user_id: `u${i % 5}` }]))
      expect(batch.status).toBe(202)
      sent += 2
    }
    // the batches took turns over the shards; global keys stayed under the prefix's own tag
    const tags = new Set((await allKeys(deps)).map((k) => k.slice(0, k.indexOf('}') + 1)))
    expect([...tags].sort()).toEqual(
      [deps.keys.tag, ...deps.keys.shards.map((s) => s.tag)].sort().filter((t, i, a) => a.indexOf(t) === i),
    )
    expect(await pendingTotal(deps)).toBe(sent)
    // every key has a TTL, the global visitors HyperLogLog (added in its own call) included
    for (const key of await allKeys(deps))
      expect({ key, ttl: (await deps.redis.ttl(key)) > 0 }).toEqual({ key, ttl: true })

    const today = dayOf(Date.now())
    expect((await get(`/analytics/stats?from=${today}&to=${today}`)).total).toBe(sent)

    // reads while flushes move every shard's counters to Postgres
    let stop = false
    const totals: number[] = []
    const reader = (async () => {
      while (!stop) totals.push((await get(`/analytics/stats?granularity=hour&from=${today}&to=${today}`)).total)
    })()
    for (let i = 0; i < 5; i++) await deps.flusher.flush()
    stop = true
    await reader
    expect(totals.length).toBeGreaterThan(0)
    expect(new Set(totals)).toEqual(new Set([sent]))

    expect(await pendingTotal(deps)).toBe(0)
    const stored = await db.pool.query(
      `SELECT (SELECT sum(count)::int FROM analytics_daily WHERE event_type <> 'visit') AS n,
              (SELECT count(*)::int FROM analytics_flush_log) AS batches`,
    )
    expect(stored.rows[0].n).toBe(sent)
    // one batch per shard that had counters
    expect(stored.rows[0].batches).toBe(4)
    const users = await db.pool.query('SELECT count(*)::int AS n FROM analytics_users')
    expect(users.rows[0].n).toBe(24 + 5)

    const dashboard = await get('/analytics/dashboard')
    expect(dashboard.generations_today).toBe(24)
    expect(dashboard.page_views_today).toBe(24)
    expect(dashboard.visitors_today).toBeGreaterThanOrEqual(23)
    expect(dashboard.total_users).toBe(29)

    const live = await redisLiveSource(deps.redis, deps.keys, deps.calendar)(today, deps.now())
    const liveTotal = Object.values(live.fields).reduce((a, b) => a + Number(b), 0)
    expect(liveTotal).toBe(sent)
    expect(live.visitors).toBe(dashboard.visitors_today)
  })

  test("a visitor's requests all go to one shard, so one visit stays one visit over several shards", async () => {
    const { app } = await testApp({ redisShards: 4, trustProxy: { hops: 1 } })
    const get = async (path: string) =>
      (await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))).json()
    // two visitors, twelve page views each from other sites, within minutes, one request a batch
    // (each answered before the next is sent): two visits, whichever shard a batch went to
    for (let i = 0; i < 24; i++) {
      const res = await app.handle(
        beaconRequest(
          { event_type: 'page_view', properties: { path: `/p${i}`, referrer: `https://site-${i}.example/` } },
          { ip: `192.0.2.${i % 2}` },
        ),
      )
      expect(res.status).toBe(202)
    }
    const visits = await get(`/analytics/stats?metric=visits&from=${dayOf(Date.now())}`)
    expect(visits.total).toBe(2)
    const pages = await get('/analytics/top?dimension=page&limit=100')
    expect(pages.total).toBe(24)
  })
})
