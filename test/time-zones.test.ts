/**
 * Days and hours in any zone, exact; the team's own days (TIME_ZONE) for every day-level counter;
 * unique visitors of a range as a union. Against real Redis and Postgres, before and after a
 * flush, on a clock the test sets (the write path refuses timestamps over 30 days old, so the
 * days of 2026-11-01's clock change are reached by standing the clock a few days after it).
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sameDays } from '../src/time.ts'
import { beaconRequest, ingestRequest, testApp } from './app.ts'

setDefaultTimeout(30_000)

type App = Awaited<ReturnType<typeof testApp>>['app']

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const QUARTER = 15 * 60_000

const json = async (app: App, path: string) => {
  const res = await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
  const body = await res.json()
  expect({ path, status: res.status, body: res.status === 200 ? 'ok' : body }).toEqual({
    path,
    status: 200,
    body: 'ok',
  })
  return body
}
const flush = async (app: App) => {
  const res = await app.handle(new Request('http://localhost/analytics/flush', { method: 'POST', headers: ADMIN }))
  expect(res.status).toBe(200)
}

/** The local day of an instant, computed here independently of the service. */
const formats = new Map<string, Intl.DateTimeFormat>()
const localDay = (ms: number, zone: string) => {
  let format = formats.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
    formats.set(zone, format)
  }
  return format.format(ms)
}

describe('days and hours in any zone', () => {
  // events in every quarter-hour from 2026-10-30 to 2026-11-03 UTC, 1 to 5 of them each
  const FIRST = Date.parse('2026-10-30T00:00:00Z')
  const QUARTERS = 4 * 96
  const events: number[] = []
  for (let q = 0; q < QUARTERS; q++) for (let i = 0; i <= q % 5; i++) events.push(FIRST + q * QUARTER + i * 60_000)
  const NOW = Date.parse('2026-11-05T12:00:00Z')

  async function seeded() {
    const { app } = await testApp({}, { now: () => NOW })
    for (let i = 0; i < events.length; i += 1000) {
      const batch = events.slice(i, i + 1000).map((at) => ({ event_type: 'user_login', timestamp: at }))
      expect((await app.handle(ingestRequest(batch))).status).toBe(202)
    }
    return app
  }

  const zones = ['Asia/Kolkata', 'Asia/Kathmandu', 'America/St_Johns', 'America/New_York', 'UTC']

  test('day series are exact in India, Nepal, Newfoundland and New York, before and after a flush', async () => {
    const app = await seeded()
    for (const when of ['before a flush', 'after it']) {
      if (when === 'after it') await flush(app)
      for (const zone of zones) {
        const body = await json(
          app,
          `/analytics/stats?event_type=user_login&from=2026-10-31&to=2026-11-02&tz=${encodeURIComponent(zone)}`,
        )
        const expected = ['2026-10-31', '2026-11-01', '2026-11-02'].map((t) => ({
          t,
          count: events.filter((at) => localDay(at, zone) === t).length,
        }))
        expect({ when, zone, series: body.series }).toEqual({ when, zone, series: expected })
      }
    }
  })

  test('hour series: 25 hours on the day New York’s clocks go back, hours at :30 and :45 where zones have them', async () => {
    const app = await seeded()
    for (const when of ['before a flush', 'after it']) {
      if (when === 'after it') await flush(app)
      const hours = async (zone: string, day: string) =>
        (
          await json(
            app,
            `/analytics/stats?event_type=user_login&granularity=hour&from=${day}&to=${day}&tz=${encodeURIComponent(zone)}`,
          )
        ).series as { t: string; count: number }[]
      // each point counts exactly the events between its start and the next one's
      const check = (zone: string, series: { t: string; count: number }[], dayEnd: number) => {
        series.forEach((point, i) => {
          const start = Date.parse(point.t)
          const end = i + 1 < series.length ? Date.parse(series[i + 1]!.t) : dayEnd
          const count = events.filter((at) => at >= start && at < end).length
          expect({ when, zone, t: point.t, count: point.count }).toEqual({ when, zone, t: point.t, count })
        })
      }
      const ny = await hours('America/New_York', '2026-11-01')
      expect(ny).toHaveLength(25)
      // midnight EDT is 04:00Z; the next midnight, EST, is 05:00Z: 25 hours, each starting on the hour
      expect(ny[0]!.t).toBe('2026-11-01T04:00:00.000Z')
      expect(ny.at(-1)!.t).toBe('2026-11-02T04:00:00.000Z')
      check('America/New_York', ny, Date.parse('2026-11-02T05:00:00Z'))

      const newfoundland = await hours('America/St_Johns', '2026-11-01')
      expect(newfoundland).toHaveLength(25)
      expect(newfoundland.every((p) => p.t.slice(14, 16) === '30')).toBe(true)
      check('America/St_Johns', newfoundland, Date.parse('2026-11-02T03:30:00Z'))

      const india = await hours('Asia/Kolkata', '2026-11-01')
      expect(india).toHaveLength(24)
      expect(india[0]!.t).toBe('2026-10-31T18:30:00.000Z')
      check('Asia/Kolkata', india, Date.parse('2026-11-01T18:30:00Z'))

      const nepal = await hours('Asia/Kathmandu', '2026-11-01')
      expect(nepal).toHaveLength(24)
      expect(nepal.every((p) => p.t.slice(14, 16) === '15')).toBe(true)
      check('Asia/Kathmandu', nepal, Date.parse('2026-11-01T18:15:00Z'))
    }
  })

  test('the event the issue measured: 18:45Z on 1 November is 2 November in India', async () => {
    const { app } = await testApp({}, { now: () => NOW })
    const at = Date.parse('2026-11-01T18:45:00Z')
    expect((await app.handle(ingestRequest([{ event_type: 'user_login', timestamp: at }]))).status).toBe(202)
    const body = await json(app, '/analytics/stats?event_type=user_login&from=2026-11-01&to=2026-11-02&tz=Asia/Kolkata')
    expect(body.series).toEqual([
      { t: '2026-11-01', count: 0 },
      { t: '2026-11-02', count: 1 },
    ])
  })
})

describe('TIME_ZONE', () => {
  test('every day-level counter and read counts 03:00 UTC as the day before in Los Angeles', async () => {
    // 2026-11-05T03:00Z is 2026-11-04 19:00 in Los Angeles; the clock stands at that instant
    const at = Date.parse('2026-11-05T03:00:00Z')
    const { app, deps } = await testApp(
      { timeZone: 'America/Los_Angeles', countedProperties: ['plan'], trustProxy: { hops: 1 } },
      { now: () => at },
    )
    const batch = [
      { event_type: 'generation_completed', user_id: 'u1', timestamp: at, properties: { plan: 'pro' } },
      { event_type: 'feature_used', timestamp: at, properties: { feature_name: 'export' } },
      { event_type: 'page_view', timestamp: at, properties: { path: '/la', referrer: 'https://t.co/x' } },
    ]
    expect((await app.handle(ingestRequest(batch))).status).toBe(202)
    const beacon = beaconRequest(
      { event_type: 'page_view', properties: { path: '/b', referrer: 'https://t.co/x' } },
      { ip: '8.8.8.8' },
    )
    expect((await app.handle(beacon)).status).toBe(202)

    const check = async (when: string) => {
      const day = (await json(app, '/analytics/stats?event_type=generation_completed&from=2026-11-04&to=2026-11-05'))
        .series
      expect({ when, day }).toEqual({
        when,
        day: [
          { t: '2026-11-04', count: 1 },
          { t: '2026-11-05', count: 0 },
        ],
      })
      const top = async (q: string) => (await json(app, `/analytics/top?${q}&from=2026-11-04&to=2026-11-04`)).items
      expect({ when, features: await top('dimension=feature') }).toEqual({
        when,
        features: [{ name: 'export', count: 1 }],
      })
      expect({ when, pages: await top('dimension=page') }).toEqual({
        when,
        pages: [
          { name: '/b', count: 1 },
          { name: '/la', count: 1 },
        ],
      })
      expect({ when, sources: await top('dimension=source') }).toEqual({ when, sources: [{ name: 'X', count: 1 }] })
      expect({ when, plans: await top('dimension=prop:plan') }).toEqual({ when, plans: [{ name: 'pro', count: 1 }] })
      // "today" is the 4th in Los Angeles
      expect({ when, user: await json(app, '/analytics/users/u1') }).toEqual({
        when,
        user: {
          generations_today: 1,
          generations_this_month: 1,
          generations_total: 1,
          events: { generation_completed: { today: 1, this_month: 1, total: 1 } },
        },
      })
      const dashboard = await json(app, '/analytics/dashboard')
      expect({ when, trend: dashboard.daily_trend['2026-11-04'], today: dashboard.generations_today }).toEqual({
        when,
        trend: 1,
        today: 1,
      })
      // the hour is 19:00 local
      expect({ when, hour: dashboard.hourly_generations['19'] }).toEqual({ when, hour: 1 })
      const visitors = await json(app, '/analytics/stats?metric=visitors&from=2026-11-04&to=2026-11-05')
      expect({ when, visitors: visitors.series }).toEqual({
        when,
        visitors: [
          { t: '2026-11-04', count: 1 },
          { t: '2026-11-05', count: 0 },
        ],
      })
    }
    // the pending fields carry the Los Angeles day
    const pending = await deps.redis.hGetAll(deps.keys.shards[0]!.pending('d'))
    expect(Object.keys(pending).sort()).toEqual([
      '2026-11-04|feature_used',
      '2026-11-04|generation_completed',
      '2026-11-04|page_view',
      '2026-11-04|visit',
    ])
    await check('before a flush')
    await flush(app)
    await check('after it')
    const stored = await deps.pool.query("SELECT to_char(date, 'YYYY-MM-DD') AS d FROM analytics_user_daily")
    expect(stored.rows).toEqual([{ d: '2026-11-04' }])
  })

  test('changing TIME_ZONE on a running deployment: counts already made keep their days, later ones take the new zone’s', async () => {
    const at = Date.parse('2026-11-05T03:00:00Z')
    const utc = await testApp({}, { now: () => at })
    expect((await utc.app.handle(ingestRequest([{ event_type: 'user_login', timestamp: at }]))).status).toBe(202)
    await flush(utc.app)
    // the same Redis prefix and database, restarted with TIME_ZONE=America/Los_Angeles
    const { createDeps } = await import('../src/deps.ts')
    const { createApp } = await import('../src/app.ts')
    const { silentLogger } = await import('../src/log.ts')
    const la = createApp(
      createDeps({
        config: { ...utc.config, timeZone: 'America/Los_Angeles' },
        redis: utc.redis,
        pool: utc.db.pool,
        log: silentLogger,
        now: () => at,
      }),
    )
    expect((await la.handle(ingestRequest([{ event_type: 'user_login', timestamp: at }]))).status).toBe(202)
    // the first login was counted on the 5th (UTC), the second on the 4th (Los Angeles): the day
    // series of either zone says so, from the daily counters as counted
    const days = await json(la, '/analytics/stats?event_type=user_login&from=2026-11-04&to=2026-11-05')
    expect(days.series).toEqual([
      { t: '2026-11-04', count: 1 },
      { t: '2026-11-05', count: 1 },
    ])
    // the time-of-day counters do not depend on the zone: both logins are at 19:00 in Los Angeles
    const hours = await json(
      la,
      '/analytics/stats?event_type=user_login&granularity=hour&from=2026-11-04&to=2026-11-04&tz=America/Los_Angeles',
    )
    expect(hours.series.find((p: { t: string }) => p.t === '2026-11-05T03:00:00.000Z').count).toBe(2)
  })
})

describe('unique visitors over a range', () => {
  test('a union, not a sum: one visitor on two days is 1, two visitors are 2, from Redis and from Postgres', async () => {
    let now = Date.parse('2026-11-02T12:00:00Z')
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const visit = (ip: string) => app.handle(beaconRequest({ event_type: 'page_view' }, { ip }))
    expect((await visit('198.51.100.1')).status).toBe(202)
    now = Date.parse('2026-11-03T12:00:00Z')
    expect((await visit('198.51.100.1')).status).toBe(202)
    expect((await visit('198.51.100.2')).status).toBe(202)

    const check = async (when: string) => {
      const body = await json(app, '/analytics/stats?metric=visitors&from=2026-11-01&to=2026-11-03')
      expect({ when, series: body.series, total: body.total }).toEqual({
        when,
        series: [
          { t: '2026-11-01', count: 0 },
          { t: '2026-11-02', count: 1 },
          { t: '2026-11-03', count: 2 },
        ],
        total: 2,
      })
      const one = await json(app, '/analytics/stats?metric=visitors&from=2026-11-02&to=2026-11-02')
      expect({ when, total: one.total }).toEqual({ when, total: 1 })
      const dashboard = await json(app, '/analytics/dashboard')
      expect({ when, d7: dashboard.visitors_7d, d30: dashboard.visitors_30d, today: dashboard.visitors_today }).toEqual(
        { when, d7: 2, d30: 2, today: 2 },
      )
    }
    await check('before a flush')
    await flush(app)
    await check('after it')
    // once the days' sets have expired from Redis, Postgres alone answers the same
    await deps.redis.del([deps.keys.visitors('2026-11-02'), deps.keys.visitors('2026-11-03')])
    await check('from Postgres alone')
    // and the read leaves none of its copies behind
    const copies: string[] = []
    for await (const batch of deps.redis.scanIterator({ MATCH: `${deps.keys.tag}:hll:copy:*` })) copies.push(...batch)
    expect(copies).toEqual([])
  })

  test('whole months from the month’s set, edge days from the days’, the same union either way', async () => {
    let now = Date.parse('2026-10-05T12:00:00Z')
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const visit = async (ip: string) =>
      expect((await app.handle(beaconRequest({ event_type: 'page_view' }, { ip }))).status).toBe(202)
    await visit('198.51.100.1') // A on 5 October
    now = Date.parse('2026-10-31T23:00:00Z')
    await visit('198.51.100.1') // A and B on 31 October
    await visit('198.51.100.2')
    now = Date.parse('2026-11-01T01:00:00Z')
    await visit('198.51.100.2') // B and C on 1 November
    await visit('198.51.100.3')
    now = Date.parse('2026-11-29T12:00:00Z')
    await flush(app)
    await flush(app) // a second flush with nothing new changes no set
    const months = await deps.pool.query(
      "SELECT to_char(month, 'YYYY-MM') AS month FROM analytics_visitors_monthly ORDER BY 1",
    )
    expect(months.rows).toEqual([{ month: '2026-10' }, { month: '2026-11' }])

    const ranges: [string, string, number][] = [
      ['2026-10-01', '2026-10-31', 2], // October whole: A, B
      ['2026-10-01', '2026-11-30', 3], // two whole months
      ['2026-09-20', '2026-11-01', 3], // September's end, October whole, November's first day
      ['2026-10-31', '2026-11-01', 3], // two edge days
      ['2026-10-06', '2026-11-30', 3], // October's tail, November whole
      ['2026-10-06', '2026-10-30', 0],
    ]
    const check = async (when: string) => {
      for (const [from, to, union] of ranges) {
        const body = await json(app, `/analytics/stats?metric=visitors&from=${from}&to=${to}`)
        expect({ when, from, to, total: body.total }).toEqual({ when, from, to, total: union })
        const points = Object.fromEntries(
          (body.series as { t: string; count: number }[]).filter((p) => p.count > 0).map((p) => [p.t, p.count]),
        )
        const expected = { '2026-10-05': 1, '2026-10-31': 2, '2026-11-01': 2 }
        expect({ when, points }).toEqual({
          when,
          points: Object.fromEntries(Object.entries(expected).filter(([d]) => d >= from && d <= to)),
        })
      }
    }
    await check('from Redis')
    await deps.redis.del(['2026-10-05', '2026-10-31', '2026-11-01'].map((d) => deps.keys.visitors(d)))
    await check('from Postgres alone')
  })

  test('another name of TIME_ZONE is TIME_ZONE: a browser sends Asia/Calcutta for Asia/Kolkata', async () => {
    const { app } = await testApp({ timeZone: 'Asia/Kolkata' })
    for (const path of [
      '/analytics/stats?metric=visitors&tz=Asia/Calcutta',
      '/analytics/stats?event_type=page_view&tz=Asia/Calcutta',
      '/analytics/top?dimension=page&tz=Asia/Calcutta',
    ]) {
      const res = await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
      const tz = path.includes('/stats') ? 'Asia/Kolkata' : undefined // stats say the zone they read
      expect({ path, status: res.status, tz: (await res.json()).tz }).toEqual({ path, status: 200, tz })
    }
    // a zone whose days differ is still refused where the counters are kept by TIME_ZONE's days
    const dhaka = await app.handle(
      new Request('http://localhost/analytics/stats?metric=visitors&tz=Asia/Dhaka', { headers: ADMIN }),
    )
    expect(dhaka.status).toBe(422)
    expect(sameDays('Etc/UTC', 'UTC', '2025-01-01', '2026-12-31')).toBe(true)
    expect(sameDays('US/Eastern', 'America/New_York', '2025-01-01', '2026-12-31')).toBe(true)
    expect(sameDays('Europe/London', 'UTC', '2026-01-01', '2026-02-28')).toBe(true) // winter: GMT is UTC
    expect(sameDays('Europe/London', 'UTC', '2026-01-01', '2026-06-30')).toBe(false) // BST from 29 March
  })

  test('metric=visitors takes days only, in TIME_ZONE, and no event_type', async () => {
    const { app } = await testApp()
    for (const [query, parameter] of [
      ['metric=visitors&granularity=hour', 'granularity'],
      ['metric=visitors&tz=Europe/Berlin', 'tz'],
      ['metric=visitors&event_type=page_view', 'event_type'],
    ]) {
      const res = await app.handle(new Request(`http://localhost/analytics/stats?${query}`, { headers: ADMIN }))
      expect({ query, status: res.status, parameter: (await res.json()).parameter }).toEqual({
        query,
        status: 422,
        parameter,
      })
    }
  })
})
