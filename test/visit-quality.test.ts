/**
 * Visit quality through `GET /analytics/stats`: bounce rate, visit duration and views per visit,
 * filtered and not, against figures worked out by hand from the visits sent, before a flush, after
 * it, with a visit's rows split between Postgres and Redis, and after the next flush.
 */
import { describe, expect, test } from 'bun:test'
import { BROWSER_UA, beaconRequest, testApp } from './app.ts'

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const MOBILE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'

describe('visit quality', () => {
  test('bounce rate, visit duration and views per visit are exact, filtered or not, across flushes', async () => {
    const t0 = Date.parse('2026-12-06T10:00:00Z')
    let now = t0
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const send = async (at: number, ip: string, ua: string, events: unknown[]) => {
      now = at
      const res = await app.handle(beaconRequest(events, { ip, headers: { 'user-agent': ua } }))
      expect(res.status).toBe(202)
    }
    const view = (path: string, referrer?: string) => ({
      event_type: 'page_view',
      properties: referrer ? { path, referrer } : { path },
    })
    const google = 'https://www.google.com/'
    // A: from Google on mobile, two pages and a feature over 90 s
    await send(t0, '198.51.100.1', MOBILE_UA, [view('/a', google)])
    await send(t0 + 60_000, '198.51.100.1', MOBILE_UA, [view('/b')])
    await send(t0 + 90_000, '198.51.100.1', MOBILE_UA, [
      { event_type: 'feature_used', properties: { feature_name: 'export' } },
    ])
    // B: from Google, one page: a bounce
    await send(t0 + 10_000, '198.51.100.2', BROWSER_UA, [view('/a', google)])
    // C: from X, two pages 200 s apart
    await send(t0 + 20_000, '198.51.100.3', BROWSER_UA, [view('/c', 'https://t.co/x')])
    await send(t0 + 220_000, '198.51.100.3', BROWSER_UA, [view('/a')])
    // D: one feature and no page: no bounce, no page view, 0 s
    await send(t0 + 30_000, '198.51.100.4', BROWSER_UA, [
      { event_type: 'feature_used', properties: { feature_name: 'share' } },
    ])

    const read = async (metric: string, filters?: unknown) => {
      const f = filters === undefined ? '' : `&filters=${encodeURIComponent(JSON.stringify(filters))}`
      const res = await app.handle(
        new Request(`http://localhost/analytics/stats?metric=${metric}&from=2026-12-06&to=2026-12-06${f}`, {
          headers: ADMIN,
        }),
      )
      expect(res.status).toBe(200)
      const body = (await res.json()) as {
        total: number
        value: number | null
        series: { t: string; count: number; value: number | null }[]
        quality: Record<string, number | null>
      }
      // one bucket: the day's figure is the range's
      expect(body.series).toEqual([{ t: '2026-12-06', count: body.total, value: body.value }])
      answers.push(body.quality)
      return { visits: body.total, value: body.value }
    }
    /** every answer's figures of all three (what the dashboard's cards read from one of them) */
    let answers: Record<string, number | null>[] = []
    const figures = async (filters?: unknown) => {
      answers = []
      const all = {
        bounce_rate: await read('bounce_rate', filters),
        visit_duration: await read('visit_duration', filters),
        views_per_visit: await read('views_per_visit', filters),
      }
      const each = Object.fromEntries(Object.entries(all).map(([m, r]) => [m, r.value]))
      expect(answers).toEqual([each, each, each])
      return all
    }
    const GOOGLE = [['is', 'source', ['Google']]]
    const SAW_B = [['is', 'page', ['/b']]]
    type Figures = [number, number, number, number]
    const expectAll = async (all: Figures, google: Figures, sawB: Figures) => {
      const shape = ([visits, bounce, duration, views]: [number, number, number, number]) => ({
        bounce_rate: { visits, value: bounce },
        visit_duration: { visits, value: duration },
        views_per_visit: { visits, value: views },
      })
      expect(await figures()).toEqual(shape(all))
      expect(await figures(GOOGLE)).toEqual(shape(google))
      expect(await figures(SAW_B)).toEqual(shape(sawB))
    }
    // [visits, bounce rate %, average seconds, page views per visit]
    // all: 1 bounce of 4; (90 + 0 + 200 + 0) / 4 = 72.5 s; (2 + 1 + 2 + 0) / 4 page views
    // Google: A and B; saw /b: A alone, whole (its feature and first page included)
    await expectAll([4, 25, 73, 1.25], [2, 50, 45, 1.5], [1, 0, 90, 2])
    await deps.flusher.flush()
    await expectAll([4, 25, 73, 1.25], [2, 50, 45, 1.5], [1, 0, 90, 2])
    // A goes on after the flush: its rows are in Postgres and in Redis
    await send(t0 + 120_000, '198.51.100.1', MOBILE_UA, [view('/d')])
    await expectAll([4, 25, 80, 1.5], [2, 50, 60, 2], [1, 0, 120, 3])
    await deps.flusher.flush()
    await expectAll([4, 25, 80, 1.5], [2, 50, 60, 2], [1, 0, 120, 3])
    // no visits: no figure, not 0
    const res = await app.handle(
      new Request('http://localhost/analytics/stats?metric=bounce_rate&from=2026-12-01&to=2026-12-01', {
        headers: ADMIN,
      }),
    )
    expect(await res.json()).toMatchObject({
      total: 0,
      value: null,
      series: [{ t: '2026-12-01', count: 0, value: null }],
    })
    // the CSV: the visits and the figure of each bucket
    const csv = await app.handle(
      new Request('http://localhost/analytics/stats?metric=views_per_visit&from=2026-12-05&to=2026-12-06&format=csv', {
        headers: ADMIN,
      }),
    )
    expect(await csv.text()).toBe('"t","visits","views_per_visit"\r\n"2026-12-05","0",""\r\n"2026-12-06","4","1.5"\r\n')
  })

  test('a visit over UTC midnight, and ranges that cut a day: measured over its rows in the range, stored or not', async () => {
    const t0 = Date.parse('2026-12-06T23:40:00Z')
    let now = t0
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const send = async (at: number, ip: string, event: unknown) => {
      now = at
      const res = await app.handle(beaconRequest([event], { ip, headers: { 'user-agent': BROWSER_UA } }))
      expect(res.status).toBe(202)
    }
    const view = (path: string) => ({ event_type: 'page_view', properties: { path } })
    const min = 60_000
    // V over midnight: pages at 23:40 and 23:55, a feature at 00:10 and a page at 00:20 (UTC)
    // W: one page at 23:50, a bounce; X: pages at 00:50 and 01:05 (Dec 7)
    const early = async () => {
      await send(t0, '198.51.100.1', view('/a'))
      await send(t0 + 10 * min, '198.51.100.2', view('/w'))
      await send(t0 + 15 * min, '198.51.100.1', view('/b'))
    }
    const late = async () => {
      await send(t0 + 30 * min, '198.51.100.1', { event_type: 'feature_used', properties: { feature_name: 'export' } })
      await send(t0 + 40 * min, '198.51.100.1', view('/c'))
      await send(t0 + 70 * min, '198.51.100.3', view('/x'))
      await send(t0 + 85 * min, '198.51.100.3', view('/y'))
    }
    const read = async (range: string) => {
      const get = async (metric: string) => {
        const res = await app.handle(
          new Request(`http://localhost/analytics/stats?metric=${metric}&${range}`, { headers: ADMIN }),
        )
        expect(res.status).toBe(200)
        const body = (await res.json()) as { series: { t: string; count: number; value: number | null }[] }
        return body.series.map((b) => [b.t, b.count, b.value])
      }
      return {
        bounce_rate: await get('bounce_rate'),
        visit_duration: await get('visit_duration'),
        views_per_visit: await get('views_per_visit'),
      }
    }
    const expected = {
      // UTC days: V in Dec 6's bucket, whole (40 min, 3 pages); W a bounce; X 15 min, 2 pages
      utc: {
        bounce_rate: [
          ['2026-12-06', 2, 50],
          ['2026-12-07', 1, 0],
        ],
        visit_duration: [
          ['2026-12-06', 2, 1200],
          ['2026-12-07', 1, 900],
        ],
        views_per_visit: [
          ['2026-12-06', 2, 2],
          ['2026-12-07', 1, 2],
        ],
      },
      // Dec 6 alone: V's rows of Dec 6 only (15 min, 2 pages)
      day: {
        bounce_rate: [['2026-12-06', 2, 50]],
        visit_duration: [['2026-12-06', 2, 450]],
        views_per_visit: [['2026-12-06', 2, 1.5]],
      },
      // until 00:15: V's rows to 00:10 (its day row of Dec 7 is across the end), X not begun
      until: {
        bounce_rate: [
          ['2026-12-06', 2, 50],
          ['2026-12-07', 0, null],
        ],
        visit_duration: [
          ['2026-12-06', 2, 900],
          ['2026-12-07', 0, null],
        ],
        views_per_visit: [
          ['2026-12-06', 2, 1.5],
          ['2026-12-07', 0, null],
        ],
      },
      // Azores (UTC-1), Dec 6 ends at 01:00 UTC: V whole, W, and X's first page alone, a bounce
      azores: {
        bounce_rate: [['2026-12-06', 3, 67]],
        visit_duration: [['2026-12-06', 3, 800]],
        views_per_visit: [['2026-12-06', 3, 1.67]],
      },
    }
    const RANGES = {
      utc: 'from=2026-12-06&to=2026-12-07&tz=UTC',
      day: 'from=2026-12-06&to=2026-12-06&tz=UTC',
      until: 'from=2026-12-06&to=2026-12-07&tz=UTC&until=2026-12-07T00:15:00Z',
      azores: 'from=2026-12-06&to=2026-12-06&tz=Atlantic/Azores',
    }
    const expectAll = async () => {
      for (const [name, range] of Object.entries(RANGES)) {
        expect({ name, got: await read(range) }).toEqual({ name, got: expected[name as keyof typeof expected] })
      }
    }
    await early()
    await deps.flusher.flush()
    // V's rows of Dec 6 stored, the rest pending
    await late()
    await expectAll()
    // all stored: the visits' rows of each day hold their events' figures
    await deps.flusher.flush()
    await expectAll()
  })

  test("top: each visit dimension value with its visits' figures, filtered or not, and the CSV", async () => {
    const t0 = Date.parse('2026-12-06T10:00:00Z')
    let now = t0
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const send = async (at: number, ip: string, events: unknown[]) => {
      now = at
      const res = await app.handle(beaconRequest(events, { ip, headers: { 'user-agent': BROWSER_UA } }))
      expect(res.status).toBe(202)
    }
    const view = (path: string, referrer?: string) => ({
      event_type: 'page_view',
      properties: referrer ? { path, referrer } : { path },
    })
    // Google: a visit of two pages 60 s apart and a bounce; X: one visit of three pages over 300 s
    await send(t0, '198.51.100.1', [view('/a', 'https://www.google.com/')])
    await send(t0 + 60_000, '198.51.100.1', [view('/b')])
    await send(t0 + 5_000, '198.51.100.2', [view('/a', 'https://www.google.com/')])
    await send(t0 + 10_000, '198.51.100.3', [view('/c', 'https://t.co/x')])
    await deps.flusher.flush()
    await send(t0 + 200_000, '198.51.100.3', [view('/d')])
    await send(t0 + 310_000, '198.51.100.3', [view('/e')])
    const read = async (query: string) => {
      const res = await app.handle(
        new Request(`http://localhost/analytics/top?dimension=source&from=2026-12-06&to=2026-12-06${query}`, {
          headers: ADMIN,
        }),
      )
      expect(res.status).toBe(200)
      return ((await res.json()) as { items: unknown[] }).items
    }
    const metrics = '&metrics=bounce_rate,visit_duration,views_per_visit'
    expect(await read(metrics)).toEqual([
      { name: 'Google', count: 2, bounce_rate: 50, visit_duration: 30, views_per_visit: 1.5 },
      { name: 'X', count: 1, bounce_rate: 0, visit_duration: 300, views_per_visit: 3 },
    ])
    // filtered: the visits that saw /b
    const sawB = `&filters=${encodeURIComponent(JSON.stringify([['is', 'page', ['/b']]]))}`
    expect(await read(`${metrics}${sawB}`)).toEqual([
      { name: 'Google', count: 1, bounce_rate: 0, visit_duration: 60, views_per_visit: 2 },
    ])
    expect(await read('&metrics=bounce_rate')).toEqual([
      { name: 'Google', count: 2, bounce_rate: 50 },
      { name: 'X', count: 1, bounce_rate: 0 },
    ])
    const csv = await app.handle(
      new Request(
        'http://localhost/analytics/top?dimension=source&from=2026-12-06&to=2026-12-06&metrics=views_per_visit&format=csv',
        { headers: ADMIN },
      ),
    )
    expect(await csv.text()).toBe('"name","count","views_per_visit"\r\n"Google","2","1.5"\r\n"X","1","3"\r\n')
    // not a visit dimension, or not a metric of visits: 422 naming metrics
    for (const bad of [
      '/analytics/top?dimension=page&metrics=bounce_rate',
      '/analytics/top?dimension=source&metrics=visits',
    ]) {
      const res = await app.handle(new Request(`http://localhost${bad}`, { headers: ADMIN }))
      expect(res.status).toBe(422)
      expect(await res.json()).toMatchObject({ parameter: 'metrics' })
    }
  })

  test('event_type does not apply: 422 naming it', async () => {
    const { app } = await testApp()
    const res = await app.handle(
      new Request('http://localhost/analytics/stats?metric=bounce_rate&event_type=page_view', { headers: ADMIN }),
    )
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ parameter: 'event_type' })
  })
})
