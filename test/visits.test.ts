/**
 * Visits by source, UTM, entry page, browser, OS, device, country and hostname, and counted
 * properties: counted exactly through POST /e and POST /analytics/events, read back exactly
 * before, during and after flushes, capped for browsers, and nothing of a referrer but its host
 * kept anywhere.
 */
import { describe, expect, test } from 'bun:test'
import { dayOf } from '../src/counters/keys.ts'
import { allKeys, beaconRequest, ingestRequest, testApp } from './app.ts'
import { duringFlushes } from './during-flushes.ts'

type App = Awaited<ReturnType<typeof testApp>>['app']

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const WINDOWS_CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'

const json = async (app: App, path: string) => {
  const res = await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
  expect({ path, status: res.status }).toEqual({ path, status: 200 })
  return res.json()
}
const flush = (app: App) =>
  app.handle(new Request('http://localhost/analytics/flush', { method: 'POST', headers: ADMIN }))

/** A beacon from a page of shop.example.com, from `ip` (behind one trusted proxy). */
const fromShop = (body: unknown, ip: string, ua = WINDOWS_CHROME, headers: Record<string, string> = {}) =>
  beaconRequest(body, { ip, headers: { origin: 'https://shop.example.com', 'user-agent': ua, ...headers } })

/** `/analytics/top` as {name: count}, with its total. */
async function topOf(app: App, dimension: string, extra = '') {
  const body = await json(app, `/analytics/top?dimension=${encodeURIComponent(dimension)}&limit=100${extra}`)
  return {
    items: Object.fromEntries(body.items.map((i: { name: string; count: number }) => [i.name, i.count])),
    total: body.total,
  }
}

describe('visits', () => {
  test('a page load from elsewhere is one visit under every dimension; reloads, SPA views and same-site loads are none', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    const sends = [
      // from a Google search, with a campaign: the referrer's path and query must go no further
      fromShop(
        {
          event_type: 'page_view',
          properties: {
            path: '/pricing?ref=x',
            referrer: 'https://www.google.de/search?q=secret-search-term',
            utm_source: ' newsletter ',
            utm_campaign: 'launch',
          },
        },
        '8.8.8.8',
      ),
      // a direct load on an iPhone in Germany
      fromShop({ event_type: 'page_view', properties: { path: '/', referrer: '' } }, '194.25.0.60', IPHONE_SAFARI),
      // a reload, and a full-page navigation inside the site: not visits
      fromShop(
        { event_type: 'page_view', properties: { path: '/', referrer: 'https://shop.example.com/' } },
        '8.8.8.8',
      ),
      fromShop(
        { event_type: 'page_view', properties: { path: '/b', referrer: 'https://www.shop.example.com/a' } },
        '8.8.8.8',
      ),
      // SPA navigations carry no referrer: page views, not visits
      fromShop({ event_type: 'page_view', properties: { path: '/docs' } }, '8.8.8.8'),
      // from Hacker News, into the docs
      fromShop(
        { event_type: 'page_view', properties: { path: '/docs/', referrer: 'https://news.ycombinator.com/item?id=1' } },
        '194.25.0.60',
      ),
    ]
    for (const request of sends) expect((await app.handle(request)).status).toBe(202)

    const expected = {
      source: { Google: 1, '(direct)': 1, 'Hacker News': 1 },
      utm_source: { newsletter: 1 },
      utm_medium: {},
      utm_campaign: { launch: 1 },
      entry_page: { '/pricing': 1, '/': 1, '/docs': 1 },
      browser: { Chrome: 2, Safari: 1 },
      os: { Windows: 2, iOS: 1 },
      device: { desktop: 2, mobile: 1 },
      country: { US: 1, DE: 2 },
      hostname: { 'shop.example.com': 3 },
    }
    const check = async (when: string) => {
      for (const [dimension, items] of Object.entries(expected)) {
        expect({ when, dimension, ...(await topOf(app, dimension)) }).toEqual({ when, dimension, items, total: 3 })
      }
      const visits = await json(app, `/analytics/stats?metric=visits&from=${dayOf(Date.now())}`)
      expect({ when, visits: visits.total, metric: visits.metric }).toEqual({ when, visits: 3, metric: 'visits' })
      // visits are not an event type: all types together are the 6 page views
      const events = await json(app, `/analytics/stats?from=${dayOf(Date.now())}`)
      expect({ when, events: events.total }).toEqual({ when, events: 6 })
      const hourly = await json(app, `/analytics/stats?metric=visits&granularity=hour`)
      expect({ when, hourly: hourly.total }).toEqual({ when, hourly: 3 })
    }
    await check('before a flush')
    expect((await flush(app)).status).toBe(200)
    await check('after a flush')

    // the referrer's path and query are nowhere: not in Redis, not in Postgres
    for (const key of await allKeys(deps)) {
      const type = await deps.redis.type(key)
      const contents =
        type === 'hash'
          ? JSON.stringify(await deps.redis.hGetAll(key))
          : type === 'set'
            ? (await deps.redis.sMembers(key)).join()
            : ''
      expect({ key, leaked: contents.includes('secret-search-term') || contents.includes('item?id') }).toEqual({
        key,
        leaked: false,
      })
    }
    const stored = await deps.pool.query('SELECT dimension, value FROM analytics_dimension_daily')
    expect(JSON.stringify(stored.rows)).not.toContain('secret')
    expect(stored.rows.some((r) => r.value === '8.8.8.8' || r.value === '194.25.0.60')).toBe(false)

    // the dashboard's week
    const d = await json(app, '/analytics/dashboard')
    expect(d.visits_today).toBe(3)
    expect(d.top_sources).toEqual([
      { source: '(direct)', visits: 1 },
      { source: 'Google', visits: 1 },
      { source: 'Hacker News', visits: 1 },
    ])
    expect(d.top_countries).toEqual([
      { country: 'DE', visits: 2 },
      { country: 'US', visits: 1 },
    ])
    expect(d.devices).toEqual([
      { device: 'desktop', visits: 2 },
      { device: 'mobile', visits: 1 },
    ])
    expect(d.browsers).toEqual([
      { browser: 'Chrome', visits: 2 },
      { browser: 'Safari', visits: 1 },
    ])
  })

  test('what a real link can carry never costs the page view: a referrer as long as browsers send, a campaign with a newline', async () => {
    const { app } = await testApp({ trustProxy: { hops: 1 } })
    // browsers send up to 4,096 characters of referrer (a longer one is cut to its origin)
    const referrer = `https://news.example.org/item?${'q'.repeat(4000)}`
    const res = await app.handle(
      fromShop(
        {
          event_type: 'page_view',
          properties: { path: '/', referrer, utm_campaign: 'spring\nsale', utm_source: 'x'.repeat(1000) },
        },
        '8.8.8.8',
      ),
    )
    expect(res.status).toBe(202)
    expect((await topOf(app, 'source')).items).toEqual({ 'news.example.org': 1 })
    expect((await topOf(app, 'utm_campaign')).items).toEqual({ springsale: 1 })
    expect((await topOf(app, 'utm_source')).items).toEqual({ ['x'.repeat(100)]: 1 })
    // beyond what browsers send is still refused, with the reason
    const tooLong = await app.handle(
      fromShop(
        { event_type: 'page_view', properties: { path: '/', referrer: `${referrer}${'q'.repeat(100)}` } },
        '8.8.8.8',
      ),
    )
    expect(tooLong.status).toBe(422)
    expect((await tooLong.json()).errors[0].field).toBe('properties.referrer')
  })

  test('server batches: page views counted, and no visits: a back end does not say who the visitor was', async () => {
    const { app } = await testApp({ caps: { features: 1000, paths: 1000, users: 1000, dimensions: 1 } })
    const res = await app.handle(
      ingestRequest([
        {
          event_type: 'page_view',
          properties: { path: '/a', referrer: 'https://t.co/xyz', hostname: 'Docs.Example.com', utm_medium: 'social' },
        },
        { event_type: 'page_view', properties: { path: '/d', referrer: '' } },
      ]),
    )
    expect(res.status).toBe(202)
    expect(await topOf(app, 'page')).toEqual({ items: { '/a': 1, '/d': 1 }, total: 2 })
    for (const dimension of ['source', 'hostname', 'utm_medium', 'browser']) {
      expect({ dimension, ...(await topOf(app, dimension)) }).toEqual({ dimension, items: {}, total: 0 })
    }
  })

  test('one visit: events less than 30 minutes apart; a gap of 30 minutes begins another, with its own source', async () => {
    let now = Date.parse('2026-12-01T10:00:00Z')
    const { app } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const view = (path: string, referrer?: string) =>
      fromShop(
        { event_type: 'page_view', properties: referrer === undefined ? { path } : { path, referrer } },
        '8.8.8.8',
      )
    const steps: [number, Request][] = [
      [0, view('/from-google', 'https://www.google.com/')],
      // 29 minutes later, back from another search: the same visit goes on
      [29, view('/again', 'https://duckduckgo.com/')],
      // 29 minutes after that (58 after the first): still the same visit, its gaps are short
      [58, view('/third')],
      [59, fromShop({ event_type: 'feature_used', properties: { feature_name: 'export' } }, '8.8.8.8')],
      // 30 minutes without an event: a new visit, from where this event came from
      [89, view('/from-hn', 'https://news.ycombinator.com/')],
      // 31 minutes later, an SPA view with no referrer: a new visit, direct, entering there
      [120, view('/spa')],
    ]
    for (const [minute, request] of steps) {
      now = Date.parse('2026-12-01T10:00:00Z') + minute * 60_000
      expect((await app.handle(request)).status).toBe(202)
    }
    const range = '&from=2026-12-01&to=2026-12-01'
    expect(await topOf(app, 'source', range)).toEqual({
      items: { Google: 1, 'Hacker News': 1, '(direct)': 1 },
      total: 3,
    })
    expect(await topOf(app, 'entry_page', range)).toEqual({
      items: { '/from-google': 1, '/from-hn': 1, '/spa': 1 },
      total: 3,
    })
  })

  test('reads stay exact while flushes run: every answer is all acknowledged visits, never a dip or a double', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    // at least 30 rounds, and on until the reader has read often and flushes have written twice
    const { seen, sent, rounds } = await duringFlushes({
      flush: () => deps.flusher.flush(),
      read: async () => {
        const { items, total } = await topOf(app, 'source')
        return { total, sources: Object.values(items as Record<string, number>).reduce((a, b) => a + b, 0) }
      },
      send: async (round) => {
        const res = await app.handle(
          fromShop(
            Array.from({ length: 3 }, (_, i) => ({
              event_type: 'page_view',
              properties: { path: `/p${i}`, referrer: `https://site-${round % 4}.example/` },
            })),
            `198.51.${Math.floor(round / 250)}.${round % 250}`,
          ),
        )
        expect(res.status).toBe(202)
        // one visitor a round: its three views are one visit
        return 1
      },
      rounds: 30,
      reads: 6,
      flushes: 2,
    })
    expect(seen.length).toBeGreaterThan(5)
    for (const s of seen) {
      expect(s.answer.total).toBeGreaterThanOrEqual(s.before)
      expect(s.answer.total).toBeLessThanOrEqual(s.after)
      expect(s.answer.sources).toBe(s.answer.total)
    }
    const logged = await deps.pool.query('SELECT count(*)::int AS n FROM analytics_flush_log')
    expect(logged.rows[0].n).toBeGreaterThan(1)
    // each round is one visit from its site
    const perSite = (site: number) => Math.ceil((rounds - site) / 4)
    expect(await topOf(app, 'source')).toEqual({
      items: Object.fromEntries(
        [0, 1, 2, 3].filter((i) => perSite(i) > 0).map((i) => [`site-${i}.example`, perSite(i)]),
      ),
      total: sent,
    })
  })

  test('browser-sent values are capped per dimension per day; beyond the cap they count as (other)', async () => {
    const { app, deps } = await testApp({
      trustProxy: { hops: 1 },
      caps: { features: 1000, paths: 1000, users: 1000, dimensions: 3 },
    })
    // twice the same 40 visits: the second time the instance remembers which values the caps
    // took and which they refused, and counts them without asking Redis's sets again
    for (const round of [1, 2]) {
      for (let i = 0; i < 40; i++) {
        const res = await app.handle(
          fromShop(
            {
              event_type: 'page_view',
              properties: { path: `/p${i}`, referrer: `https://spam-${i}.example/`, utm_campaign: `campaign-${i}` },
            },
            // new visitors each round: the same ones would still be in their visits
            `198.51.${round}.${i}`,
          ),
        )
        expect(res.status).toBe(202)
      }
      for (const dimension of ['source', 'utm_campaign', 'entry_page']) {
        const { items, total } = await topOf(app, dimension)
        expect({ round, dimension, names: Object.keys(items).length, other: items['(other)'], total }).toEqual({
          round,
          dimension,
          names: 4,
          other: 37 * round,
          total: 40 * round,
        })
        expect(Object.values(items).filter((n) => n === round)).toHaveLength(3)
      }
    }
    // the distinct values kept per dimension and day are bounded by the cap
    const today = dayOf(Date.now())
    for (const dimension of ['source', 'utm_campaign', 'entry_page']) {
      expect(await deps.redis.sCard(deps.keys.shards[0]!.seen('x', today, dimension))).toBe(3)
    }
    // families and country codes come from closed sets: never capped, and no set is kept for them
    for (const dimension of ['browser', 'os', 'device', 'country']) {
      expect(await deps.redis.exists(deps.keys.shards[0]!.seen('x', today, dimension))).toBe(0)
    }
    expect((await topOf(app, 'country')).items['(other)']).toBeUndefined()
  })
})

describe('counted properties', () => {
  test('each scalar value of a COUNTED_PROPERTIES key is counted per event type; others are not', async () => {
    const { app } = await testApp({ countedProperties: ['plan', 'variant'] })
    const res = await app.handle(
      ingestRequest([
        { event_type: 'user_signup', properties: { plan: 'pro', variant: 'B' } },
        { event_type: 'user_signup', properties: { plan: 'free', variant: 2 } },
        { event_type: 'asset_downloaded', properties: { plan: 'pro', other: 'not counted' } },
        { event_type: 'asset_downloaded', properties: { plan: null, variant: true } },
        { event_type: 'user_login', properties: { plan: '  ' } },
      ]),
    )
    expect(res.status).toBe(202)
    expect(await topOf(app, 'prop:plan', '&event_type=user_signup')).toEqual({ items: { pro: 1, free: 1 }, total: 2 })
    // all event types together (total: every event of the range)
    expect(await topOf(app, 'prop:plan')).toEqual({ items: { pro: 2, free: 1 }, total: 5 })
    expect(await topOf(app, 'prop:variant')).toEqual({ items: { B: 1, '2': 1, true: 1 }, total: 5 })
    expect((await flush(app)).status).toBe(200)
    expect(await topOf(app, 'prop:plan', '&event_type=user_signup')).toEqual({ items: { pro: 1, free: 1 }, total: 2 })
    expect(await topOf(app, 'prop:variant')).toEqual({ items: { B: 1, '2': 1, true: 1 }, total: 5 })
  })

  test('a key named like a member of Object.prototype counts only the values events send under it', async () => {
    const keys = ['constructor', '__proto__', 'toString']
    const { app } = await testApp({ countedProperties: keys })
    // raw JSON, so that __proto__ is sent as a key
    const body =
      '[{"event_type":"user_signup","properties":{"constructor":"pro","__proto__":"beta"}},' +
      '{"event_type":"user_signup","properties":{"plan":"free"}},{"event_type":"user_login","properties":{}}]'
    expect((await app.handle(ingestRequest(body, { raw: true }))).status).toBe(202)
    expect(await topOf(app, 'prop:constructor')).toEqual({ items: { pro: 1 }, total: 3 })
    expect(await topOf(app, 'prop:__proto__')).toEqual({ items: { beta: 1 }, total: 3 })
    expect(await topOf(app, 'prop:toString')).toEqual({ items: {}, total: 3 })
    expect((await flush(app)).status).toBe(200)
    expect(await topOf(app, 'prop:constructor')).toEqual({ items: { pro: 1 }, total: 3 })
    expect(await topOf(app, 'prop:toString')).toEqual({ items: {}, total: 3 })
  })

  test('a beacon counts them too, capped', async () => {
    const { app } = await testApp({
      countedProperties: ['plan'],
      caps: { features: 1000, paths: 1000, users: 1000, dimensions: 2 },
    })
    for (const plan of ['pro', 'free', 'team', 'pro', 'enterprise']) {
      const res = await app.handle(
        beaconRequest({ event_type: 'feature_used', properties: { feature_name: 'export', plan } }),
      )
      expect(res.status).toBe(202)
    }
    expect(await topOf(app, 'prop:plan', '&event_type=feature_used')).toEqual({
      items: { pro: 2, free: 1, '(other)': 2 },
      total: 5,
    })
  })
})

describe('GET /analytics/top parameters', () => {
  test('an unknown dimension, a prop: key not counted or an event_type on a visit dimension answer 422', async () => {
    const { app } = await testApp({ countedProperties: ['plan'] })
    for (const [query, parameter] of [
      ['dimension=referrer', 'dimension'],
      ['dimension=prop:variant', 'dimension'],
      ['dimension=source&event_type=page_view', 'event_type'],
      ['dimension=prop:plan&event_type=nope', 'event_type'],
      ['dimension=source&tz=Europe/Berlin', 'tz'],
    ] as const) {
      const res = await app.handle(new Request(`http://localhost/analytics/top?${query}`, { headers: ADMIN }))
      expect({ query, status: res.status, parameter: (await res.json()).parameter }).toEqual({
        query,
        status: 422,
        parameter,
      })
    }
    const visits = await app.handle(
      new Request('http://localhost/analytics/stats?metric=visits&event_type=page_view', { headers: ADMIN }),
    )
    expect(visits.status).toBe(422)
    expect((await visits.json()).parameter).toBe('event_type')
  })
})

describe('top over long ranges', () => {
  test('whole months from the monthly totals plus the edge days equal the daily rows, for any range', async () => {
    const { deps } = await testApp()
    const { toRows } = await import('../src/flush/rows.ts')
    const { writeBatch } = await import('../src/flush/write.ts')
    const { top } = await import('../src/read/top.ts')
    const { addDays } = await import('../src/time.ts')
    // 100 days of sources written through the flush's own writer, in three batches that overlap
    const start = '2026-01-20'
    const fields: Record<string, string>[] = [{}, {}, {}]
    for (let d = 0; d < 100; d++) {
      const day = addDays(start, d)
      for (let s = 0; s < 6; s++) {
        const field = `${day}|visit|source|site-${(d * 7 + s * 3) % 9}.example`
        fields[(d + s) % 3]![field] = String(1 + ((d * s) % 5))
      }
    }
    for (const [i, x] of fields.entries()) {
      const rows = toRows({ x })
      expect(
        await writeBatch(deps.pool, { batchId: `months-${i}`, site: 0, seq: i + 1, rows, visitors: new Map() }),
      ).toBe('applied')
    }
    let seed = 7
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    const ranges: [string, string][] = [
      ['2026-02-01', '2026-02-28'],
      ['2026-01-20', '2026-04-29'],
      ['2026-01-31', '2026-03-01'],
      ['2026-03-01', '2026-03-31'],
    ]
    for (let i = 0; i < 16; i++) {
      const a = addDays(start, next(100))
      ranges.push([a, addDays(a, next(80))])
    }
    for (const [from, to] of ranges) {
      const expected = await deps.pool.query(
        `SELECT value AS name, sum(count)::int AS count FROM analytics_dimension_daily
         WHERE dimension = 'source' AND date BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 2 DESC, 1`,
        [from, to],
      )
      const { items } = await top(deps, { dimension: 'source', from, to, limit: 100 })
      expect({ from, to, items }).toEqual({ from, to, items: expected.rows })
    }
  })
})
