import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { EVENT_TYPES } from '../src/events/types.ts'
import { LiveHub, type LiveHubOptions } from '../src/live/hub.ts'
import type { LiveReading } from '../src/live/source.ts'
import { parseSse, sseComment, sseMessage, sseRetry } from '../src/live/sse.ts'
import { clockOf, countsFor, diffStates, type LiveDiff, liveState, parseTypes, snapshotFor } from '../src/live/state.ts'
import { beaconRequest, testApp } from './app.ts'
import { ADMIN, countsOf, type Feed, feedOf, openFeed, sendBeacons, snapshotOf } from './live-feed.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { waitFor } from './wait.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

/** Visitor counts of a reading: today's, and none in the last 5 minutes. */
const v = (today: number) => ({ today, now: 0 })

const NOON = Date.parse('2026-11-28T12:30:00Z')

describe('live state (pure)', () => {
  test('clockOf gives the UTC day and hour', () => {
    expect(clockOf(NOON)).toEqual({ day: '2026-11-28', hour: 12 })
    expect(clockOf(Date.parse('2026-11-28T23:59:59.999Z'))).toEqual({ day: '2026-11-28', hour: 23 })
    expect(clockOf(Date.parse('2026-11-29T00:00:00Z'))).toEqual({ day: '2026-11-29', hour: 0 })
  })

  test('liveState reads the hash fields and ignores what is not a counter', () => {
    const s = liveState(
      { 'page_view|09': '4', 'page_view|12': '6', 'user_login|00': '1', 'bogus|01': '9', 'page_view|24': '1' },
      v(3),
      clockOf(NOON),
    )
    expect(s.day).toBe('2026-11-28')
    expect(s.hour).toBe(12)
    expect(s.visitors).toBe(3)
    expect(Object.keys(s.hours)).toEqual([...EVENT_TYPES])
    expect(s.hours.page_view[9]).toBe(4)
    expect(s.hours.page_view[12]).toBe(6)
    expect(s.hours.page_view.reduce((a, b) => a + b)).toBe(10)
    expect(s.hours.user_login[0]).toBe(1)
    expect(s.hours.feature_used.every((n) => n === 0)).toBe(true)
  })

  test('diffStates: nothing, a changed hour, the hour moving, the visitors, the day rolling over', () => {
    const clock = clockOf(NOON)
    const a = liveState({ 'page_view|12': '5' }, v(2), clock)
    expect(diffStates(a, liveState({ 'page_view|12': '5' }, v(2), clock))).toBeUndefined()

    const more = diffStates(a, liveState({ 'page_view|12': '7', 'feature_used|03': '1' }, v(2), clock)) as LiveDiff
    expect(more.hourChanged).toBe(false)
    expect(more.visitorsChanged).toBe(false)
    expect([...more.changed]).toEqual([
      ['feature_used', [3]],
      ['page_view', [12]],
    ])

    const nextHour = diffStates(a, liveState({ 'page_view|12': '5' }, v(2), clockOf(NOON + 3_600_000))) as LiveDiff
    expect(nextHour).toEqual({
      hourChanged: true,
      visitorsChanged: false,
      visitorsNowChanged: false,
      changed: new Map(),
      todayDayChanged: false,
      // without TIME_ZONE's reading, the UTC day stands for today
      todayHourChanged: true,
      todayChanged: new Set(),
      todayHours: new Map(),
    })

    expect((diffStates(a, liveState({ 'page_view|12': '5' }, v(3), clock)) as LiveDiff).visitorsChanged).toBe(true)

    const midnight = liveState({}, v(0), clockOf(Date.parse('2026-11-29T00:00:01Z')))
    expect(
      diffStates(liveState({ 'page_view|23': '8' }, v(2), clockOf(Date.parse('2026-11-28T23:59:59Z'))), midnight),
    ).toBe('snapshot')
  })

  test('snapshotFor gives every watched type its 24 hours and total', () => {
    const s = liveState({ 'page_view|01': '2', 'page_view|12': '3', 'asset_shared|12': '1' }, v(4), clockOf(NOON))
    const all = snapshotFor(s)
    expect(Object.keys(all.types)).toEqual([...EVENT_TYPES])
    expect(all.types.page_view).toEqual({
      total: 5,
      hours: Array.from({ length: 24 }, (_, h) => (h === 1 ? 2 : h === 12 ? 3 : 0)),
    })
    expect(all).toMatchObject({ day: '2026-11-28', hour: 12, visitors: 4 })
    const some = snapshotFor(s, ['asset_shared'])
    expect(Object.keys(some.types)).toEqual(['asset_shared'])
    expect(some.types.asset_shared!.total).toBe(1)
    // a snapshot is a copy: later reads must not change what was sent
    all.types.page_view!.hours[1] = 99
    expect(s.hours.page_view[1]).toBe(2)
  })

  test('countsFor sends only what changed, as full counts, filtered by type', () => {
    const clock = clockOf(NOON)
    const prev = liveState({ 'page_view|12': '5', 'feature_used|12': '1' }, v(2), clock)
    const next = liveState({ 'page_view|11': '1', 'page_view|12': '8', 'feature_used|12': '1' }, v(3), clock)
    const diff = diffStates(prev, next) as LiveDiff
    expect(countsFor(diff, next)).toEqual({
      day: '2026-11-28',
      hour: 12,
      visitors: 3,
      types: { page_view: { total: 9, hours: { 11: 1, 12: 8 } } },
      today: {
        day: '2026-11-28',
        time_zone: 'UTC',
        hour: 12,
        totals: { page_view: 9 },
        hours: { page_view: { 11: 1, 12: 8 } },
      },
    })
    // visitors changed, so a client watching only feature_used still hears about it
    expect(countsFor(diff, next, ['feature_used'])).toEqual({ day: '2026-11-28', hour: 12, visitors: 3, types: {} })
    const quiet = liveState({ 'page_view|12': '9', 'feature_used|12': '1' }, v(2), clock)
    const pvOnly = diffStates(prev, quiet) as LiveDiff
    expect(countsFor(pvOnly, quiet, ['feature_used'])).toBeUndefined()
    // a new hour reaches everyone, even with nothing counted in it yet
    const later = liveState({ 'page_view|12': '5', 'feature_used|12': '1' }, v(2), clockOf(NOON + 3_600_000))
    expect(countsFor(diffStates(prev, later) as LiveDiff, later, ['feature_used'])).toEqual({
      day: '2026-11-28',
      hour: 13,
      types: {},
      today: { day: '2026-11-28', time_zone: 'UTC', hour: 13, totals: {}, hours: {} },
    })
  })

  test('parseTypes', () => {
    expect(parseTypes(null)).toEqual({ unknown: [] })
    expect(parseTypes(' , ')).toEqual({ unknown: [] })
    expect(parseTypes('page_view, feature_used,page_view')).toEqual({
      types: ['feature_used', 'page_view'],
      unknown: [],
    })
    expect(parseTypes('page_view,nope,PAGE_VIEW')).toEqual({ unknown: ['nope', 'PAGE_VIEW'] })
  })
})

describe('SSE format (pure)', () => {
  test('messages, comments and retry', () => {
    expect(sseMessage({ id: '7', event: 'counts', data: '{"a":1}' })).toBe('id: 7\nevent: counts\ndata: {"a":1}\n\n')
    expect(sseMessage({ data: 'one\ntwo\r\nthree', retry: 1500.7 })).toBe(
      'retry: 1500\ndata: one\ndata: two\ndata: three\n\n',
    )
    expect(sseComment('heartbeat')).toBe(': heartbeat\n\n')
    expect(sseRetry(2000)).toBe('retry: 2000\n\n')
    expect(() => sseMessage({ id: '1\n2', data: 'x' })).toThrow('line break')
    expect(() => sseMessage({ event: 'a\rb', data: 'x' })).toThrow('line break')
  })

  test('parseSse reads back what sseMessage writes, across chunk boundaries', () => {
    const wire =
      sseRetry(2000) +
      sseMessage({ id: '1', event: 'snapshot', data: 'a\nb' }) +
      sseComment('heartbeat') +
      sseMessage({ id: '2', event: 'counts', data: '{}' })
    const cut = 37
    const first = parseSse(wire.slice(0, cut))
    const second = parseSse(first.rest + wire.slice(cut))
    const all = [...first.messages, ...second.messages]
    expect(second.rest).toBe('')
    expect(all).toEqual([
      { comments: [], data: undefined, retry: 2000 },
      { comments: [], id: '1', event: 'snapshot', data: 'a\nb' },
      { comments: ['heartbeat'], data: undefined },
      { comments: [], id: '2', event: 'counts', data: '{}' },
    ])
  })
})

/** A source whose day data a test sets, counting its reads. */
function fakeSource() {
  const days = new Map<string, LiveReading>()
  let failing = false
  const source = async (day: string): Promise<LiveReading> => {
    source.reads++
    if (failing) throw new Error('connection refused')
    return days.get(day) ?? { fields: {}, visitors: 0, visitorsNow: 0 }
  }
  source.reads = 0
  return {
    source,
    set: (day: string, fields: Record<string, number>, visitors = 0) =>
      days.set(day, {
        fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])),
        visitors,
        visitorsNow: 0,
      }),
    fail: (on: boolean) => {
      failing = on
    },
  }
}

function hubWith(options: Partial<LiveHubOptions> & { now?: () => number } = {}) {
  const fake = fakeSource()
  const hub = new LiveHub(fake.source, { maxClients: 100, tickMs: 20, heartbeatMs: 60_000, ...options })
  return { hub, fake }
}

const feedFrom = (stream: ReadableStream<Uint8Array>) => feedOf(new Response(stream))

describe('live hub (in process)', () => {
  test('a snapshot first, then counts with only what changed', async () => {
    const { hub, fake } = hubWith({ now: () => NOON })
    fake.set('2026-11-28', { 'page_view|12': 3 }, 1)
    const feed = feedFrom(hub.subscribe()!.stream)
    const first = await feed.next()
    expect(first.retry).toBe(2000)
    const snap = snapshotOf(await feed.nextEvent())
    expect(snap.types.page_view!.total).toBe(3)
    expect(snap.visitors).toBe(1)
    fake.set('2026-11-28', { 'page_view|12': 5 }, 1)
    const counts = await feed.nextEvent()
    expect(Number(counts.id)).toBeGreaterThan(0)
    expect(countsOf(counts)).toEqual({
      day: '2026-11-28',
      hour: 12,
      types: { page_view: { total: 5, hours: { 12: 5 } } },
      today: {
        day: '2026-11-28',
        time_zone: 'UTC',
        hour: 12,
        totals: { page_view: 5 },
        hours: { page_view: { 12: 5 } },
      },
    })
    await feed.close()
    await waitFor(() => hub.size === 0, { what: 'the hub to let its clients go' })
    hub.close()
  })

  test('the hour and the day roll over on the UTC clock', async () => {
    let now = Date.parse('2026-11-28T22:59:59.900Z')
    const { hub, fake } = hubWith({ now: () => now })
    fake.set('2026-11-28', { 'page_view|22': 4, 'page_view|23': 0 }, 2)
    fake.set('2026-11-29', {}, 0)
    const feed = feedFrom(hub.subscribe()!.stream)
    expect(snapshotOf(await feed.nextEvent())).toMatchObject({ day: '2026-11-28', hour: 22 })

    now = Date.parse('2026-11-28T23:00:00.100Z')
    expect(countsOf(await feed.nextEvent())).toEqual({
      day: '2026-11-28',
      hour: 23,
      types: {},
      today: { day: '2026-11-28', time_zone: 'UTC', hour: 23, totals: {}, hours: {} },
    })

    fake.set('2026-11-28', { 'page_view|22': 4, 'page_view|23': 2 }, 3)
    expect(countsOf(await feed.nextEvent())).toEqual({
      day: '2026-11-28',
      hour: 23,
      visitors: 3,
      types: { page_view: { total: 6, hours: { 23: 2 } } },
      today: {
        day: '2026-11-28',
        time_zone: 'UTC',
        hour: 23,
        totals: { page_view: 6 },
        hours: { page_view: { 23: 2 } },
      },
    })

    now = Date.parse('2026-11-29T00:00:00.050Z')
    const fresh = snapshotOf(await feed.nextEvent())
    expect(fresh).toMatchObject({ day: '2026-11-29', hour: 0, visitors: 0 })
    expect(fresh.types.page_view).toEqual({ total: 0, hours: new Array(24).fill(0) })
    await feed.close()
    hub.close()
  })

  test('one Redis read per tick however many clients watch; none when nobody does', async () => {
    const { hub, fake } = hubWith({ now: () => NOON, tickMs: 50 })
    const feeds = Array.from({ length: 50 }, () => feedFrom(hub.subscribe()!.stream))
    for (const f of feeds) snapshotOf(await f.nextEvent())
    const before = fake.source.reads
    const started = performance.now()
    await waitFor(() => fake.source.reads >= before + 5, { what: 'five more reads' })
    const elapsed = performance.now() - started
    // A hub reads at most once per 50 ms tick, however slow the machine (slower only means fewer
    // reads); one read per client would be 50 a tick. (+2: a read in flight at either end.)
    expect(fake.source.reads - before).toBeLessThanOrEqual(Math.floor(elapsed / 50) + 2)
    for (const f of feeds) await f.close()
    await waitFor(() => hub.size === 0, { what: 'the hub to let its clients go' })
    expect(hub.stats()).toMatchObject({ clients: 0, polling: false, heartbeating: false })
    const idle = fake.source.reads
    // four ticks of another hub's timer: time enough for a timer left running to have read
    const clock = hubWith({ now: () => NOON, tickMs: 50 })
    const watcher = feedFrom(clock.hub.subscribe()!.stream)
    await waitFor(() => clock.fake.source.reads >= 4, { what: "four ticks of another hub's timer" })
    await watcher.close()
    clock.hub.close()
    expect(fake.source.reads).toBe(idle)
    hub.close()
  })

  test('a client that stops reading is dropped; the others keep getting counts', async () => {
    const { hub, fake } = hubWith({ now: () => NOON, maxQueueBytes: 4096 })
    let n = 0
    fake.set('2026-11-28', { 'page_view|12': n })
    const slow = hub.subscribe()!
    const fast = feedFrom(hub.subscribe()!.stream)
    snapshotOf(await fast.nextEvent())
    let seen = 0
    while (slow.open) {
      fake.set('2026-11-28', { 'page_view|12': ++n })
      const counts = countsOf(await fast.nextEvent())
      seen = counts.types.page_view!.total
    }
    expect(seen).toBeGreaterThan(5)
    expect(hub.stats()).toMatchObject({ clients: 1, dropped: 1 })
    // the dropped client's stream errors, which makes Bun close its socket
    expect(slow.stream.getReader().read()).rejects.toThrow('fell behind')
    fake.set('2026-11-28', { 'page_view|12': ++n })
    expect(countsOf(await fast.nextEvent()).types.page_view!.total).toBe(n)
    await fast.close()
    hub.close()
  })

  test('the cap refuses the next client, and a freed place is taken again', async () => {
    const { hub } = hubWith({ now: () => NOON, maxClients: 2 })
    const a = hub.subscribe()!
    const b = hub.subscribe()!
    expect(hub.subscribe()).toBeUndefined()
    await a.stream.cancel()
    expect(hub.size).toBe(1)
    const c = hub.subscribe()
    expect(c).toBeDefined()
    await b.stream.cancel()
    await c!.stream.cancel()
    expect(hub.stats()).toMatchObject({ clients: 0, polling: false, heartbeating: false })
    hub.close()
  })

  test('heartbeats at the configured interval', async () => {
    const { hub } = hubWith({ now: () => NOON, heartbeatMs: 40 })
    const feed = feedFrom(hub.subscribe()!.stream)
    const beats: number[] = []
    while (beats.length < 3) {
      const block = await feed.next(1000)
      if (block.comments.includes('heartbeat')) beats.push(block.at)
    }
    expect(beats[2]! - beats[0]!).toBeLessThan(400)
    await feed.close()
    hub.close()
  })

  test('while Redis fails, clients wait with heartbeats and get their snapshot when it is back', async () => {
    const { hub, fake } = hubWith({ now: () => NOON, heartbeatMs: 30 })
    fake.fail(true)
    fake.set('2026-11-28', { 'user_login|12': 2 })
    const feed = feedFrom(hub.subscribe()!.stream)
    await feed.next() // retry preamble
    expect((await feed.next()).comments).toEqual(['heartbeat'])
    await waitFor(() => fake.source.reads >= 3, { what: 'three failed reads' })
    fake.fail(false)
    expect(snapshotOf(await feed.nextEvent()).types.user_login!.total).toBe(2)

    // an outage mid-stream: nobody is handed the old numbers as current; a fresh snapshot follows
    fake.fail(true)
    const reads = fake.source.reads
    await waitFor(() => fake.source.reads >= reads + 2, { what: 'two more failed reads' })
    const late = feedFrom(hub.subscribe()!.stream)
    await late.next() // retry preamble
    expect((await late.next()).comments).toEqual(['heartbeat'])
    fake.set('2026-11-28', { 'user_login|12': 5 })
    fake.fail(false)
    for (const f of [feed, late]) expect(snapshotOf(await f.nextEvent()).types.user_login!.total).toBe(5)
    await feed.close()
    await late.close()
    hub.close()
  })

  test('close() ends every stream, stops the timers and refuses new clients', async () => {
    const { hub } = hubWith({ now: () => NOON })
    const feeds = Array.from({ length: 5 }, () => feedFrom(hub.subscribe()!.stream))
    for (const f of feeds) snapshotOf(await f.nextEvent())
    hub.close()
    for (const f of feeds) {
      await expect(f.next()).rejects.toThrow('the stream ended')
    }
    expect(hub.subscribe()).toBeUndefined()
    expect(hub.stats()).toMatchObject({ clients: 0, polling: false, heartbeating: false })
  })
})

describe('GET /analytics/live against a running server', () => {
  let server: ServerProcess
  const feeds: Feed[] = []
  const open = async (init: Parameters<typeof openFeed>[1] = {}) => {
    const feed = await openFeed(server.url, init)
    feeds.push(feed)
    return feed
  }

  beforeAll(async () => {
    server = await startServerProcess()
  })
  afterAll(async () => {
    for (const f of feeds) await f.close()
    await server?.stop('SIGKILL')
  })

  test('refuses without a valid token, by header or query', async () => {
    const none = await fetch(`${server.url}/analytics/live`)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer')
    expect((await none.json()).error).toContain('missing token')
    const wrong = await fetch(`${server.url}/analytics/live?token=not-the-admin-token`)
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toEqual({ error: 'invalid token' })
    const wrongHeader = await fetch(`${server.url}/analytics/live`, { headers: { authorization: 'Bearer nope' } })
    expect(wrongHeader.status).toBe(401)
    const badTypes = await fetch(`${server.url}/analytics/live?types=page_view,pageviews`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    expect(badTypes.status).toBe(400)
    expect((await badTypes.json()).error).toBe('unknown event type in types: pageviews')
  })

  test('?token= works (what an EventSource sends), with stream headers proxies leave alone', async () => {
    const feed = await open({ token: null, query: `?token=${ADMIN}` })
    const { response } = feed
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('cache-control')).toContain('no-cache')
    expect(response.headers.get('x-accel-buffering')).toBe('no')
    expect((await feed.next()).retry).toBe(2000)
    const first = await feed.nextEvent()
    expect(first.id).toMatch(/^\d+$/)
    expect(Object.keys(snapshotOf(first).types)).toEqual([...EVENT_TYPES])
  })

  test('snapshot first, then counts within 2 s of the beacons, with the right numbers', async () => {
    const feed = await open()
    const snap = snapshotOf(await feed.nextEvent())
    const hour = new Date().getUTCHours()
    expect(snap.day).toBe(new Date().toISOString().slice(0, 10))
    const pv = snap.types.page_view!.total
    const fu = snap.types.feature_used!.total
    const acked = await sendBeacons(server.url, 'page_view', 3)
    await sendBeacons(server.url, 'feature_used', 2)
    const seen = { page_view: pv, feature_used: fu }
    let lastAt = 0
    while (seen.page_view < pv + 3 || seen.feature_used < fu + 2) {
      const m = await feed.nextEvent(2500)
      const counts = countsOf(m)
      expect(m.id).toMatch(/^\d+$/)
      for (const [type, t] of Object.entries(counts.types)) {
        if (type === 'page_view' || type === 'feature_used') seen[type] = t.total
        if (counts.hour === hour) expect(t.hours[hour]).toBe(t.total - sumBefore(snap, type, hour))
      }
      lastAt = m.at
    }
    expect(seen).toEqual({ page_view: pv + 3, feature_used: fu + 2 })
    expect(lastAt - acked).toBeLessThan(2000)
  })

  test('a heartbeat comes within 6 s, and the stream outlives Bun’s 10 s idle timeout', async () => {
    const feed = await open({ query: '?types=subscription_canceled' })
    const opened = Date.now()
    const beats: number[] = []
    while (Date.now() - opened < 11_000) {
      const block = await feed.next(6000)
      if (block.comments.includes('heartbeat')) beats.push(block.at - opened)
    }
    expect(beats[0]).toBeLessThan(6000)
    expect(beats.length).toBeGreaterThanOrEqual(2)
    expect(feed.ended()).toBe(false)
  }, 20_000)

  test('?types= narrows the snapshot and the counts', async () => {
    const feed = await open({ query: '?types=asset_shared' })
    const snap = snapshotOf(await feed.nextEvent())
    expect(Object.keys(snap.types)).toEqual(['asset_shared'])
    const before = snap.types.asset_shared!.total
    await sendBeacons(server.url, 'page_view', 2)
    await sendBeacons(server.url, 'asset_shared', 1)
    for (;;) {
      const counts = countsOf(await feed.nextEvent(2500))
      expect(Object.keys(counts.types).filter((t) => t !== 'asset_shared')).toEqual([])
      if (counts.types.asset_shared) {
        expect(counts.types.asset_shared.total).toBe(before + 1)
        break
      }
    }
  })

  test('a reconnect with Last-Event-ID gets a fresh snapshot with current numbers', async () => {
    const feed = await open({ query: '?types=asset_downloaded' })
    const first = await feed.nextEvent()
    const before = snapshotOf(first).types.asset_downloaded!.total
    await sendBeacons(server.url, 'asset_downloaded', 4)
    let last = first
    for (;;) {
      last = await feed.nextEvent(2500)
      if (countsOf(last).types.asset_downloaded?.total === before + 4) break
    }
    await feed.close()
    const again = await open({ query: '?types=asset_downloaded', headers: { 'last-event-id': last.id! } })
    const snap = await again.nextEvent()
    expect(snap.event).toBe('snapshot')
    expect(snapshotOf(snap).types.asset_downloaded!.total).toBe(before + 4)
    expect(Number(snap.id)).toBeGreaterThanOrEqual(Number(last.id))
  })

  test('GET /live serves the page and its files, with nothing from elsewhere', async () => {
    const page = await fetch(`${server.url}/live`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    const html = await page.text()
    expect(html).toContain('<script src="live.js"')
    expect(html).toContain('<link rel="stylesheet" href="live.css"')
    for (const path of ['/live.js', '/live.css']) {
      const res = await fetch(`${server.url}${path}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toContain(path.endsWith('.js') ? 'text/javascript' : 'text/css')
      const body = await res.text()
      expect(body.length).toBeGreaterThan(500)
      expect(body).not.toMatch(/(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?\/\//i)
    }
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i)
  })

  test('GET /live/ redirects to /live, query kept (under /live/ the page’s relative URLs would 404)', async () => {
    const res = await fetch(`${server.url}/live/?types=page_view`, { redirect: 'manual' })
    expect(res.status).toBe(308)
    expect(new URL(res.headers.get('location') ?? '', `${server.url}/live/`).href).toBe(
      `${server.url}/live?types=page_view`,
    )
    expect((await fetch(`${server.url}/live?types=page_view`, { redirect: 'manual' })).status).toBe(200)
  })
})

/** Today's count of `type` outside `hour`, from a snapshot (hours before `hour` no longer change). */
function sumBefore(snap: ReturnType<typeof snapshotOf>, type: string, hour: number): number {
  const hours = snap.types[type as keyof typeof snap.types]?.hours ?? []
  return hours.reduce((a, n, h) => (h === hour ? a : a + n), 0)
}

describe('LIVE_MAX_CLIENTS', () => {
  test('beyond the cap: 503 with Retry-After; a freed place is taken again', async () => {
    const server = await startServerProcess({ LIVE_MAX_CLIENTS: '2' })
    const feeds: Feed[] = []
    try {
      for (let i = 0; i < 2; i++) {
        const feed = await openFeed(server.url)
        feeds.push(feed)
        expect(feed.response.status).toBe(200)
        snapshotOf(await feed.nextEvent())
      }
      const refused = await fetch(`${server.url}/analytics/live`, { headers: { authorization: `Bearer ${ADMIN}` } })
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('5')
      expect((await refused.json()).error).toContain('retry later')
      await feeds.shift()!.close()
      const again = await waitFor(
        async () => {
          const feed = await openFeed(server.url)
          if (feed.response.status === 200) return feed
          await feed.close()
          return undefined
        },
        { what: 'the freed place to be taken again', intervalMs: 20 },
      )
      feeds.push(again)
      snapshotOf(await again.nextEvent())
    } finally {
      for (const f of feeds) await f.close()
      await server.stop('SIGKILL')
    }
  })
})

describe('visitors_now against real Redis, on a clock the test moves', () => {
  test('a visitor counts for 5 minutes, then drops; a second visitor is added and dropped in turn', async () => {
    let now = Date.parse('2026-11-28T12:00:10Z')
    // visitors told apart by the address the proxy saw
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const visit = async (ip: string) =>
      expect((await app.handle(beaconRequest({ event_type: 'page_view' }, { ip }))).status).toBe(202)
    const feed = feedFrom(deps.live.subscribe()!.stream)
    await feed.next() // retry
    expect(snapshotOf(await feed.nextEvent()).visitors_now).toBe(0)
    /** the next visitors_now the feed pushes */
    const nextVisitorsNow = async () => {
      for (;;) {
        const data = JSON.parse((await feed.nextEvent()).data ?? '{}') as { visitors_now?: number }
        if (data.visitors_now !== undefined) return data.visitors_now
      }
    }

    await visit('198.51.100.1')
    await visit('198.51.100.1') // the same visitor twice is one
    expect(await nextVisitorsNow()).toBe(1)
    now += 3 * 60_000 // 12:03:10, the first visitor still counts
    await visit('198.51.100.2')
    expect(await nextVisitorsNow()).toBe(2)
    now += 60_000 // 12:04:10: both within the last 5 minutes
    now += 60_000 // 12:05:10: the first visitor's minute (12:00) is 5 minutes old, and gone
    expect(await nextVisitorsNow()).toBe(1)
    now += 4 * 60_000 // 12:09:10: the second visitor's minute (12:03) is gone too
    expect(await nextVisitorsNow()).toBe(0)
    await feed.close()
    deps.live.close()
  })
})

describe('today in TIME_ZONE on the live feed', () => {
  test('pure: today is the reading of the zone’s day, apart from the UTC hours; a new zone day is sent whole', () => {
    // 02:00 UTC on 29 November is 18:00 on 28 November in Los Angeles
    const clock = clockOf(Date.parse('2026-11-29T02:00:00Z'))
    const zone = (day: string, hour: number, fields: Record<string, string>) => ({
      day,
      timeZone: 'America/Los_Angeles',
      hour,
      fields,
    })
    const prev = liveState(
      { 'page_view|02': '3' },
      v(1),
      clock,
      zone('2026-11-28', 18, { page_view: '5', 'page_view|15': '2', 'page_view|18': '3' }),
    )
    expect(snapshotFor(prev, ['page_view'])).toMatchObject({
      day: '2026-11-29',
      types: { page_view: { total: 3 } },
      today: {
        day: '2026-11-28',
        time_zone: 'America/Los_Angeles',
        hour: 18,
        totals: { page_view: 5 },
        hours: { page_view: Array.from({ length: 24 }, (_, h) => (h === 15 ? 2 : h === 18 ? 3 : 0)) },
      },
    })
    // a field that is not an event type or an hour is ignored, as in the hourly hash
    const odd = liveState(
      {},
      v(0),
      clock,
      zone('2026-11-28', 18, { nonsense: '7', page_view: 'x', 'page_view|24': '1', 'nope|01': '1' }),
    )
    expect(odd.today.totals.page_view).toBe(0)
    expect(odd.today.hours.page_view.every((n) => n === 0)).toBe(true)

    // the zone's day moves on while the UTC day stays: the new day's counts, every watched type
    const next = liveState(
      { 'page_view|02': '3', 'page_view|08': '1' },
      v(1),
      clock,
      zone('2026-11-29', 0, { page_view: '1', 'page_view|00': '1' }),
    )
    const diff = diffStates(prev, next) as LiveDiff
    expect(diff.todayDayChanged).toBe(true)
    expect(countsFor(diff, next, ['page_view', 'feature_used'])).toEqual({
      day: '2026-11-29',
      hour: 2,
      types: { page_view: { total: 4, hours: { 8: 1 } } },
      // the hours that differ from the day before's: the client keeps the others as they were
      today: {
        day: '2026-11-29',
        time_zone: 'America/Los_Angeles',
        hour: 0,
        totals: { page_view: 1, feature_used: 0 },
        hours: { page_view: { 0: 1, 15: 0, 18: 0 } },
      },
    })
  })

  test('against real Redis: the zone’s day spans two UTC days, outlives a flush and rolls over at its own midnight', async () => {
    let now = Date.parse('2026-11-28T23:00:00Z') // 15:00 on 28 November in Los Angeles
    const { app, deps } = await testApp({ timeZone: 'America/Los_Angeles' }, { now: () => now })
    const views = async (n: number) => {
      for (let i = 0; i < n; i++) {
        expect((await app.handle(beaconRequest({ event_type: 'page_view', properties: { path: '/' } }))).status).toBe(
          202,
        )
      }
    }
    await views(2)
    now = Date.parse('2026-11-29T02:00:00Z') // 18:00 the same day there; a new UTC day
    await views(3)
    await deps.flusher.flush()

    const feed = feedFrom(deps.live.subscribe(['page_view'])!.stream)
    await feed.next() // retry
    const snap = snapshotOf(await feed.nextEvent())
    expect(snap.day).toBe('2026-11-29')
    expect(snap.types.page_view!.total).toBe(3)
    // today's hours are Los Angeles's: 2 at 15:00 and 3 at 18:00
    expect(snap.today).toEqual({
      day: '2026-11-28',
      time_zone: 'America/Los_Angeles',
      hour: 18,
      totals: { page_view: 5 },
      hours: { page_view: Array.from({ length: 24 }, (_, h) => (h === 15 ? 2 : h === 18 ? 3 : 0)) },
    })

    now = Date.parse('2026-11-29T08:30:00Z') // 00:30 on 29 November there
    await views(1)
    for (;;) {
      const counts = countsOf(await feed.nextEvent())
      if (counts.today?.day !== '2026-11-29') continue
      expect(counts.today).toEqual({
        day: '2026-11-29',
        time_zone: 'America/Los_Angeles',
        hour: 0,
        totals: { page_view: 1 },
        hours: { page_view: { 0: 1, 15: 0, 18: 0 } },
      })
      break
    }
    await feed.close()
    deps.live.close()
  })
})
