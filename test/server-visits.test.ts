/**
 * Server events that belong to a visitor: a back end forwards the browser's address and
 * User-Agent (`client_ip`, `user_agent`) with an event to POST /analytics/events, the server
 * hashes them as it hashed that browser's beacons, and the event joins the visit in progress, so
 * reads filtered by the visit's source count it, before and after a flush. Without them, or with
 * no visit in progress, it belongs to no visit and begins none. A crawler's is not counted. Bad
 * values are refused whole (422 naming the field); the two values are stored nowhere.
 */
import { describe, expect, test } from 'bun:test'
import { ROWS } from '../src/counters/keys.ts'
import type { Deps } from '../src/deps.ts'
import { decodeRows, type LogRow } from '../src/log/row.ts'
import { allKeys, beaconRequest, ingestRequest, pendingTotal, testApp } from './app.ts'
import { LOGGED } from './log-rows.ts'

type App = Awaited<ReturnType<typeof testApp>>['app']

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const WINDOWS_CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'
const GOOGLE = [['is', 'source', ['Google']]]
const SIGNUPS = ['is', 'event_type', ['user_signup']]
const MINUTE = 60_000

async function json(app: App, path: string) {
  const res = await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
  const body = await res.json()
  expect({ path, status: res.status, body: res.status === 200 ? null : body }).toEqual({
    path,
    status: 200,
    body: null,
  })
  return body
}

/** `GET /analytics/stats` with `query` and, when given, `filters` (URL-encoded), as its total. */
async function total(app: App, query: string, filters?: unknown): Promise<number> {
  const encoded = filters === undefined ? '' : `&filters=${encodeURIComponent(JSON.stringify(filters))}`
  return (await json(app, `/analytics/stats?${query}${encoded}`)).total
}

const flush = async (app: App) => {
  const res = await app.handle(new Request('http://localhost/analytics/flush', { method: 'POST', headers: ADMIN }))
  expect(res.status).toBe(200)
}

/** A page view of shop.example.com from `ip` with `ua` (behind one trusted proxy). */
const view = (ip: string, ua: string, properties: Record<string, unknown> = { path: '/' }) =>
  beaconRequest(
    { event_type: 'page_view', properties },
    { ip, headers: { origin: 'https://shop.example.com', 'user-agent': ua } },
  )

async function ingest(app: App, events: unknown[]) {
  const res = await app.handle(ingestRequest(events))
  return { status: res.status, body: await res.json() }
}

const pendingRows = async (deps: Deps): Promise<LogRow[]> =>
  decodeRows(await deps.redis.lRange(deps.keys.shards[0]!.pending(ROWS), 0, -1))

describe('server events of a visitor', () => {
  test('a sign-up sent with the browser’s address and User-Agent counts under its visit’s source, before and after a flush', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    // a visit from a Google search
    const search = { path: '/pricing', referrer: 'https://www.google.com/search?q=pricing' }
    expect((await app.handle(view('203.0.113.50', WINDOWS_CHROME, search))).status).toBe(202)
    // another visit, direct, from another browser
    expect((await app.handle(view('198.51.100.20', IPHONE_SAFARI, { path: '/', referrer: '' }))).status).toBe(202)

    const sent = await ingest(app, [
      // the Google visitor signs up: the back end forwards their browser's address and User-Agent
      { event_type: 'user_signup', user_id: 'u1', client_ip: '203.0.113.50', user_agent: WINDOWS_CHROME },
      // someone else with the same browser build, from another address: no visit of theirs
      { event_type: 'user_signup', user_id: 'u2', client_ip: '203.0.113.51', user_agent: WINDOWS_CHROME },
      // the iPhone visitor, under the direct visit
      { event_type: 'user_signup', user_id: 'u3', client_ip: '198.51.100.20', user_agent: IPHONE_SAFARI },
      // a back end that says nothing of the browser: as ever, no visit
      { event_type: 'user_signup', user_id: 'u4' },
    ])
    expect(sent).toEqual({ status: 202, body: { accepted: 4 } })

    const reads = async () => ({
      signups: await total(app, 'event_type=user_signup'),
      signupsFromGoogle: await total(app, 'event_type=user_signup', GOOGLE),
      signupsDirect: await total(app, 'event_type=user_signup', [['is', 'source', ['(direct)']]]),
      signupsOnChrome: await total(app, 'event_type=user_signup', [['is', 'browser', ['Chrome']]]),
      visitorsFromGoogle: await total(app, 'metric=visitors', GOOGLE),
      signedUpVisitorsFromGoogle: await total(app, 'metric=visitors', [...GOOGLE, SIGNUPS]),
      // of the four sign-ups, two were of visits: an event of no visit has no visitor
      signedUpVisitors: await total(app, 'metric=visitors', [SIGNUPS]),
      // a server event begins no visit: still the two of the beacons
      visits: await total(app, 'metric=visits'),
      visitsFromGoogle: await total(app, 'metric=visits', GOOGLE),
      // a visit with a sign-up after its one page view is no bounce
      bounceRate: (await json(app, '/analytics/stats?metric=bounce_rate')).value,
    })
    const expected = {
      signups: 4,
      signupsFromGoogle: 1,
      signupsDirect: 1,
      signupsOnChrome: 1,
      visitorsFromGoogle: 1,
      signedUpVisitorsFromGoogle: 1,
      signedUpVisitors: 2,
      visits: 2,
      visitsFromGoogle: 1,
      bounceRate: 0,
    }
    expect(await reads()).toEqual(expected)

    // the rows: the sign-up in the Google visit, with its visitor; the others of no visit
    const rows = (await pendingRows(deps)).filter((r) => r.type === 'user_signup')
    const byUser = Object.fromEntries(rows.map((r) => [r.userId, r]))
    const pageView = (await pendingRows(deps)).find((r) => r.path === '/pricing')!
    expect(byUser.u1).toMatchObject({
      visitId: pageView.visitId,
      visitor: pageView.visitor,
      began: false,
      hostname: 'shop.example.com',
      visit: { source: 'Google', entry_page: '/pricing', browser: 'Chrome', os: 'Windows' },
    })
    for (const user of ['u2', 'u4']) expect(byUser[user]).toMatchObject({ visitId: null, visitor: null, visit: null })

    await flush(app)
    expect(await pendingTotal(deps)).toBe(0)
    expect(await reads()).toEqual(expected)
    const stored = await deps.pool.query(
      `SELECT user_id, visit_id::text, source, began FROM ${LOGGED} WHERE event_type = 'user_signup' ORDER BY user_id`,
    )
    expect(stored.rows).toEqual([
      { user_id: 'u1', visit_id: pageView.visitId, source: 'Google', began: false },
      { user_id: 'u2', visit_id: null, source: null, began: false },
      { user_id: 'u3', visit_id: expect.any(String), source: '(direct)', began: false },
      { user_id: 'u4', visit_id: null, source: null, began: false },
    ])

    // the visit goes on after the flush: a later sign-up of the same visitor joins it still
    expect(
      (
        await ingest(app, [
          { event_type: 'subscription_started', client_ip: '203.0.113.50', user_agent: WINDOWS_CHROME },
        ])
      ).status,
    ).toBe(202)
    expect(await total(app, 'event_type=subscription_started', GOOGLE)).toBe(1)
    await flush(app)
    expect(await total(app, 'event_type=subscription_started', GOOGLE)).toBe(1)
  })

  test('the visit rule: within 30 minutes of the visit’s last event, either way; a joined event moves its end; none begins a visit', async () => {
    const start = Date.parse('2026-12-01T10:00:00Z')
    let now = start
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const ip = '203.0.113.70'
    const signup = (minutes: number | undefined, user: string) => ({
      event_type: 'user_signup',
      user_id: user,
      client_ip: ip,
      user_agent: WINDOWS_CHROME,
      ...(minutes === undefined ? {} : { timestamp: start + minutes * MINUTE }),
    })
    const visitOf = async (user: string) => (await pendingRows(deps)).find((r) => r.userId === user)!.visitId

    // no visit yet: the event is counted, of no visit, and begins none
    expect((await ingest(app, [signup(undefined, 'before')])).status).toBe(202)
    expect(await total(app, 'metric=visits&from=2026-12-01&to=2026-12-01')).toBe(0)
    expect(await visitOf('before')).toBeNull()

    const search = { path: '/', referrer: 'https://www.bing.com/' }
    expect((await app.handle(view(ip, WINDOWS_CHROME, search))).status).toBe(202)
    const visit = (await pendingRows(deps)).find((r) => r.type === 'page_view')!.visitId
    expect(visit).not.toBeNull()

    now = start + 40 * MINUTE
    expect(
      (
        await ingest(app, [
          // 40 minutes after the visit's last event (its time is the receive time): too late
          signup(undefined, 'late'),
          // dated 25 minutes before it: a back end's clock, and still within 30 minutes
          signup(-25, 'earlier'),
          // dated 35 minutes before it: not of the visit
          signup(-35, 'long-before'),
          // dated 20 minutes after it: in the visit, and now its last event
          signup(20, 'dated'),
        ])
      ).status,
    ).toBe(202)
    expect({
      late: await visitOf('late'),
      dated: await visitOf('dated'),
      earlier: await visitOf('earlier'),
      longBefore: await visitOf('long-before'),
    }).toEqual({ late: null, dated: visit, earlier: visit, longBefore: null })

    // the visit's key still lives as a visit's (30 minutes after its last write), not as a counter's
    const session = (await allKeys(deps)).find((k) => k.includes(':visit:'))!
    const ttl = await deps.redis.pTTL(session)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(30 * MINUTE)

    // the dated sign-up (at 10:20) was the visit's last event: a page view at 10:45 is 25
    // minutes after it, the same visit, not a new one
    now = start + 45 * MINUTE
    expect((await app.handle(view(ip, WINDOWS_CHROME, { path: '/welcome' }))).status).toBe(202)
    expect((await pendingRows(deps)).find((r) => r.path === '/welcome')!.visitId).toBe(visit)
    expect(await total(app, 'metric=visits&from=2026-12-01&to=2026-12-01')).toBe(1)
    expect(await total(app, 'event_type=user_signup&from=2026-12-01&to=2026-12-01')).toBe(5)
    expect(await total(app, 'event_type=user_signup&from=2026-12-01&to=2026-12-01', [['is', 'source', ['Bing']]])).toBe(
      2,
    )
  })

  test('one visitor whoever wrote the address: an IPv4-mapped or uncompressed IPv6 address is the same client', async () => {
    const { app } = await testApp({ trustProxy: { hops: 1 } })
    const search = { path: '/', referrer: 'https://duckduckgo.com/' }
    expect((await app.handle(view('203.0.113.80', WINDOWS_CHROME, search))).status).toBe(202)
    expect((await app.handle(view('2001:db8::80', IPHONE_SAFARI, search))).status).toBe(202)
    const sent = await ingest(app, [
      // what a back end on a dual-stack socket (Node's req.ip) reports for an IPv4 client
      { event_type: 'user_signup', client_ip: '::ffff:203.0.113.80', user_agent: WINDOWS_CHROME },
      { event_type: 'user_signup', client_ip: '2001:DB8:0:0:0:0:0:80', user_agent: IPHONE_SAFARI },
      // the same address with another User-Agent is another visitor
      { event_type: 'user_signup', client_ip: '203.0.113.80', user_agent: IPHONE_SAFARI },
    ])
    expect(sent.status).toBe(202)
    expect(await total(app, 'event_type=user_signup', [['is', 'source', ['DuckDuckGo']]])).toBe(2)
    expect(await total(app, 'event_type=user_signup')).toBe(3)
  })

  test('with several shards each event joins its visitor’s visit in the shard the visitor lives in', async () => {
    const { app, deps } = await testApp({ redisShards: 4, trustProxy: { hops: 1 } })
    const visitors = Array.from({ length: 12 }, (_, i) => `192.0.2.${10 + i}`)
    for (const ip of visitors) {
      const res = await app.handle(view(ip, WINDOWS_CHROME, { path: '/', referrer: 'https://www.google.com/' }))
      expect(res.status).toBe(202)
    }
    const sent = await ingest(app, [
      ...visitors.map((ip) => ({ event_type: 'user_signup', client_ip: ip, user_agent: WINDOWS_CHROME })),
      { event_type: 'user_signup' },
      { event_type: 'user_signup', client_ip: '192.0.2.200', user_agent: WINDOWS_CHROME },
    ])
    expect(sent).toEqual({ status: 202, body: { accepted: 14 } })
    // the visitors live in more than one shard
    const shardsWithVisits = await Promise.all(
      deps.keys.shards.map(async (s) => (await deps.redis.lLen(s.pending(ROWS))) > 0),
    )
    expect(shardsWithVisits.filter(Boolean).length).toBeGreaterThan(1)
    expect(await total(app, 'event_type=user_signup', GOOGLE)).toBe(12)
    expect(await total(app, 'event_type=user_signup')).toBe(14)
    expect(await total(app, 'metric=visits')).toBe(12)
    await flush(app)
    expect(await total(app, 'event_type=user_signup', GOOGLE)).toBe(12)
    expect(await total(app, 'event_type=user_signup')).toBe(14)
  })

  test('an event sent with a crawler’s User-Agent is not counted, as a crawler’s beacon is not; the answer says so', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    const sent = await ingest(app, [
      { event_type: 'user_signup', user_id: 'human', client_ip: '203.0.113.90', user_agent: WINDOWS_CHROME },
      {
        event_type: 'user_signup',
        user_id: 'bot',
        client_ip: '66.249.66.1',
        user_agent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      },
      // an empty User-Agent is a crawler's for beacons too
      { event_type: 'user_signup', user_id: 'empty', client_ip: '203.0.113.91', user_agent: '' },
      { event_type: 'user_signup', user_id: 'backend' },
    ])
    expect(sent).toEqual({ status: 202, body: { accepted: 2, crawlers: 2 } })
    expect(await pendingTotal(deps)).toBe(2)
    expect((await pendingRows(deps)).map((r) => r.userId).sort()).toEqual(['backend', 'human'])
    const metrics = await (await app.handle(new Request('http://localhost/metrics', { headers: ADMIN }))).text()
    expect(metrics).toMatch(/^analytics_events_rejected_total\{reason="bot"\} 2$/m)

    // a batch of crawlers' events only: answered, nothing counted
    expect(
      await ingest(app, [{ event_type: 'user_login', client_ip: '66.249.66.1', user_agent: 'Googlebot/2.1' }]),
    ).toEqual({ status: 202, body: { accepted: 0, crawlers: 1 } })
    expect(await pendingTotal(deps)).toBe(2)
  })

  test('bad values are refused with 422 naming the field, and nothing of the batch is counted', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    const good = { event_type: 'user_signup', client_ip: '203.0.113.5', user_agent: WINDOWS_CHROME }
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ client_ip: '203.0.113.5' }, 'user_agent', /is required with client_ip/],
      [{ user_agent: WINDOWS_CHROME }, 'client_ip', /is required with user_agent/],
      [{ client_ip: 'not an address', user_agent: WINDOWS_CHROME }, 'client_ip', /IPv4 or IPv6 address/],
      [{ client_ip: '203.0.113.5:443', user_agent: WINDOWS_CHROME }, 'client_ip', /IPv4 or IPv6 address/],
      [{ client_ip: '203.0.113.256', user_agent: WINDOWS_CHROME }, 'client_ip', /IPv4 or IPv6 address/],
      [{ client_ip: 'fe80::1%eth0', user_agent: WINDOWS_CHROME }, 'client_ip', /IPv4 or IPv6 address/],
      [{ client_ip: '203.0.113.5, 10.0.0.1', user_agent: WINDOWS_CHROME }, 'client_ip', /IPv4 or IPv6 address/],
      [{ client_ip: 3405803781, user_agent: WINDOWS_CHROME }, 'client_ip', /IPv4 or IPv6 address/],
      [{ client_ip: '', user_agent: WINDOWS_CHROME }, 'client_ip', /IPv4 or IPv6 address/],
      [{ client_ip: '203.0.113.5', user_agent: 42 }, 'user_agent', /string/],
      [{ client_ip: '203.0.113.5', user_agent: null }, 'user_agent', /string/],
      [{ client_ip: '203.0.113.5', user_agent: 'x'.repeat(8193) }, 'user_agent', /8192/],
    ]
    for (const [fields, field, reason] of cases) {
      const res = await ingest(app, [good, { event_type: 'user_signup', user_id: 'u', ...fields }])
      expect({ fields: Object.keys(fields), status: res.status }).toEqual({ fields: Object.keys(fields), status: 422 })
      const errors = res.body.errors as { index: number; field: string; reason: string }[]
      expect({ fields, errors: errors.map((e) => ({ index: e.index, field: e.field })) }).toEqual({
        fields,
        errors: [{ index: 1, field }],
      })
      expect(errors[0]!.reason).toMatch(reason)
    }
    // the longest User-Agent taken, and both fields together, are fine
    expect(
      (
        await ingest(app, [
          good,
          { ...good, user_agent: `${WINDOWS_CHROME} ${'x'.repeat(8192 - WINDOWS_CHROME.length - 1)}` },
        ])
      ).status,
    ).toBe(202)
    expect(await pendingTotal(deps)).toBe(2)

    // a beacon may not say whose it is: its address and User-Agent are its request's own
    const beacon = await app.handle(
      beaconRequest({ event_type: 'page_view', client_ip: '198.51.100.1', user_agent: WINDOWS_CHROME }),
    )
    expect(beacon.status).toBe(422)
    const refused = (await beacon.json()).errors as { field: string; reason: string }[]
    expect(refused.map((e) => e.field).sort()).toEqual(['client_ip', 'user_agent'])
    expect(refused[0]!.reason).toMatch(/server events/)
    expect(await pendingTotal(deps)).toBe(2)
  })

  test('the address and User-Agent are stored nowhere: not in a Redis key or value, not in Postgres after a flush', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    // values seen nowhere else in this database: one visitor with a visit, one without
    const joinedIp = '198.51.100.131'
    const joinedUa = `${WINDOWS_CHROME} PrivacyProbeJoined/7`
    const aloneIp = '2001:db8:77::131'
    const aloneUa = `${IPHONE_SAFARI} PrivacyProbeAlone/9`
    expect(
      (await app.handle(view(joinedIp, joinedUa, { path: '/', referrer: 'https://www.google.com/' }))).status,
    ).toBe(202)
    expect(
      (
        await ingest(app, [
          { event_type: 'user_signup', user_id: 'u1', client_ip: joinedIp, user_agent: joinedUa },
          { event_type: 'subscription_started', user_id: 'u2', client_ip: aloneIp, user_agent: aloneUa },
        ])
      ).status,
    ).toBe(202)
    expect(await total(app, 'event_type=user_signup', GOOGLE)).toBe(1)
    const secrets = [joinedIp, joinedUa, 'PrivacyProbeJoined', aloneIp, '2001:db8:77', aloneUa, 'PrivacyProbeAlone']

    const redisDump = async () => {
      let dump = ''
      for (const key of await allKeys(deps)) {
        const type = await deps.redis.type(key)
        dump += `\n${key} `
        if (type === 'hash') dump += JSON.stringify(await deps.redis.hGetAll(key))
        else if (type === 'list') dump += JSON.stringify(await deps.redis.lRange(key, 0, -1))
        else if (type === 'set') dump += JSON.stringify(await deps.redis.sMembers(key))
        else if (type === 'zset') dump += JSON.stringify(await deps.redis.zRange(key, 0, -1))
        else if (type === 'string') dump += String(await deps.redis.get(key))
        else throw new Error(`a ${type} key this test does not read: ${key}`)
      }
      return dump
    }
    const postgresDump = async () => {
      const tables = await deps.pool.query(
        `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
      )
      let dump = ''
      for (const { name } of tables.rows) dump += JSON.stringify((await deps.pool.query(`SELECT * FROM ${name}`)).rows)
      return dump
    }
    const find = (dump: string) => secrets.filter((s) => dump.includes(s))

    const before = await redisDump()
    expect(before).toContain('shop.example.com')
    expect(find(before)).toEqual([])
    await flush(app)
    const stored = await postgresDump()
    // the flush wrote the rows: the dump holds them
    expect(stored).toContain('subscription_started')
    expect(find(stored)).toEqual([])
    expect(find(await redisDump())).toEqual([])
  })
})
