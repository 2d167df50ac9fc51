/**
 * Sites count apart: two sites in two time zones, their beacons found by the page's host or by
 * `?site=`, their server batches and Plausible events by what they name. Each counts, flushes (a
 * flusher SIGKILLed inside its transaction included) and reads exactly, in its own days, with
 * visitor hashes of its own; a page may not send for a site it is not of; a read must name its site.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { apiCall, BROWSER_UA, ingestRequest, testApp } from './app.ts'
import { flushChild, readLine } from './flush-child.ts'
import { feedOf, snapshotOf } from './live-feed.ts'
import { AGGREGATES_OFF } from './log-rows.ts'

// this file starts a process: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

type App = Awaited<ReturnType<typeof testApp>>['app']
type Deps = Awaited<ReturnType<typeof testApp>>['deps']

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
/** 23:30 UTC: already the next day in Berlin, still the afternoon in Los Angeles. */
const NOW = Date.parse('2026-12-06T23:30:00Z')
const SHOP = 'https://shop.example.com'
const DOCS = 'https://docs.example.com'

/** A beacon from a page of `origin` (a visitor by `ip`: its browser's build), naming `site` when given. */
function beacon(app: App, origin: string, body: unknown, ip: string, site?: string) {
  return app.handle(
    new Request(`http://localhost/e${site === undefined ? '' : `?site=${encodeURIComponent(site)}`}`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain;charset=UTF-8',
        'user-agent': BROWSER_UA.replace('131.0.0.0', `131.0.0.${ip.split('.').at(-1)}`),
        origin,
        referer: `${origin}/`,
      },
      body: JSON.stringify(body),
    }),
  )
}

const view = (path: string) => ({ event_type: 'page_view', properties: { path } })
const get = async (app: App, path: string) => apiCall(app, 'GET', path, undefined, ADMIN)

/** What one site's reads say today, each in the site's own zone. */
async function readsOf(app: App, site: string) {
  const events = await get(app, `/analytics/stats?site=${site}&metric=events`)
  const visitors = await get(app, `/analytics/stats?site=${site}&metric=visitors`)
  const pages = await get(app, `/analytics/top?site=${site}&dimension=page&from=2026-12-01`)
  expect(events.status).toBe(200)
  const today = events.body.series.at(-1)
  return {
    day: today.t,
    events: today.count,
    visitors: visitors.body.total,
    pages: Object.fromEntries(pages.body.items.map((i: { name: string; count: number }) => [i.name, i.count])),
  }
}

/** Postgres's counters and log, by site. */
async function storedBySite(deps: Deps) {
  const r = await deps.pool.query(`SELECT
      (SELECT json_object_agg(site || ':' || date || ':' || event_type, n) FROM (
        SELECT site, date, event_type, sum(count)::int AS n FROM analytics_daily GROUP BY 1, 2, 3) d) AS daily,
      (SELECT json_object_agg(site, n) FROM (SELECT site, count(*)::int AS n FROM analytics_events GROUP BY 1) e) AS rows,
      (SELECT json_object_agg(site, n) FROM (
        SELECT site, count(*)::int AS n FROM analytics_visits WHERE began_at IS NOT NULL GROUP BY 1) v) AS visits,
      (${AGGREGATES_OFF}) AS aggregates_off`)
  return r.rows[0]
}

async function twoSites() {
  const { app, deps, db, config } = await testApp({ timeZone: 'UTC' }, { now: () => NOW })
  const shop = await apiCall(
    app,
    'POST',
    '/analytics/sites',
    { domains: ['shop.example.com'], time_zone: 'Europe/Berlin' },
    ADMIN,
  )
  const docs = await apiCall(
    app,
    'POST',
    '/analytics/sites',
    { domains: ['docs.example.com'], time_zone: 'America/Los_Angeles' },
    ADMIN,
  )
  expect([shop.status, docs.status]).toEqual([201, 201])
  return { app, deps, db, config, shop: shop.body.id as number, docs: docs.body.id as number }
}

describe('two sites', () => {
  test('count, flush (SIGKILL inside the transaction) and read apart, each in its own days', async () => {
    const { app, deps, config, shop, docs } = await twoSites()
    // shop: two visitors, three views; docs: one of them again (the same address and browser)
    for (const [origin, path, ip] of [
      [SHOP, '/a', '198.51.100.1'],
      [SHOP, '/b', '198.51.100.1'],
      [SHOP, '/a', '198.51.100.2'],
      [DOCS, '/guide', '198.51.100.1'],
      [DOCS, '/guide', '198.51.100.1'],
    ] as const) {
      const res = await beacon(app, origin, view(path), ip)
      expect(res.status).toBe(202)
      expect(res.headers.get('access-control-allow-origin')).toBe(origin)
    }
    // named by the query (what t.js's data-site sends), by domain or by id
    expect(
      (
        await beacon(
          app,
          DOCS,
          { event_type: 'feature_used', properties: { feature_name: 'search' } },
          '198.51.100.1',
          'docs.example.com',
        )
      ).status,
    ).toBe(202)
    // a page of no site's domain counts for the default site, which has no domains of its own
    expect((await beacon(app, 'https://elsewhere.example', view('/x'), '198.51.100.9')).status).toBe(202)

    const expected = {
      shop: { day: '2026-12-07', events: 3, visitors: 2, pages: { '/a': 2, '/b': 1 } },
      docs: { day: '2026-12-06', events: 3, visitors: 1, pages: { '/guide': 2 } },
      default: { day: '2026-12-06', events: 1, visitors: 1, pages: { '/x': 1 } },
    }
    const read = async () => ({
      shop: await readsOf(app, 'shop.example.com'),
      docs: await readsOf(app, String(docs)),
      default: await readsOf(app, '0'),
    })
    expect(await read()).toEqual(expected)
    // every site at a glance, each over the last 30 days of its own zone
    const glance = await get(app, '/analytics/overview')
    expect(glance.status).toBe(200)
    expect(
      glance.body.sites.map((o: { id: number; to: string; visitors: number; visits: number; page_views: number }) => [
        o.id,
        o.to,
        o.visitors,
        o.visits,
        o.page_views,
      ]),
    ).toEqual([
      [0, '2026-12-06', 1, 1, 1],
      [shop, '2026-12-07', 2, 2, 3],
      [docs, '2026-12-06', 1, 1, 2],
    ])
    expect(glance.body.sites[1].trend).toHaveLength(30)
    expect(glance.body.sites[1].trend.at(-1)).toEqual({ t: '2026-12-07', visits: 2, page_views: 3 })
    // each site's live feed: its own counts, today in its own zone
    for (const [site, day, zone, totals, visitors] of [
      ['shop.example.com', '2026-12-07', 'Europe/Berlin', { page_view: 3 }, 2],
      [String(docs), '2026-12-06', 'America/Los_Angeles', { page_view: 2, feature_used: 1 }, 1],
    ] as const) {
      const feed = feedOf(
        await app.handle(new Request(`http://localhost/analytics/live?site=${site}`, { headers: ADMIN })),
      )
      const snapshot = snapshotOf(await feed.nextEvent())
      expect(snapshot.today).toMatchObject({ day, time_zone: zone, totals })
      expect(snapshot.visitors).toBe(visitors)
      await feed.close()
    }

    // a flusher killed inside its transaction leaves every site's snapshot for the next flush
    const proc = flushChild({
      MODE: 'crash',
      CRASH_AT: 'in-transaction',
      REDIS_URL: config.redisUrl,
      DATABASE_URL: config.databaseUrl,
      REDIS_PREFIX: config.redisPrefix,
      SITES: `0,${shop},${docs}`,
    })
    expect(await readLine(proc.stdout, /AT [a-z-]+/)).toBe('AT in-transaction')
    proc.kill('SIGKILL')
    await proc.exited
    await deps.redis.del(deps.keys.lease)
    expect(await read()).toEqual(expected)
    await deps.flusher.flush()
    expect(await read()).toEqual(expected)
    // flushing again changes nothing
    expect(await deps.flusher.flush()).toBe(0)

    expect(await storedBySite(deps)).toEqual({
      daily: {
        '0:2026-12-06:page_view': 1,
        '0:2026-12-06:visit': 1,
        [`${shop}:2026-12-07:page_view`]: 3,
        [`${shop}:2026-12-07:visit`]: 2,
        [`${docs}:2026-12-06:page_view`]: 2,
        [`${docs}:2026-12-06:feature_used`]: 1,
        [`${docs}:2026-12-06:visit`]: 1,
      },
      rows: { 0: 1, [shop]: 3, [docs]: 3 },
      visits: { 0: 1, [shop]: 2, [docs]: 1 },
      aggregates_off: 0,
    })
    // the same person on two sites has two hashes that cannot be joined: each site has its own salt
    const hashes = await deps.pool.query(
      'SELECT site, array_agg(DISTINCT visitor) AS v FROM analytics_events WHERE visitor IS NOT NULL GROUP BY 1 ORDER BY 1',
    )
    const bySite = new Map((hashes.rows as { site: number; v: string[] }[]).map((r) => [r.site, r.v]))
    expect(bySite.get(docs)).toHaveLength(1)
    expect(bySite.get(shop)).not.toContain(bySite.get(docs)![0])
    // nothing of a site is left in Redis's pending state once flushed
    for (const site of [0, shop, docs]) {
      const keys = deps.keys.forSite(site).shards[0]!
      expect(await deps.redis.exists([keys.pending('d'), keys.pending('r')])).toBe(0)
      expect(await deps.redis.zCard(keys.snapshots)).toBe(0)
    }
  })

  test("a beacon's site is found with no Postgres query: the sites are in memory", async () => {
    const { app, db } = await twoSites()
    // the pool itself, under the reads' guard (deps.pool), so every query of either is seen
    const pool = db.pool as unknown as Record<'query' | 'connect', (...args: unknown[]) => unknown>
    let queries = 0
    for (const method of ['query', 'connect'] as const) {
      const original = pool[method]!.bind(pool)
      pool[method] = (...args: unknown[]) => {
        queries++
        return original(...args)
      }
    }
    for (let i = 0; i < 20; i++) {
      const origin = [SHOP, DOCS, 'https://elsewhere.example'][i % 3]!
      const site = i % 4 === 0 ? 'docs.example.com' : undefined
      const res = await beacon(app, site ? DOCS : origin, view(`/${i}`), `198.51.100.${i}`, site)
      expect(res.status).toBe(202)
    }
    expect(queries).toBe(0)
    // (a read does query: the count would see one)
    await get(app, '/analytics/stats?site=0')
    expect(queries).toBeGreaterThan(0)
  })

  test('a read must name its site once there are two; a page may not send for a site it is not of', async () => {
    const { app, deps, docs } = await twoSites()
    const unnamed = await get(app, '/analytics/stats')
    expect(unnamed.status).toBe(422)
    expect(unnamed.body).toMatchObject({ parameter: 'site' })
    expect(unnamed.body.choices.map((c: { id: number }) => c.id)).toEqual([0, 1, docs])
    for (const path of [
      '/analytics/top',
      '/analytics/dashboard',
      '/analytics/conversions',
      '/analytics/goals',
      '/analytics/funnels',
      '/analytics/live',
    ]) {
      expect((await get(app, path)).status).toBe(422)
    }
    const unknown = await get(app, '/analytics/stats?site=nowhere.example')
    expect(unknown).toMatchObject({ status: 404, body: { parameter: 'site' } })

    // the shop's page naming the docs site: refused, and its origin not echoed
    const crossed = await beacon(app, SHOP, view('/a'), '198.51.100.1', 'docs.example.com')
    expect(crossed.status).toBe(403)
    expect(crossed.headers.get('access-control-allow-origin')).toBeNull()
    expect(await crossed.json()).toEqual({ error: `origin ${SHOP} is not allowed to send events for site ${docs}` })
    // a site nobody has
    const none = await beacon(app, SHOP, view('/a'), '198.51.100.1', 'nowhere.example')
    expect(none.status).toBe(403)
    expect(none.headers.get('access-control-allow-origin')).toBeNull()
    // once the default site has domains of its own, a page of no site's domain is refused too
    await apiCall(app, 'PATCH', '/analytics/sites/0', { domains: ['example.org'] }, ADMIN)
    const stray = await beacon(app, 'https://elsewhere.example', view('/x'), '198.51.100.9')
    expect(stray.status).toBe(403)
    const rejected = await deps.metrics.rejected.get()
    expect(rejected.values.find((v) => v.labels.reason === 'unknown_site')?.value).toBe(2)
    expect(rejected.values.find((v) => v.labels.reason === 'origin')?.value).toBe(1)
    // and nothing of theirs was counted
    const docsToday = await get(app, `/analytics/stats?site=${docs}&metric=events`)
    expect(docsToday.body.total).toBe(0)
  })

  test('a deleted site takes its counters and keys with it; a new site under its id starts empty', async () => {
    const { app, deps, docs } = await twoSites()
    for (let i = 0; i < 3; i++) expect((await beacon(app, DOCS, view('/guide'), `198.51.100.${i}`)).status).toBe(202)
    await deps.flusher.flush()
    expect((await beacon(app, DOCS, view('/later'), '198.51.100.7')).status).toBe(202)
    const total = async () => (await get(app, `/analytics/stats?site=${docs}&metric=events`)).body.total
    expect(await total()).toBe(4)
    const keysOf = async (site: number) => {
      const found: string[] = []
      const match = `${deps.keys.forSite(site).shards[0]!.base.replace(/[*?[\]\\]/g, '\\$&')}:*`
      for await (const batch of deps.redis.scanIterator({ MATCH: match, COUNT: 1000 })) found.push(...batch)
      return found
    }
    expect((await keysOf(docs)).length).toBeGreaterThan(0)

    expect((await apiCall(app, 'DELETE', `/analytics/sites/${docs}`, undefined, ADMIN)).status).toBe(204)
    expect(await keysOf(docs)).toEqual([])
    const left = await deps.pool.query(
      `SELECT (SELECT count(*)::int FROM analytics_daily WHERE site = $1)
        + (SELECT count(*)::int FROM analytics_events WHERE site = $1)
        + (SELECT count(*)::int FROM analytics_visitors_daily WHERE site = $1) AS n`,
      [docs],
    )
    expect(left.rows[0].n).toBe(0)
    // the least free id is used again, and nothing of the site before is the new one's
    const again = await apiCall(app, 'POST', '/analytics/sites', { domains: ['new.example.com'] }, ADMIN)
    expect(again.body.id).toBe(docs)
    expect(await total()).toBe(0)
    // its beacons count from nothing
    expect((await beacon(app, 'https://new.example.com', view('/'), '198.51.100.1')).status).toBe(202)
    expect(await total()).toBe(1)
    // the docs pages are no site's now: the default site, which has no domains, counts them
    expect((await beacon(app, DOCS, view('/guide'), '198.51.100.1')).status).toBe(202)
    expect((await get(app, '/analytics/stats?site=0&metric=events')).body.total).toBe(1)
  })

  test('server batches name their site per event or per request, all or nothing', async () => {
    const { app, shop, docs } = await twoSites()
    const send = (body: unknown, query = '') =>
      app.handle(
        new Request(`http://localhost/analytics/events${query}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer test-ingest-token-0123456789' },
          body: JSON.stringify(body),
        }),
      )
    // none named, two sites: the whole batch is refused with the choices
    const unnamed = await send([{ event_type: 'user_signup' }])
    expect(unnamed.status).toBe(422)
    expect((await unnamed.json()).choices).toHaveLength(3)
    // an unknown site is its event's error; nothing of the batch is counted
    const wrong = await send([
      { event_type: 'user_signup', site: 'shop.example.com' },
      { event_type: 'user_signup', site: 'nowhere.example' },
    ])
    expect(wrong.status).toBe(422)
    expect((await wrong.json()).errors).toEqual([
      { index: 1, field: 'site', reason: 'no site has the id or domain "nowhere.example"' },
    ])
    // per event, and the request's for the rest; an event's own error names its index in the batch
    const invalid = await send(
      [{ event_type: 'user_signup', site: shop }, { event_type: 'nope' }],
      '?site=docs.example.com',
    )
    expect((await invalid.json()).errors).toMatchObject([{ index: 1, field: 'event_type' }])
    const ok = await send(
      [
        { event_type: 'user_signup', site: shop },
        { event_type: 'user_signup', site: 'shop.example.com' },
        { event_type: 'user_signup' },
      ],
      '?site=docs.example.com',
    )
    expect(ok.status).toBe(202)
    expect(await ok.json()).toEqual({ accepted: 3 })
    const total = async (site: number) =>
      (await get(app, `/analytics/stats?site=${site}&metric=events&event_type=user_signup`)).body.total
    expect([await total(shop), await total(docs), await total(0)]).toEqual([2, 1, 0])
    expect((await app.handle(ingestRequest([{ event_type: 'user_signup' }]))).status).toBe(422)
  })

  test('INGEST_SITES limits the ingest token to some sites: an event of another refuses its whole batch', async () => {
    const { app, deps } = await testApp({ ingestSites: ['shop.example.com'] })
    await apiCall(app, 'POST', '/analytics/sites', { domains: ['shop.example.com'] }, ADMIN)
    await apiCall(app, 'POST', '/analytics/sites', { domains: ['docs.example.com'] }, ADMIN)
    const mixed = await app.handle(
      ingestRequest([
        { event_type: 'user_signup', site: 'shop.example.com' },
        { event_type: 'user_signup', site: 'docs.example.com' },
      ]),
    )
    expect(mixed.status).toBe(403)
    expect((await mixed.json()).error).toStartWith('INGEST_TOKEN may not write for site 2 (docs.example.com)')
    const own = await app.handle(ingestRequest([{ event_type: 'user_signup', site: 'shop.example.com' }]))
    expect(own.status).toBe(202)
    const total = async (site: string) =>
      (await get(app, `/analytics/stats?site=${site}&metric=events&event_type=user_signup`)).body.total
    expect([await total('shop.example.com'), await total('docs.example.com')]).toEqual([1, 0])
    const rejected = await deps.metrics.rejected.get()
    expect(rejected.values.find((v) => v.labels.reason === 'unauthorized')?.value).toBe(1)
  })

  test("Plausible's Events API: domain names the site", async () => {
    const { app, shop, docs } = await twoSites()
    const event = (domain: string, origin?: string) =>
      app.handle(
        new Request('http://localhost/api/event', {
          method: 'POST',
          headers: {
            'content-type': 'text/plain',
            'user-agent': BROWSER_UA,
            'x-forwarded-for': '198.51.100.4',
            ...(origin ? { origin } : {}),
          },
          body: JSON.stringify({ n: 'pageview', u: 'https://docs.example.com/start', d: domain }),
        }),
      )
    expect((await event('docs.example.com', DOCS)).status).toBe(202)
    // the first domain of the list this deployment counts; a back end sends without an origin
    expect((await event('unknown.example,shop.example.com')).status).toBe(202)
    // a page may not send for a site it is not of
    expect((await event('shop.example.com', DOCS)).status).toBe(403)
    const total = async (site: number) => (await get(app, `/analytics/stats?site=${site}&metric=events`)).body.total
    expect([await total(shop), await total(docs), await total(0)]).toEqual([1, 1, 0])
  })
})
