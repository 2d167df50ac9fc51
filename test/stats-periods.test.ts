/**
 * Series by ISO week and calendar month (`granularity=week|month`), and counts up to an instant
 * (`until`): exact in TIME_ZONE and in any other zone, across a clock change, before, during and
 * after flushes; a week's or month's unique visitors are the union of its days. Against real
 * Redis and Postgres, on a clock the test sets.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { parseCsv } from '../src/csv.ts'
import { beaconRequest, ingestRequest, testApp } from './app.ts'
import { duringFlushes } from './during-flushes.ts'

setDefaultTimeout(60_000)

type App = Awaited<ReturnType<typeof testApp>>['app']
type Point = { t: string; count: number }

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }

const get = (app: App, path: string) => app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
const json = async (app: App, path: string) => {
  const res = await get(app, path)
  const body = await res.json()
  expect({ path, status: res.status, error: res.status === 200 ? undefined : body }).toEqual({
    path,
    status: 200,
    error: undefined,
  })
  return body
}
const flush = async (app: App) => {
  const res = await app.handle(new Request('http://localhost/analytics/flush', { method: 'POST', headers: ADMIN }))
  expect(res.status).toBe(200)
}

/** The local day of an instant, worked out here apart from the service. */
const localDay = (ms: number, zone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms)

/** The Monday of a day's ISO week, or its month's first day. */
function periodStart(day: string, unit: 'week' | 'month'): string {
  if (unit === 'month') return `${day.slice(0, 7)}-01`
  const date = new Date(`${day}T00:00:00Z`)
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7))
  return date.toISOString().slice(0, 10)
}

/** The expected buckets: events by local day, each in its week or month, the first cut at `from`. */
function expectedSeries(events: number[], zone: string, from: string, to: string, unit: 'week' | 'month'): Point[] {
  const buckets = new Map<string, number>()
  for (let day = from; day <= to; day = addDays(day, 1)) {
    const start = periodStart(day, unit) < from ? from : periodStart(day, unit)
    buckets.set(start, buckets.get(start) ?? 0)
  }
  for (const at of events) {
    const day = localDay(at, zone)
    if (day < from || day > to) continue
    const start = periodStart(day, unit) < from ? from : periodStart(day, unit)
    buckets.set(start, buckets.get(start)! + 1)
  }
  return [...buckets].map(([t, count]) => ({ t, count }))
}

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
}

// Events from 22 October to 19 November 2026 UTC, 1 to 3 in each hour (at :05, :20, :35), so
// that every week and month boundary, in UTC and in New York (whose clocks went back on
// 1 November), has events on both sides of it.
const FIRST = Date.parse('2026-10-22T00:00:00Z')
const NOW = Date.parse('2026-11-20T12:00:00Z')
const EVENTS: number[] = []
for (let hour = 0; hour < 29 * 24; hour++) {
  for (let i = 0; i <= hour % 3; i++) EVENTS.push(FIRST + hour * 3_600_000 + (5 + i * 15) * 60_000)
}
const FROM = '2026-10-22'
const TO = '2026-11-19'

async function seeded(timeZone: string) {
  const { app, deps } = await testApp({ timeZone }, { now: () => NOW })
  for (let i = 0; i < EVENTS.length; i += 1000) {
    const batch = EVENTS.slice(i, i + 1000).map((at) => ({ event_type: 'user_login', timestamp: at }))
    expect((await app.handle(ingestRequest(batch))).status).toBe(202)
  }
  return { app, deps }
}

describe('series by week and by month', () => {
  for (const timeZone of ['UTC', 'America/New_York']) {
    test(`exact in every zone, TIME_ZONE=${timeZone}: across New York's clock change, weeks from Monday, months from the 1st, before and after a flush`, async () => {
      const { app } = await seeded(timeZone)
      for (const when of ['before a flush', 'after it']) {
        if (when === 'after it') await flush(app)
        for (const zone of ['America/New_York', 'UTC', 'Asia/Kolkata']) {
          const range = `event_type=user_login&from=${FROM}&to=${TO}&tz=${encodeURIComponent(zone)}`
          const days = await json(app, `/analytics/stats?${range}`)
          for (const unit of ['week', 'month'] as const) {
            const body = await json(app, `/analytics/stats?${range}&granularity=${unit}`)
            expect({ when, zone, unit, series: body.series }).toEqual({
              when,
              zone,
              unit,
              series: expectedSeries(EVENTS, zone, FROM, TO, unit),
            })
            expect({ when, zone, unit, granularity: body.granularity, total: body.total }).toEqual({
              when,
              zone,
              unit,
              granularity: unit,
              total: days.total,
            })
          }
        }
      }
      // the shapes: partial first and last weeks, starting on their first day in the range
      const weeks = await json(app, `/analytics/stats?event_type=user_login&from=${FROM}&to=${TO}&granularity=week`)
      expect(weeks.series.map((p: Point) => p.t)).toEqual([
        '2026-10-22', // a Thursday: the first week is partial
        '2026-10-26',
        '2026-11-02',
        '2026-11-09',
        '2026-11-16', // to the Thursday 19th: partial
      ])
      const months = await json(app, `/analytics/stats?event_type=user_login&from=${FROM}&to=${TO}&granularity=month`)
      expect(months.series.map((p: Point) => p.t)).toEqual(['2026-10-22', '2026-11-01'])
    })
  }

  test('the week boundary in New York is its own Monday midnight, after the clock change', async () => {
    const { app } = await testApp({}, { now: () => NOW })
    // 04:30 UTC on Monday 2 November is 23:30 on Sunday in New York (EST, -5): the week before
    const sunday = Date.parse('2026-11-02T04:30:00Z')
    const monday = Date.parse('2026-11-02T05:00:00Z')
    const sent = [sunday, monday, monday].map((at) => ({ event_type: 'user_signup', timestamp: at }))
    expect((await app.handle(ingestRequest(sent))).status).toBe(202)
    const q = '/analytics/stats?event_type=user_signup&from=2026-10-26&to=2026-11-08&granularity=week'
    const series = (body: { series: Point[] }) => body.series
    for (const when of ['pending', 'flushed']) {
      if (when === 'flushed') await flush(app)
      expect({ when, ny: series(await json(app, `${q}&tz=America/New_York`)) }).toEqual({
        when,
        ny: [
          { t: '2026-10-26', count: 1 },
          { t: '2026-11-02', count: 2 },
        ],
      })
      expect({ when, utc: series(await json(app, q)) }).toEqual({
        when,
        utc: [
          { t: '2026-10-26', count: 0 },
          { t: '2026-11-02', count: 3 },
        ],
      })
    }
  })

  test('never dips or doubles while flushes run: the weeks add up to every acknowledged event', async () => {
    const { app, deps } = await testApp({ timeZone: 'America/New_York', trustProxy: { hops: 1 } })
    const day = localDay(Date.now(), 'America/New_York')
    const from = addDays(day, -20)
    // to the day after New York's: from 18:30 UTC to New York's midnight, Kolkata is a day ahead
    const to = addDays(day, 1)
    const paths = [
      `/analytics/stats?event_type=page_view&from=${from}&to=${to}&granularity=week`,
      `/analytics/stats?event_type=page_view&from=${from}&to=${to}&granularity=month&tz=UTC`,
      `/analytics/stats?metric=visits&from=${from}&to=${to}&granularity=week&tz=Asia/Kolkata`,
    ]
    let i = 0
    const { seen, sent } = await duringFlushes({
      flush: () => deps.flusher.flush(),
      read: async () => {
        const body = await json(app, paths[i++ % paths.length]!)
        // visits: each beacon batch below is one (each from a visitor of its own)
        const sum = body.series.reduce((a: number, p: Point) => a + p.count, 0)
        expect(sum).toBe(body.total)
        return body.metric === 'visits' ? body.total * 5 : body.total
      },
      send: async (round) => {
        const views = Array.from({ length: 5 }, (_, n) => ({
          event_type: 'page_view',
          properties: { path: '/x', ...(n === 0 ? { referrer: '' } : {}) },
        }))
        expect((await app.handle(beaconRequest(views, { ip: `198.51.100.${round}` }))).status).toBe(202)
        return 5
      },
      rounds: 40,
      reads: 12,
      flushes: 4,
      pauseMs: 2,
      flushPauseMs: () => Math.random() * 5,
    })
    for (const s of seen) {
      expect(s.answer).toBeGreaterThanOrEqual(s.before)
      expect(s.answer).toBeLessThanOrEqual(s.after)
    }
    expect((await json(app, paths[0]!)).total).toBe(sent)
  })

  test('unique visitors of a week or a month are the union of its days, from Redis and from Postgres', async () => {
    let now = Date.parse('2026-10-30T12:00:00Z') // a Friday
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const visit = async (ip: string) =>
      expect((await app.handle(beaconRequest({ event_type: 'page_view' }, { ip }))).status).toBe(202)
    await visit('198.51.100.1') // A on Friday 30 October
    now = Date.parse('2026-10-31T12:00:00Z')
    await visit('198.51.100.1') // A and B on Saturday 31 October
    await visit('198.51.100.2')
    now = Date.parse('2026-11-02T12:00:00Z')
    await visit('198.51.100.2') // B on Monday 2 November: the next week and month
    now = Date.parse('2026-11-04T12:00:00Z')
    await visit('198.51.100.2') // B and C on Wednesday 4 November
    await visit('198.51.100.3')
    const range = 'metric=visitors&from=2026-10-28&to=2026-11-04'
    const check = async (when: string) => {
      const weeks = await json(app, `/analytics/stats?${range}&granularity=week`)
      expect({ when, series: weeks.series, total: weeks.total }).toEqual({
        when,
        series: [
          { t: '2026-10-28', count: 2 }, // A and B, though A came on two days
          { t: '2026-11-02', count: 2 }, // B and C
        ],
        total: 3,
      })
      const months = await json(app, `/analytics/stats?${range}&granularity=month`)
      expect({ when, series: months.series, total: months.total }).toEqual({
        when,
        series: [
          { t: '2026-10-28', count: 2 },
          { t: '2026-11-01', count: 2 },
        ],
        total: 3,
      })
      // a whole month, read from its stored set once flushed
      const october = await json(
        app,
        '/analytics/stats?metric=visitors&from=2026-10-01&to=2026-11-30&granularity=month',
      )
      expect({ when, series: october.series }).toEqual({
        when,
        series: [
          { t: '2026-10-01', count: 2 },
          { t: '2026-11-01', count: 2 },
        ],
      })
    }
    await check('in Redis')
    await flush(app)
    await deps.redis.del(['2026-10-30', '2026-10-31', '2026-11-02', '2026-11-04'].map((d) => deps.keys.visitors(d)))
    await check('from Postgres alone')
  })

  test('format=csv gives the same buckets, named by their granularity', async () => {
    const { app } = await seeded('UTC')
    const q = `/analytics/stats?event_type=user_login&from=${FROM}&to=${TO}&granularity=week`
    const body = await json(app, q)
    const res = await get(app, `${q}&format=csv`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="edge-analytics-stats-events-user_login-week-${FROM}-${TO}.csv"`,
    )
    const rows = parseCsv(await res.text())
    expect(rows).toEqual([['t', 'count'], ...body.series.map((p: Point) => [p.t, String(p.count)])])
  })

  test('a granularity it does not know answers 422 naming it', async () => {
    const { app } = await testApp()
    const res = await get(app, '/analytics/stats?granularity=year')
    expect(res.status).toBe(422)
    expect(await res.json()).toEqual({
      error: 'granularity must be hour, day, week or month (got "year")',
      parameter: 'granularity',
    })
  })
})

describe('counts up to an instant (until)', () => {
  // events at known quarter-hours of 18 November 2026 (UTC), and one in each of its neighbours
  const DAY = '2026-11-18'
  const at = (time: string) => Date.parse(`${DAY}T${time}:00Z`)
  const EVENTS = ['00:10', '09:44', '09:45', '10:00', '10:14', '10:15', '13:59', '23:50'].map(at)

  async function seededDay(timeZone: string) {
    const { app } = await testApp({ timeZone }, { now: () => NOW })
    const batch = [...EVENTS, at('00:00') - 60_000, at('23:59') + 120_000].map((t) => ({
      event_type: 'user_login',
      timestamp: t,
    }))
    expect((await app.handle(ingestRequest(batch))).status).toBe(202)
    return app
  }

  for (const timeZone of ['UTC', 'Asia/Kolkata']) {
    test(`only events before it, to the quarter-hour, by day and by hour, pending and flushed (TIME_ZONE=${timeZone})`, async () => {
      const app = await seededDay(timeZone)
      const q = `/analytics/stats?event_type=user_login&from=${DAY}&to=${DAY}&tz=UTC`
      for (const when of ['pending', 'flushed']) {
        if (when === 'flushed') await flush(app)
        for (const [until, expected] of [
          ['2026-11-18T10:15:00Z', 5], // 00:10, 09:44, 09:45, 10:00, 10:14
          ['2026-11-18T10:00:00Z', 3],
          ['2026-11-18T15:30:00+05:30', 3], // the same instant, written in India's offset
          ['2026-11-18T00:00:00Z', 0],
          ['2026-11-19T00:00:00Z', 8], // the end of the day: all of it
          ['2026-11-25T00:00:00Z', 8],
        ] as const) {
          const day = await json(app, `${q}&until=${encodeURIComponent(until)}`)
          expect({ when, until, total: day.total, series: day.series }).toEqual({
            when,
            until,
            total: expected,
            series: [{ t: DAY, count: expected }],
          })
          expect(day.until).toBe(new Date(until).toISOString())
          const hours = await json(app, `${q}&granularity=hour&until=${encodeURIComponent(until)}`)
          expect({ when, until, total: hours.total }).toEqual({ when, until, total: expected })
        }
        // an hour cut in its middle counts its quarters before the instant
        const hours = await json(app, `${q}&granularity=hour&until=2026-11-18T10:15:00Z`)
        expect(hours.series.slice(9, 12).map((p: Point) => p.count)).toEqual([2, 2, 0])
        // in TIME_ZONE's own days too, which the daily counters alone cannot cut
        const own = await json(
          app,
          `/analytics/stats?event_type=user_login&from=${DAY}&to=${DAY}&until=2026-11-18T10:00:00Z`,
        )
        const start = timeZone === 'UTC' ? at('00:00') : at('00:00') - 5.5 * 3_600_000
        const before = [...EVENTS, at('00:00') - 60_000].filter((t) => t >= start && t < at('10:00')).length
        expect({ when, total: own.total }).toEqual({ when, total: before })
      }
    })
  }

  test('an instant off the quarter-hours, or without an offset, or for unique visitors, answers 422 naming it', async () => {
    const { app } = await testApp()
    for (const [query, error] of [
      ['until=2026-11-18T10:07:00Z', 'until must be on a quarter-hour'],
      ['until=2026-11-18T10:00:00', 'until must be an instant like 2026-11-28T13:45:00Z'],
      ['until=tomorrow', 'until must be an instant like 2026-11-28T13:45:00Z'],
      ['until=2026-11-18T10:00:00Z&metric=visitors', 'until does not apply to metric=visitors'],
    ] as const) {
      const res = await get(app, `/analytics/stats?${query}`)
      const body = await res.json()
      expect({
        query,
        status: res.status,
        parameter: body.parameter,
        error: body.error.slice(0, error.length),
      }).toEqual({
        query,
        status: 422,
        parameter: 'until',
        error,
      })
    }
  })
})
