/**
 * Reads under filters, through the routes: a filter that matches everything gives the counters'
 * numbers, over random histories with flushes and a flusher killed mid-flush; filtered reads stay
 * exact while flushes run; filters combine as the issue's example asks; bad filters answer 422.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { addDays } from '../src/time.ts'
import { BROWSER_UA, beaconRequest, ingestRequest, testApp } from './app.ts'
import { duringFlushes } from './during-flushes.ts'
import { flushChild, readLine } from './flush-child.ts'
import { prng } from './prng.ts'

setDefaultTimeout(60_000)

type App = Awaited<ReturnType<typeof testApp>>['app']
const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const EVERYTHING = [['is_not', 'source', ['a source nobody has']]]

async function get(app: App, path: string) {
  const res = await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
  const body = await res.json()
  expect({ path, status: res.status, body: res.status === 200 ? null : body }).toEqual({
    path,
    status: 200,
    body: null,
  })
  return body
}

const withFilters = (path: string, filters: unknown) =>
  `${path}${path.includes('?') ? '&' : '?'}filters=${encodeURIComponent(JSON.stringify(filters))}`

const UAS = [
  BROWSER_UA,
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
]
const REFERRERS = ['', 'https://www.google.com/', 'https://news.ycombinator.com/item?id=1', 'https://t.co/x', undefined]

/** A random round of traffic: beacons of a few visitors (some new, some returning) and a server batch. */
async function randomRound(app: App, r: ReturnType<typeof prng>): Promise<void> {
  for (let k = 0; k < 4; k++) {
    const visitor = r.int(12)
    const events = Array.from({ length: 1 + r.int(3) }, (_, i) => {
      if (r.next() < 0.25) {
        return {
          event_type: 'feature_used',
          properties: { feature_name: `f${r.int(4)}`, plan: r.pick(['pro', 'free', 'Team']) },
        }
      }
      const referrer = i === 0 ? r.pick(REFERRERS) : undefined
      return {
        event_type: 'page_view',
        properties: {
          path: `/p${r.int(6)}`,
          ...(referrer === undefined ? {} : { referrer }),
          ...(i === 0 && r.next() < 0.3 ? { utm_campaign: r.pick(['launch', 'Spring Sale']) } : {}),
        },
      }
    })
    const res = await app.handle(
      beaconRequest(events, {
        ip: `198.51.100.${visitor}`,
        headers: { 'user-agent': UAS[visitor % UAS.length]!, origin: 'https://shop.example.com' },
      }),
    )
    expect(res.status).toBe(202)
  }
  const batch = Array.from({ length: r.int(3) }, () => ({
    event_type: r.pick(['user_signup', 'generation_completed']),
    user_id: `u${r.int(5)}`,
    properties: { plan: r.pick(['pro', 'free']) },
  }))
  if (batch.length > 0) expect((await app.handle(ingestRequest(batch))).status).toBe(202)
}

describe('filtered reads', () => {
  test('a filter that matches everything gives the counters’ numbers, over random histories with flushes and a kill', async () => {
    const { app, deps, config } = await testApp({ trustProxy: { hops: 1 }, countedProperties: ['plan'] })
    const r = prng(2412)
    const today = new Date().toISOString().slice(0, 10)
    const reads = [
      `/analytics/stats?from=${addDays(today, -1)}&to=${today}`,
      `/analytics/stats?event_type=page_view&granularity=hour&tz=UTC&from=${today}&to=${today}`,
      `/analytics/stats?event_type=feature_used&tz=Asia/Kolkata`,
      `/analytics/stats?metric=visits&from=${addDays(today, -6)}&to=${today}`,
      `/analytics/stats?metric=visits&granularity=week&tz=America/New_York`,
      `/analytics/stats?metric=visitors&from=${addDays(today, -1)}&to=${today}`,
      ...['source', 'page', 'feature', 'browser', 'device', 'entry_page', 'utm_campaign', 'hostname', 'prop:plan'].map(
        (d) => `/analytics/top?dimension=${d}&limit=100`,
      ),
      '/analytics/top?dimension=prop:plan&event_type=user_signup&limit=100',
      '/analytics/dashboard',
    ]
    const check = async (when: string) => {
      for (const path of reads) {
        const plain = await get(app, path)
        const filtered = await get(app, withFilters(path, EVERYTHING))
        expect({ when, path, answer: filtered }).toEqual({ when, path, answer: plain })
      }
    }
    for (let round = 0; round < 12; round++) {
      await randomRound(app, r)
      if (round % 3 === 2) await deps.flusher.flush()
      if (round === 7) {
        // a flusher killed inside its transaction: its snapshot stays, the next flush writes it once
        await randomRound(app, r)
        const proc = flushChild({
          MODE: 'crash',
          CRASH_AT: 'in-transaction',
          REDIS_URL: config.redisUrl!,
          DATABASE_URL: config.databaseUrl!,
          REDIS_PREFIX: config.redisPrefix,
        })
        expect(await readLine(proc.stdout, /AT [a-z-]+/)).toBe('AT in-transaction')
        await check('with a flusher stopped in its transaction')
        proc.kill('SIGKILL')
        await proc.exited
        await deps.redis.del(deps.keys.lease)
      }
      if (round % 4 === 3) await check(`after round ${round}`)
    }
    await deps.flusher.flush()
    await check('after the last flush')
    // the drift check says so too, day by day
    const report = await get(app, `/analytics/log/check?from=${addDays(today, -2)}`)
    expect(report.drift).toBe(0)
    expect(report.days.at(-1).events.log).toBeGreaterThan(0)
    expect(report.days.every((d: { same: boolean }) => d.same)).toBe(true)
  })

  test('filtered reads are exact while flushes run: never a dip, never a double', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    const filters = [['is', 'device', ['desktop']]]
    const { seen, sent } = await duringFlushes({
      flush: () => deps.flusher.flush(),
      read: async () => {
        const [views, visits] = await Promise.all([
          get(app, withFilters('/analytics/stats?event_type=page_view', filters)),
          get(app, withFilters('/analytics/top?dimension=source&limit=100', filters)),
        ])
        return { views: views.total as number, visits: visits.total as number }
      },
      send: async (round) => {
        // one visit of two page views from a desktop browser, and one from a phone, not counted
        const desktop = beaconRequest(
          [
            { event_type: 'page_view', properties: { path: '/a', referrer: 'https://www.google.com/' } },
            { event_type: 'page_view', properties: { path: '/b' } },
          ],
          { ip: `198.51.${Math.floor(round / 250)}.${round % 250}` },
        )
        const phone = beaconRequest([{ event_type: 'page_view', properties: { path: '/a', referrer: '' } }], {
          ip: `198.51.${Math.floor(round / 250)}.${round % 250}`,
          headers: { 'user-agent': UAS[1]! },
        })
        expect((await app.handle(desktop)).status).toBe(202)
        expect((await app.handle(phone)).status).toBe(202)
        return 1
      },
      rounds: 30,
      reads: 8,
      flushes: 2,
    })
    expect(seen.length).toBeGreaterThan(5)
    for (const s of seen) {
      expect(s.answer.visits).toBeGreaterThanOrEqual(s.before)
      expect(s.answer.visits).toBeLessThanOrEqual(s.after)
      expect(s.answer.views).toBeGreaterThanOrEqual(2 * s.before)
      expect(s.answer.views).toBeLessThanOrEqual(2 * s.after)
    }
    const last = await get(app, withFilters('/analytics/stats?event_type=page_view', filters))
    expect(last.total).toBe(2 * sent)
  })

  test("each event type's read under the same filters shares one pass; a new event or a flush is never missed", async () => {
    const { app, deps, db } = await testApp()
    // counts the statements that pass over the log by event type (the real pool, counted)
    let passes = 0
    const query = db.pool.query.bind(db.pool) as (...args: unknown[]) => Promise<unknown>
    ;(db.pool as unknown as { query: unknown }).query = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('event_type, count(*)')) passes++
      return query(...args)
    }
    const view = (path: string) => ({ properties: { path } })
    const beacon = (ip: string, events: unknown[]) =>
      app.handle(beaconRequest(events, { ip, headers: { 'user-agent': BROWSER_UA } }))
    expect((await beacon('198.51.100.7', [{ event_type: 'page_view', ...view('/') }])).status).toBe(202)
    expect(
      (
        await beacon('198.51.100.8', [
          { event_type: 'page_view', ...view('/a') },
          { event_type: 'feature_used', properties: { feature_name: 'export' } },
        ])
      ).status,
    ).toBe(202)
    expect((await app.handle(ingestRequest([{ event_type: 'user_signup', user_id: 'u1' }]))).status).toBe(202)
    const total = async (type: string) =>
      (await get(app, withFilters(`/analytics/stats?event_type=${type}&granularity=day`, EVERYTHING))).total
    const all = async () =>
      Object.fromEntries(
        await Promise.all(['page_view', 'feature_used', 'user_signup'].map(async (t) => [t, await total(t)])),
      )
    expect(await all()).toEqual({ page_view: 2, feature_used: 1, user_signup: 1 })
    expect(passes).toBe(1)
    // a new event, not flushed: the shared stored part, and this read's own pending rows
    expect((await beacon('198.51.100.9', [{ event_type: 'page_view', ...view('/b') }])).status).toBe(202)
    expect(await total('page_view')).toBe(3)
    expect(passes).toBe(1)
    // a flush commits: what Postgres holds changed, so the stored part is read again, once
    await deps.flusher.flush()
    expect(await all()).toEqual({ page_view: 3, feature_used: 1, user_signup: 1 })
    expect(passes).toBe(2)
    expect(await total('page_view')).toBe(3)
    expect(passes).toBe(2)
    // the tops of pages and features: one pass for both
    let topPasses = 0
    ;(db.pool as unknown as { query: unknown }).query = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('GROUPING SETS')) topPasses++
      return query(...args)
    }
    const [pages, features] = await Promise.all(
      ['page', 'feature'].map((d) => get(app, withFilters(`/analytics/top?dimension=${d}`, EVERYTHING))),
    )
    expect(pages.items).toEqual([
      { name: '/', count: 1 },
      { name: '/a', count: 1 },
      { name: '/b', count: 1 },
    ])
    expect(features.items).toEqual([{ name: 'export', count: 1 }])
    expect(topPasses).toBe(1)
  })

  test('filters combine: Google visitors on mobile, the pages they read, and a CSV of them', async () => {
    const { app } = await testApp({ trustProxy: { hops: 1 } })
    const send = async (ip: string, ua: string, referrer: string, paths: string[]) => {
      const events = paths.map((path, i) => ({
        event_type: 'page_view',
        properties: i === 0 ? { path, referrer } : { path },
      }))
      expect((await app.handle(beaconRequest(events, { ip, headers: { 'user-agent': ua } }))).status).toBe(202)
    }
    await send('198.51.100.1', UAS[1]!, 'https://www.google.com/', ['/', '/pricing'])
    await send('198.51.100.2', UAS[1]!, 'https://www.google.com/', ['/docs'])
    await send('198.51.100.3', UAS[0]!, 'https://www.google.com/', ['/pricing'])
    await send('198.51.100.4', UAS[1]!, 'https://t.co/x', ['/pricing'])
    const googleMobile = [
      ['is', 'source', ['Google']],
      ['is', 'device', ['mobile']],
    ]
    expect((await get(app, withFilters('/analytics/stats?metric=visits', googleMobile))).total).toBe(2)
    expect((await get(app, withFilters('/analytics/stats?metric=visitors', googleMobile))).total).toBe(2)
    const pages = await get(app, withFilters('/analytics/top?dimension=page', googleMobile))
    expect(pages.items).toEqual([
      { name: '/', count: 1 },
      { name: '/docs', count: 1 },
      { name: '/pricing', count: 1 },
    ])
    // an event filter: visits with a view of /pricing, by source; values of one filter are alternatives
    const sources = await get(
      app,
      withFilters('/analytics/top?dimension=source', [['is', 'page', ['/pricing', '/nowhere']]]),
    )
    expect(sources.items).toEqual([
      { name: 'Google', count: 2 },
      { name: 'X', count: 1 },
    ])
    const csv = await app.handle(
      new Request(`http://localhost${withFilters('/analytics/top?dimension=page&format=csv', googleMobile)}`, {
        headers: ADMIN,
      }),
    )
    expect(await csv.text()).toBe('"name","count"\r\n"/","1"\r\n"/docs","1"\r\n"/pricing","1"\r\n')
    const contains = await get(
      app,
      withFilters('/analytics/stats?event_type=page_view', [['contains', 'page', ['PRIC']]]),
    )
    expect(contains.total).toBe(3)
  })

  test('a bad filter answers 422 naming the problem and counts nothing; an unknown parameter too', async () => {
    const { app } = await testApp()
    for (const [filters, reason] of [
      ['nope', /filters must be URL-encoded JSON/],
      ['[["is","nowhere",["x"]]]', /dimension/],
      ['[["like","source",["x"]]]', /operator/],
    ] as const) {
      const res = await app.handle(
        new Request(`http://localhost/analytics/top?dimension=source&filters=${encodeURIComponent(filters)}`, {
          headers: ADMIN,
        }),
      )
      expect(res.status).toBe(422)
      const body = await res.json()
      expect(body.parameter).toBe('filters')
      expect(body.error).toMatch(reason)
    }
    const unknown = await app.handle(
      new Request('http://localhost/analytics/top?dimension=page&source=Google', { headers: ADMIN }),
    )
    expect(unknown.status).toBe(422)
    expect((await unknown.json()).parameter).toBe('source')
  })
})
