/**
 * The event log's pending rows: every counted event is one row in Redis, written by the same Lua
 * call as its counters, holding what was counted (capped values as `(other)`) and the visit it
 * belongs to (a server event's too, when its back end forwarded the browser's address and
 * User-Agent); crawlers are not stored; nothing that names a person is; and past the pending bound
 * rows are dropped from the log alone, counted, while the counters stay exact.
 */
import { describe, expect, test } from 'bun:test'
import { ROWS } from '../src/counters/keys.ts'
import type { Deps } from '../src/deps.ts'
import { decodeRows, type LogRow } from '../src/log/row.ts'
import { allKeys, BROWSER_UA, beaconRequest, ingestRequest, pendingTotal, testApp } from './app.ts'
import { LOGGED } from './log-rows.ts'

const pendingRows = async (deps: Deps): Promise<LogRow[]> =>
  decodeRows(await deps.redis.lRange(deps.keys.shards[0]!.pending(ROWS), 0, -1))

const SHOP = { origin: 'https://shop.example.com' }

describe('event log rows', () => {
  test('each counted event is one row, as counted, with its visit; server events have none unless sent with the browser’s; crawlers none at all', async () => {
    const at = Date.parse('2026-12-01T10:00:00.123Z')
    const { app, deps } = await testApp(
      {
        trustProxy: { hops: 1 },
        countedProperties: ['plan'],
        caps: { users: 1000, features: 1000, paths: 2, dimensions: 1000 },
      },
      { now: () => at },
    )
    const send = (body: unknown, ip: string) => app.handle(beaconRequest(body, { ip, headers: SHOP }))
    expect(
      (
        await send(
          {
            event_type: 'page_view',
            user_id: 'u1',
            properties: { path: '/a', referrer: 'https://www.google.com/search?q=x', utm_campaign: 'launch' },
          },
          '8.8.8.8',
        )
      ).status,
    ).toBe(202)
    // the same visitor: same visit; a third path is past the cap of 2 paths a day
    expect((await send({ event_type: 'page_view', properties: { path: '/b' } }, '8.8.8.8')).status).toBe(202)
    expect((await send({ event_type: 'page_view', properties: { path: '/c' } }, '8.8.8.8')).status).toBe(202)
    expect(
      (
        await send(
          { event_type: 'feature_used', properties: { feature_name: 'export', plan: 'pro', size: 3, note: null } },
          '8.8.8.8',
        )
      ).status,
    ).toBe(202)
    // another visitor: another visit
    expect((await send({ event_type: 'page_view', properties: { path: '/a', referrer: '' } }, '1.1.1.1')).status).toBe(
      202,
    )
    // a crawler: answered, not counted, not stored
    const bot = beaconRequest(
      { event_type: 'page_view', properties: { path: '/a' } },
      { ip: '9.9.9.9', headers: { ...SHOP, 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' } },
    )
    expect((await app.handle(bot)).status).toBe(202)
    expect(
      (
        await app.handle(
          ingestRequest([
            { event_type: 'user_signup', user_id: 'u9', timestamp: at - 60_000, properties: { plan: 'team' } },
            // sent with the first visitor's browser's address and User-Agent: of their visit
            { event_type: 'subscription_started', user_id: 'u1', client_ip: '8.8.8.8', user_agent: BROWSER_UA },
            // with a browser's that has no visit in progress: of no visit
            { event_type: 'subscription_started', user_id: 'u8', client_ip: '8.8.4.4', user_agent: BROWSER_UA },
          ]),
        )
      ).status,
    ).toBe(202)

    const all = await pendingRows(deps)
    expect(all).toHaveLength(8)
    // every row is an event the counters counted
    expect(await pendingTotal(deps)).toBe(all.length)
    const subscriptions = all.filter((r) => r.type === 'subscription_started')
    const rows = all.filter((r) => r.type !== 'subscription_started')
    const [first, second, third, feature, other, server] = rows as [LogRow, LogRow, LogRow, LogRow, LogRow, LogRow]
    const visit = {
      source: 'Google',
      utm_source: null,
      utm_medium: null,
      utm_campaign: 'launch',
      entry_page: '/a',
      browser: 'Chrome',
      os: 'Linux',
      device: 'desktop',
      country: 'US',
      hostname: 'shop.example.com',
    }
    expect(first).toEqual({
      at,
      site: 0,
      type: 'page_view',
      path: '/a',
      hostname: 'shop.example.com',
      feature: null,
      userId: 'u1',
      props: null,
      visitId: first.visitId,
      began: true,
      visitor: first.visitor,
      visit,
    })
    expect(first.visitId).toMatch(/^\d+$/)
    expect(first.visitor).toMatch(/^[0-9a-f]{16}$/)
    for (const row of [second, third, feature]) {
      expect({ visitId: row.visitId, visitor: row.visitor, began: row.began, visit: row.visit }).toEqual({
        visitId: first.visitId,
        visitor: first.visitor,
        began: false,
        visit,
      })
    }
    // as counted: the third path of the day is (other)
    expect([second.path, third.path]).toEqual(['/b', '(other)'])
    // counted properties as counted, the other scalars kept too; null is nothing
    expect(feature).toMatchObject({ type: 'feature_used', feature: 'export', props: { plan: 'pro', size: '3' } })
    expect(other).toMatchObject({
      began: true,
      path: '/a',
      visit: { ...visit, source: '(direct)', utm_campaign: null, country: 'AU' },
    })
    expect(other.visitId).not.toBe(first.visitId)
    expect(other.visitor).not.toBe(first.visitor)
    const [joined, alone] = subscriptions as [LogRow, LogRow]
    expect(joined).toEqual({
      at,
      site: 0,
      type: 'subscription_started',
      path: null,
      hostname: 'shop.example.com',
      feature: null,
      userId: 'u1',
      props: null,
      visitId: first.visitId,
      began: false,
      visitor: first.visitor,
      visit,
    })
    expect(alone).toMatchObject({ userId: 'u8', visitId: null, visitor: null, visit: null })
    expect(server).toEqual({
      at: at - 60_000,
      site: 0,
      type: 'user_signup',
      path: null,
      hostname: null,
      feature: null,
      userId: 'u9',
      props: { plan: 'team' },
      visitId: null,
      began: false,
      visitor: null,
      visit: null,
    })

    // the flush stores them as they are, in the same transaction as the counters
    await deps.flusher.flush()
    expect(await deps.redis.lLen(deps.keys.shards[0]!.pending(ROWS))).toBe(0)
    const stored = await deps.pool.query(
      `SELECT (extract(epoch FROM at) * 1000)::bigint::text AS at, event_type, path, hostname, feature, user_id,
              began, visit_id::text, visitor::text, source, utm_campaign, entry_page, country, visit_hostname, props
       FROM ${LOGGED} ORDER BY at, visit_id NULLS LAST, path NULLS LAST`,
    )
    expect(stored.rows).toHaveLength(8)
    const visitorKey = (hex: string) => BigInt.asIntN(64, BigInt(`0x${hex}`)).toString()
    expect(stored.rows.filter((r) => r.visit_id === first.visitId)).toHaveLength(5)
    for (const r of stored.rows.filter((r) => r.visit_id === first.visitId)) {
      expect(r).toMatchObject({
        visitor: visitorKey(first.visitor!),
        source: 'Google',
        utm_campaign: 'launch',
        entry_page: '/a',
        country: 'US',
        visit_hostname: 'shop.example.com',
      })
    }
    expect(stored.rows.find((r) => r.event_type === 'user_signup')).toMatchObject({
      at: String(at - 60_000),
      visit_id: null,
      visitor: null,
      source: null,
      user_id: 'u9',
      props: { plan: 'team' },
    })
    expect(stored.rows.find((r) => r.event_type === 'feature_used')).toMatchObject({
      feature: 'export',
      props: { plan: 'pro', size: '3' },
    })

    const dump = JSON.stringify(
      await Promise.all(
        ['analytics_events', 'analytics_visits', 'analytics_values'].map(
          async (t) => (await deps.pool.query(`SELECT * FROM ${t}`)).rows,
        ),
      ),
    )
    for (const secret of ['8.8.8.8', '8.8.4.4', '1.1.1.1', '9.9.9.9', 'X11; Linux', 'search?q', 'q=x', 'Googlebot']) {
      expect({ secret, found: dump.includes(secret) }).toEqual({ secret, found: false })
    }

    // nothing in Redis names a person: no address, no User-Agent, no referrer's path or query
    for (const key of await allKeys(deps)) {
      const type = await deps.redis.type(key)
      const contents =
        type === 'hash'
          ? JSON.stringify(await deps.redis.hGetAll(key))
          : type === 'list'
            ? JSON.stringify(await deps.redis.lRange(key, 0, -1))
            : type === 'set'
              ? JSON.stringify(await deps.redis.sMembers(key))
              : type === 'string' && !key.includes(':salt:') && !key.includes(':hll:')
                ? String(await deps.redis.get(key))
                : ''
      for (const secret of ['8.8.8.8', '8.8.4.4', '1.1.1.1', '9.9.9.9', BROWSER_UA, 'X11; Linux', 'search?q', 'q=x']) {
        expect({ key, secret, found: contents.includes(secret) }).toEqual({ key, secret, found: false })
      }
    }
  })

  test('a visit that goes on after a flush moved its rows carries its values again in the new segment', async () => {
    let now = Date.parse('2026-12-01T10:00:00Z')
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const view = (path: string, referrer?: string) =>
      app.handle(
        beaconRequest(
          { event_type: 'page_view', properties: referrer === undefined ? { path } : { path, referrer } },
          { ip: '8.8.8.8', headers: SHOP },
        ),
      )
    expect((await view('/a', 'https://news.ycombinator.com/')).status).toBe(202)
    const before = await pendingRows(deps)
    expect(before[0]).toMatchObject({ began: true, visit: { source: 'Hacker News' } })
    // the flush moves the pending rows into a snapshot (and, with no store, writes no rows)
    await deps.flusher.flush()
    now += 60_000
    expect((await view('/b')).status).toBe(202)
    const after = await pendingRows(deps)
    expect(after).toHaveLength(1)
    // decoded on its own, the new segment still knows the visit's values
    expect(after[0]).toMatchObject({
      visitId: before[0]!.visitId,
      began: false,
      path: '/b',
      visit: { source: 'Hacker News', entry_page: '/a' },
    })
    // a page on another host of the same visit keeps its own host; the visit keeps its own
    expect(
      (
        await app.handle(
          beaconRequest(
            { event_type: 'page_view', properties: { path: '/docs' } },
            { ip: '8.8.8.8', headers: { origin: 'https://docs.example.com' } },
          ),
        )
      ).status,
    ).toBe(202)
    const docs = (await pendingRows(deps)).at(-1)!
    expect(docs).toMatchObject({
      visitId: before[0]!.visitId,
      hostname: 'docs.example.com',
      visit: { hostname: 'shop.example.com' },
    })
    expect(after[0]!.hostname).toBe('shop.example.com')
  })

  test('past EVENTS_PENDING_MAX rows the log drops new rows, counts them, and the counters stay exact', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 }, eventsPendingMax: 1000 })
    const batch = (n: number) => Array.from({ length: n }, () => ({ event_type: 'generation_completed', user_id: 'u' }))
    expect((await app.handle(ingestRequest(batch(900)))).status).toBe(202)
    expect((await app.handle(ingestRequest(batch(300)))).status).toBe(202)
    expect(await pendingTotal(deps)).toBe(1200)
    // the second batch found room for 100 rows
    expect(await deps.redis.lLen(deps.keys.shards[0]!.pending(ROWS))).toBe(1000)
    const dropped = await deps.redis.hGetAll(deps.keys.shards[0]!.dropped)
    expect(Object.values(dropped).map(Number)).toEqual([200])
    const metrics = await (
      await app.handle(
        new Request('http://localhost/metrics', {
          headers: { authorization: 'Bearer test-admin-token-0123456789' },
        }),
      )
    ).text()
    expect(metrics).toMatch(/^analytics_events_log_dropped_total 200$/m)
    expect(metrics).toMatch(/^analytics_events_logged_total 1000$/m)
    expect(metrics).toMatch(/^analytics_events_pending_rows 1000$/m)
    // the drift check shows the day the log misses rows, and why
    await deps.flusher.flush()
    const check = await app.handle(
      new Request('http://localhost/analytics/log/check', {
        headers: { authorization: 'Bearer test-admin-token-0123456789' },
      }),
    )
    const report = await check.json()
    expect(report.drift).toBe(1)
    expect(report.days.at(-1).events).toEqual({ counters: 1200, log: 1000 })
    expect(Object.values(report.dropped)).toEqual([200])
  })
})
