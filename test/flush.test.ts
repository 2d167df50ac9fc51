import { describe, expect, test } from 'bun:test'
import { dayOf, hourOf } from '../src/counters/keys.ts'
import { MAX_FRAME_BYTES } from '../src/db/bridge.ts'
import { MAX_PATH_LENGTH } from '../src/events/limits.ts'
import { UPSERT_CHUNK_ROWS } from '../src/flush/write.ts'
import { allKeys, beaconRequest, hash, ingestRequest, pendingTotal, testApp } from './app.ts'

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const flushRequest = (headers: Record<string, string> = ADMIN) =>
  new Request('http://localhost/analytics/flush', { method: 'POST', headers })

type Row = Record<string, unknown>
const rows = async (pool: { query(q: string): Promise<{ rows: Row[] }> }, sql: string) => (await pool.query(sql)).rows

describe('flush', () => {
  test('writes every counter kind exactly, and a second flush writes nothing', async () => {
    // a clock that stands still: every beacon falls in the same quarter-hour
    const now = Date.now()
    const { app, deps, db } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const today = dayOf(now)
    const then = now - 3 * 86_400_000
    const thenDay = dayOf(then)
    const quarterOf = (ms: number) => new Date(Math.floor(ms / 900_000) * 900_000).toISOString()
    const thenQuarter = quarterOf(then)

    for (let i = 0; i < 10; i++) {
      const res = await app.handle(
        beaconRequest(
          [
            { event_type: 'page_view', properties: { path: i % 2 ? '/a' : '/b/' } },
            { event_type: 'feature_used', user_id: `b${i % 3}`, properties: { feature_name: 'export' } },
          ],
          { ip: `192.0.2.${i % 4}` },
        ),
      )
      expect(res.status).toBe(202)
    }
    const batch = [
      ...Array.from({ length: 5 }, () => ({ event_type: 'generation_completed', user_id: 'u1' })),
      ...Array.from({ length: 2 }, () => ({ event_type: 'generation_completed', user_id: 'u|2', timestamp: then })),
      { event_type: 'user_signup', user_id: 'u3', properties: { feature_name: 'free|plan' } },
    ]
    expect((await app.handle(ingestRequest(batch))).status).toBe(202)

    const first = await app.handle(flushRequest())
    expect(first.status).toBe(200)
    const { flushed } = await first.json()
    // daily 5 + hourly 5 + per-user 6 + features 2 + pages 2 + visitor days 1, and the beacons'
    // four visitors' visits: their day, their quarter-hour and 8 dimension values (two entry pages)
    expect(flushed).toBe(31)

    expect(await rows(db.pool, 'SELECT event_type, date::text, count::int FROM analytics_daily ORDER BY 1, 2')).toEqual(
      [
        { event_type: 'feature_used', date: today, count: 10 },
        { event_type: 'generation_completed', date: thenDay, count: 2 },
        { event_type: 'generation_completed', date: today, count: 5 },
        { event_type: 'page_view', date: today, count: 10 },
        { event_type: 'user_signup', date: today, count: 1 },
        { event_type: 'visit', date: today, count: 4 },
      ].sort((a, b) => (a.event_type + a.date < b.event_type + b.date ? -1 : 1)),
    )
    const quarters = await rows(
      db.pool,
      `SELECT event_type, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, count::int
       FROM analytics_quarters ORDER BY 1, 2`,
    )
    const nowQuarter = quarterOf(now)
    expect(quarters).toEqual([
      { event_type: 'feature_used', at: nowQuarter, count: 10 },
      { event_type: 'generation_completed', at: thenQuarter, count: 2 },
      { event_type: 'generation_completed', at: nowQuarter, count: 5 },
      { event_type: 'page_view', at: nowQuarter, count: 10 },
      { event_type: 'user_signup', at: nowQuarter, count: 1 },
      { event_type: 'visit', at: nowQuarter, count: 4 },
    ])
    expect(
      await rows(db.pool, 'SELECT user_id, event_type, date::text, count::int FROM analytics_user_daily ORDER BY 1, 3'),
    ).toEqual([
      { user_id: 'b0', event_type: 'feature_used', date: today, count: 4 },
      { user_id: 'b1', event_type: 'feature_used', date: today, count: 3 },
      { user_id: 'b2', event_type: 'feature_used', date: today, count: 3 },
      { user_id: 'u1', event_type: 'generation_completed', date: today, count: 5 },
      { user_id: 'u3', event_type: 'user_signup', date: today, count: 1 },
      { user_id: 'u|2', event_type: 'generation_completed', date: thenDay, count: 2 },
    ])
    expect(await rows(db.pool, 'SELECT user_id, first_seen::text FROM analytics_users ORDER BY 1')).toEqual([
      { user_id: 'b0', first_seen: today },
      { user_id: 'b1', first_seen: today },
      { user_id: 'b2', first_seen: today },
      { user_id: 'u1', first_seen: today },
      { user_id: 'u3', first_seen: today },
      { user_id: 'u|2', first_seen: thenDay },
    ])
    expect(
      await rows(
        db.pool,
        'SELECT event_type, feature_name, date::text, count::int FROM analytics_feature_daily ORDER BY 1',
      ),
    ).toEqual([
      { event_type: 'feature_used', feature_name: 'export', date: today, count: 10 },
      { event_type: 'user_signup', feature_name: 'free|plan', date: today, count: 1 },
    ])
    expect(await rows(db.pool, 'SELECT path, date::text, count::int FROM analytics_page_daily ORDER BY 1')).toEqual([
      { path: '/a', date: today, count: 5 },
      { path: '/b', date: today, count: 5 },
    ])
    expect(
      await rows(
        db.pool,
        "SELECT date::text, visitors::int, substr(hll, 1, 4) = 'HYLL' AS hll FROM analytics_visitors_daily",
      ),
    ).toEqual([{ date: today, visitors: 4, hll: true }])
    const log = await rows(db.pool, 'SELECT batch_id, seq::int, counters_flushed, duration_ms FROM analytics_flush_log')
    expect(log).toHaveLength(1)
    expect(log[0]).toMatchObject({ seq: 1, counters_flushed: 31 })

    // nothing pending, no snapshot left, and the live counts the screens read did not drop
    expect(await pendingTotal(deps)).toBe(0)
    expect((await allKeys(deps)).filter((k) => /:(pend|snap):/.test(k))).toEqual([])
    expect(await hash(deps, deps.keys.shards[0]!.liveHourly(today))).toMatchObject({
      [`page_view|${hourOf(now)}`]: 10,
      [`generation_completed|${hourOf(now)}`]: 5,
    })

    const second = await app.handle(flushRequest())
    expect(await second.json()).toEqual({ flushed: 0 })
    expect(await rows(db.pool, 'SELECT count(*)::int AS n FROM analytics_flush_log')).toEqual([{ n: 1 }])

    // new events after a flush add to the stored rows
    await app.handle(ingestRequest([{ event_type: 'generation_completed', user_id: 'u1' }]))
    expect(await (await app.handle(flushRequest())).json()).toEqual({ flushed: 3 })
    expect(
      await rows(
        db.pool,
        `SELECT count::int FROM analytics_daily WHERE event_type = 'generation_completed' AND date = '${today}'`,
      ),
    ).toEqual([{ count: 6 }])
  })

  test('admin token required', async () => {
    const { app } = await testApp()
    expect((await app.handle(flushRequest({}))).status).toBe(401)
    expect((await app.handle(flushRequest({ authorization: 'Bearer wrong-token-wrong-token' }))).status).toBe(401)
    const open = await testApp({ adminToken: undefined })
    const res = await open.app.handle(flushRequest())
    expect(res.status).toBe(401)
    expect((await res.json()).error).toBe('this route is disabled until ADMIN_TOKEN is configured')
  })

  test('100,000 distinct counters in one batch', async () => {
    const { deps, db } = await testApp()
    const day = dayOf(Date.now())
    const fields: Record<string, string> = {}
    for (let i = 0; i < 100_000; i++) fields[`${day}|generation_completed|user-${i}`] = '1'
    await deps.redis.hSet(deps.keys.shards[0]!.pending('u'), fields)
    expect(await deps.flusher.flush()).toBe(100_000)
    expect(
      await rows(db.pool, 'SELECT count(*)::int AS n, sum(count)::int AS total FROM analytics_user_daily'),
    ).toEqual([{ n: 100_000, total: 100_000 }])
  }, 60_000)

  test('a snapshot of more rows than one statement takes is written whole, through the bridge, first_seen the earliest', async () => {
    const { deps, db } = await testApp()
    const today = dayOf(Date.now())
    const yesterday = dayOf(Date.now() - 86_400_000)
    const PAGES = 12_000
    const USERS = 6_000
    expect(PAGES).toBeGreaterThan(2 * UPSERT_CHUNK_ROWS)
    expect(USERS).toBeGreaterThan(UPSERT_CHUNK_ROWS)

    // the widest rows there are: paths of the longest length, of 3-byte characters
    const pages: Record<string, string> = {}
    for (let i = 0; i < PAGES; i++) pages[`${today}|${`/${i}-`.padEnd(MAX_PATH_LENGTH, '€')}`] = String((i % 5) + 1)
    // every user on two days: their rows fall into different chunks, yesterday's first
    const users: Record<string, string> = {}
    for (let i = 0; i < USERS; i++) {
      users[`${yesterday}|generation_completed|user-${i}`] = '1'
      users[`${today}|generation_completed|user-${i}`] = '2'
    }
    // in one statement the paths alone would not fit in one of the bridge's frames
    expect(Buffer.byteLength(Object.keys(pages).join(''))).toBeGreaterThan(MAX_FRAME_BYTES)
    const shard = deps.keys.shards[0]!
    await deps.redis.hSet(shard.pending('p'), pages)
    await deps.redis.hSet(shard.pending('u'), users)
    // stored before: an earlier first_seen is kept, a later one moves back
    await db.pool.query(
      `INSERT INTO analytics_users (user_id, first_seen) VALUES ('user-0', '2000-01-01'), ('user-${USERS - 1}', $1)`,
      [today],
    )

    expect(await deps.flusher.flush()).toBe(PAGES + 2 * USERS)
    expect(
      await rows(
        db.pool,
        `SELECT count(*)::int AS n, sum(count)::int AS total, min(length(path))::int AS shortest,
                max(length(path))::int AS longest FROM analytics_page_daily`,
      ),
    ).toEqual([{ n: PAGES, total: (PAGES / 5) * (1 + 2 + 3 + 4 + 5), shortest: 512, longest: 512 }])
    expect(
      await rows(
        db.pool,
        'SELECT date::text, count(*)::int AS n, sum(count)::int AS total FROM analytics_user_daily GROUP BY 1 ORDER BY 1',
      ),
    ).toEqual([
      { date: yesterday, n: USERS, total: USERS },
      { date: today, n: USERS, total: 2 * USERS },
    ])
    expect(
      await rows(db.pool, 'SELECT first_seen::text, count(*)::int AS n FROM analytics_users GROUP BY 1 ORDER BY 1'),
    ).toEqual([
      { first_seen: '2000-01-01', n: 1 },
      { first_seen: yesterday, n: USERS - 1 },
    ])
    expect(await rows(db.pool, `SELECT count::int FROM analytics_page_daily WHERE path LIKE '/11999-%'`)).toEqual([
      { count: 5 },
    ])
  }, 60_000)
})
