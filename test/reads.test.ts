import { describe, expect, test } from 'bun:test'
import { SignJWT } from 'jose'
import { dayOf } from '../src/counters/keys.ts'
import { addDays } from '../src/time.ts'
import { beaconRequest, ingestRequest, testApp } from './app.ts'
import { duringFlushes } from './during-flushes.ts'

const ADMIN = 'test-admin-token-0123456789'
const JWT_SECRET = 'test-jwt-secret-0123456789abcdef'
const H = 3_600_000

type App = Awaited<ReturnType<typeof testApp>>['app']

const get = (app: App, path: string, token: string | null = ADMIN) =>
  app.handle(new Request(`http://localhost${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }))
const json = async (app: App, path: string, token?: string | null) => {
  const res = await get(app, path, token)
  expect(res.status).toBe(200)
  return res.json()
}
const flush = async (app: App) =>
  (
    await app.handle(
      new Request('http://localhost/analytics/flush', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}` },
      }),
    )
  ).json()
const send = async (app: App, events: Record<string, unknown>[]) => {
  for (let i = 0; i < events.length; i += 1000) {
    const res = await app.handle(ingestRequest(events.slice(i, i + 1000)))
    expect(res.status).toBe(202)
  }
}

describe('GET /analytics/stats', () => {
  test('equals the events sent before a flush, after it, and after more events', async () => {
    const { app } = await testApp()
    const today = dayOf(Date.now())
    await send(
      app,
      Array.from({ length: 7 }, () => ({ event_type: 'user_login' })),
    )
    const q = `/analytics/stats?event_type=user_login&from=${addDays(today, -2)}&to=${today}`
    const before = await json(app, q)
    expect(before).toEqual({
      metric: 'events',
      event_type: 'user_login',
      granularity: 'day',
      tz: 'UTC',
      from: addDays(today, -2),
      to: today,
      series: [
        { t: addDays(today, -2), count: 0 },
        { t: addDays(today, -1), count: 0 },
        { t: today, count: 7 },
      ],
      total: 7,
    })
    await flush(app)
    expect(await json(app, q)).toEqual(before)
    await send(app, [{ event_type: 'user_login' }, { event_type: 'user_login', timestamp: Date.now() - 86_400_000 }])
    const after = await json(app, q)
    expect(after.series.map((p: { count: number }) => p.count)).toEqual([0, 1, 8])
    expect(after.total).toBe(9)
    // all types together
    expect((await json(app, `/analytics/stats?from=${today}&to=${today}`)).total).toBe(8)
  })

  test('never dips or doubles while flushes run', async () => {
    const { app, deps } = await testApp()
    const today = dayOf(Date.now())
    const paths = [
      `/analytics/stats?event_type=page_view&from=${today}&to=${today}`,
      `/analytics/stats?event_type=page_view&granularity=hour&from=${today}&to=${today}`,
    ]
    let i = 0
    // at least 40 requests, and as many as it takes for several flushes and reads to run among them
    const { seen, sent } = await duringFlushes({
      flush: () => deps.flusher.flush(),
      read: async () => (await json(app, paths[i++ % 2]!)).total as number,
      send: async () => {
        const res = await app.handle(
          beaconRequest(Array.from({ length: 5 }, () => ({ event_type: 'page_view', properties: { path: '/x' } }))),
        )
        expect(res.status).toBe(202)
        return 5
      },
      rounds: 40,
      reads: 11,
      flushes: 4,
      maxRounds: 2000,
      pauseMs: 2,
      flushPauseMs: () => Math.random() * 5,
    })
    expect(seen.length).toBeGreaterThan(10)
    // every read lies between what was acknowledged before it started and after it ended
    for (const s of seen) {
      expect(s.answer).toBeGreaterThanOrEqual(s.before)
      expect(s.answer).toBeLessThanOrEqual(s.after)
    }
    const rows = await deps.pool.query('SELECT count(*)::int AS n FROM analytics_flush_log')
    expect(rows.rows[0].n).toBeGreaterThanOrEqual(4)
    expect((await json(app, paths[0]!)).total).toBe(sent)
  })

  test('a tz=America/Los_Angeles daily series differs from UTC exactly as the hourly data implies', async () => {
    const { app } = await testApp()
    const day = addDays(dayOf(Date.now()), -3)
    const at = (hour: number) => Date.parse(`${day}T${String(hour).padStart(2, '0')}:30:00Z`)
    // 05:30 UTC is the evening before in Los Angeles; 12:30 and 20:30 UTC are the same day there
    await send(app, [
      { event_type: 'asset_shared', timestamp: at(5) },
      { event_type: 'asset_shared', timestamp: at(12) },
      { event_type: 'asset_shared', timestamp: at(20) },
      { event_type: 'asset_shared', timestamp: at(20) },
    ])
    await flush(app)
    await send(app, [{ event_type: 'asset_shared', timestamp: at(5) }]) // one unflushed
    const range = `event_type=asset_shared&from=${addDays(day, -1)}&to=${day}`
    const utc = await json(app, `/analytics/stats?${range}`)
    expect(utc.series).toEqual([
      { t: addDays(day, -1), count: 0 },
      { t: day, count: 5 },
    ])
    const la = await json(app, `/analytics/stats?${range}&tz=America/Los_Angeles`)
    expect(la.series).toEqual([
      { t: addDays(day, -1), count: 2 },
      { t: day, count: 3 },
    ])
    const hourly = await json(app, `/analytics/stats?${range}&granularity=hour&tz=America/Los_Angeles`)
    expect(hourly.series).toHaveLength(48)
    const nonZero = hourly.series.filter((p: { count: number }) => p.count > 0)
    expect(nonZero).toEqual([
      { t: new Date(Date.parse(`${day}T05:00:00Z`)).toISOString(), count: 2 },
      { t: new Date(Date.parse(`${day}T12:00:00Z`)).toISOString(), count: 1 },
      { t: new Date(Date.parse(`${day}T20:00:00Z`)).toISOString(), count: 2 },
    ])
    expect(hourly.total).toBe(5)
  })

  test('a zone in any spelling answers under its canonical name', async () => {
    const { app } = await testApp()
    const day = addDays(dayOf(Date.now()), -1)
    await send(app, [{ event_type: 'asset_shared', timestamp: Date.parse(`${day}T12:00:00Z`) }])
    const berlin = await json(app, `/analytics/stats?from=${day}&to=${day}&tz=europe/berlin`)
    expect(berlin.tz).toBe('Europe/Berlin')
    expect(berlin.total).toBe(1)
    expect(await json(app, `/analytics/stats?from=${day}&to=${day}&tz=EUROPE/BERLIN`)).toEqual(berlin)
    expect((await json(app, `/analytics/stats?from=${day}&to=${day}&tz=utc`)).tz).toBe('UTC')
    // top counts UTC days, whichever way UTC is spelled
    expect((await get(app, `/analytics/top?tz=utc`)).status).toBe(200)
  })

  test('a local day the zone skipped (Samoa went from 2011-12-29 to 2011-12-31) is an empty day', async () => {
    const { app } = await testApp()
    const range = 'from=2011-12-30&to=2011-12-30&tz=Pacific/Apia'
    const daily = await json(app, `/analytics/stats?${range}`)
    expect(daily.series).toEqual([{ t: '2011-12-30', count: 0 }])
    expect(daily.total).toBe(0)
    const hourly = await json(app, `/analytics/stats?${range}&granularity=hour`)
    expect(hourly.series).toEqual([])
    expect(hourly.total).toBe(0)
    // the days around it have their hours
    const around = await json(app, '/analytics/stats?from=2011-12-29&to=2011-12-31&tz=Pacific/Apia&granularity=hour')
    expect(around.series).toHaveLength(48)
  })

  test('bad parameters are answered 422 naming the parameter', async () => {
    const { app } = await testApp()
    const cases: [string, string][] = [
      ['event_type=nope', 'event_type'],
      ['from=2026-02-30', 'from'],
      ['to=yesterday', 'to'],
      ['from=2026-05-02&to=2026-05-01', 'from'],
      ['tz=Mars/Olympus', 'tz'],
      ['granularity=year', 'granularity'],
      ['from=2025-01-01&to=2026-05-01', 'to'],
      ['granularity=hour&from=2026-01-01&to=2026-03-01', 'to'],
      // outside the years every read takes (1970-2999)
      ['from=1969-12-31&to=1970-01-01', 'from'],
      ['from=2999-12-31&to=3000-01-01', 'to'],
    ]
    for (const [query, parameter] of cases) {
      const res = await get(app, `/analytics/stats?${query}`)
      expect(res.status).toBe(422)
      const body = await res.json()
      expect(body.parameter).toBe(parameter)
      expect(body.error).toStartWith(parameter)
    }
    const limit = await get(app, '/analytics/top?limit=0')
    expect(limit.status).toBe(422)
    expect((await limit.json()).parameter).toBe('limit')
    expect((await get(app, '/analytics/top?dimension=user')).status).toBe(422)
    expect((await get(app, '/analytics/stats?from=2025-01-01&to=2026-02-05')).status).toBe(422)
    expect((await get(app, '/analytics/stats?from=2025-01-01&to=2026-02-04')).status).toBe(200)
  })

  test('a parameter a read does not take is refused, not silently ignored', async () => {
    const { app } = await testApp()
    for (const path of [
      '/analytics/top?dimension=source&source=Google',
      '/analytics/stats?event_type=page_view&page=%2Fpricing',
      '/analytics/stats?Granularity=hour',
    ]) {
      const res = await get(app, path)
      const body = await res.json()
      const name = [...new URL(`http://x${path}`).searchParams.keys()].at(-1)!
      expect({ path, status: res.status, parameter: body.parameter }).toEqual({ path, status: 422, parameter: name })
      expect(body.error).toStartWith(`${name} is not a parameter of this read; it takes `)
    }
    expect((await get(app, '/analytics/top?dimension=source&limit=5&format=csv')).status).toBe(200)
  })
})

describe('GET /analytics/top', () => {
  test('ranks stored and unflushed counts together', async () => {
    const { app } = await testApp()
    const feature = (name: string, n: number) =>
      Array.from({ length: n }, () => ({ event_type: 'feature_used', properties: { feature_name: name } }))
    await send(app, [...feature('export', 5), ...feature('share', 3), ...feature('crop', 1)])
    await flush(app)
    await send(app, [...feature('crop', 4), ...feature('rotate', 2)])
    const top = await json(app, '/analytics/top?dimension=feature&limit=3')
    expect(top.items).toEqual([
      { name: 'crop', count: 5 },
      { name: 'export', count: 5 },
      { name: 'share', count: 3 },
    ])
  })
})

describe('GET /analytics/dashboard', () => {
  test('a scripted scenario across days, users, features and pages', async () => {
    const { app } = await testApp({ trustProxy: { hops: 1 } })
    const now = Date.now()
    const today = dayOf(now)
    const hour = new Date(now).getUTCHours()
    const yesterday = now - 86_400_000
    const gen = (user: string, at = now) => ({ event_type: 'generation_completed', user_id: user, timestamp: at })
    await send(app, [
      gen('alice', yesterday),
      gen('alice', yesterday),
      gen('bob', now - 10 * 86_400_000),
      { event_type: 'user_signup', user_id: 'carol', timestamp: yesterday },
      { event_type: 'feature_used', user_id: 'alice', properties: { feature_name: 'upscale' }, timestamp: yesterday },
    ])
    await flush(app)
    await send(app, [
      gen('alice'),
      gen('dave'),
      gen('dave'),
      { event_type: 'user_signup', user_id: 'dave' },
      { event_type: 'feature_used', user_id: 'dave', properties: { feature_name: 'upscale' } },
      { event_type: 'feature_used', properties: { feature_name: 'crop' } },
    ])
    for (const ip of ['192.0.2.1', '192.0.2.2']) {
      await app.handle(beaconRequest({ event_type: 'page_view', properties: { path: '/home' } }, { ip }))
    }
    await app.handle(beaconRequest({ event_type: 'page_view', properties: { path: '/pricing/' } }, { ip: '192.0.2.1' }))

    const d = await json(app, '/analytics/dashboard')
    expect(Object.keys(d).sort()).toEqual(
      [
        'day',
        'time_zone',
        'total_generations',
        'total_users',
        'generations_today',
        'signups_today',
        'page_views_today',
        'visitors_today',
        'hourly_generations',
        'daily_trend',
        'top_features',
        'top_pages',
        'visits_today',
        'visitors_7d',
        'visitors_30d',
        'top_sources',
        'top_countries',
        'devices',
        'browsers',
      ].sort(),
    )
    expect(d.total_generations).toBe(6)
    expect(d.total_users).toBe(4) // alice, bob, carol, dave
    expect(d.generations_today).toBe(3)
    expect(d.signups_today).toBe(1)
    expect(d.page_views_today).toBe(3)
    expect(d.visitors_today).toBe(2)
    expect(Object.keys(d.hourly_generations)).toHaveLength(24)
    expect(d.hourly_generations[String(hour)]).toBe(3)
    expect(Object.values(d.hourly_generations).reduce((a, b) => (a as number) + (b as number), 0)).toBe(3)
    expect(Object.keys(d.daily_trend)).toHaveLength(30)
    expect(d.daily_trend[today]).toBe(3)
    expect(d.daily_trend[dayOf(yesterday)]).toBe(2)
    expect(d.daily_trend[dayOf(now - 10 * 86_400_000)]).toBe(1)
    expect(d.top_features).toEqual([
      { feature: 'upscale', usage: 2 },
      { feature: 'crop', usage: 1 },
    ])
    expect(d.top_pages).toEqual([
      { path: '/home', views: 2 },
      { path: '/pricing', views: 1 },
    ])
    // the same answer once everything is flushed
    await flush(app)
    expect(await json(app, '/analytics/dashboard')).toEqual(d)
  })
})

describe('per-user analytics', () => {
  const sign = (claims: Record<string, unknown>, secret = JWT_SECRET, exp: string | number = '1h') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret))

  test('/analytics/users/:id counts every event type of the user, before a flush, after it, and after more', async () => {
    const { app } = await testApp()
    const now = Date.now()
    const today = dayOf(now)
    const old = now - 29 * 86_400_000
    const inMonth = (t: number) => (dayOf(t).startsWith(today.slice(0, 7)) ? 1 : 0)
    const event = (event_type: string, user_id: string, timestamp = now) => ({ event_type, user_id, timestamp })
    await send(app, [
      event('user_signup', 'u-7'),
      event('user_login', 'u-7'),
      event('user_login', 'u-7', now - 86_400_000),
      event('feature_used', 'u-7'),
      event('feature_used', 'u-7'),
      event('feature_used', 'u-8'),
      event('feature_used', 'u-7', old),
      { event_type: 'page_view' },
    ])
    const yesterdayInMonth = inMonth(now - 86_400_000)
    const expected = {
      generations_today: 0,
      generations_this_month: 0,
      generations_total: 0,
      events: {
        user_signup: { today: 1, this_month: 1, total: 1 },
        user_login: { today: 1, this_month: 1 + yesterdayInMonth, total: 2 },
        feature_used: { today: 2, this_month: 2 + inMonth(old), total: 3 },
      },
    }
    const before = await json(app, '/analytics/users/u-7')
    expect(before).toEqual(expected)
    // a type's key order is the event types' own, whatever order they were counted in
    expect(Object.keys(before.events)).toEqual(['user_signup', 'user_login', 'feature_used'])
    await flush(app)
    expect(await json(app, '/analytics/users/u-7')).toEqual(expected)
    await send(app, [event('generation_completed', 'u-7'), event('user_login', 'u-7')])
    expect(await json(app, '/analytics/users/u-7')).toEqual({
      ...expected,
      generations_today: 1,
      generations_this_month: 1,
      generations_total: 1,
      events: {
        generation_completed: { today: 1, this_month: 1, total: 1 },
        ...expected.events,
        user_login: { today: 2, this_month: 2 + yesterdayInMonth, total: 3 },
      },
    })
    // someone never counted, before and after a flush
    for (const round of ['before', 'after']) {
      if (round === 'after') await flush(app)
      expect({ round, answer: await json(app, '/analytics/users/never-seen') }).toEqual({
        round,
        answer: { generations_today: 0, generations_this_month: 0, generations_total: 0, events: {} },
      })
    }
  })

  test('/analytics/me with a valid, an expired and a forged JWT; /analytics/users/:id for admins', async () => {
    const { app } = await testApp()
    const now = Date.now()
    const today = dayOf(now)
    const month = today.slice(0, 7)
    const gen = (user: string, at = now) => ({ event_type: 'generation_completed', user_id: user, timestamp: at })
    // spread over the last four weeks: some last month (most days of the month), some this month
    const times = [now - 27 * 86_400_000, now - 20 * 86_400_000, now - 2 * 86_400_000, now - H, now]
    const flushed = [...times.map((t) => gen('u-1', t)), gen('u-2')]
    await send(app, flushed)
    await flush(app)
    await send(app, [gen('u-1'), { event_type: 'user_login', user_id: 'u-1' }])
    const mine = [...times, now]
    const generations = {
      today: mine.filter((t) => dayOf(t) === today).length,
      this_month: mine.filter((t) => dayOf(t).startsWith(month)).length,
      total: mine.length,
    }
    const expected = {
      generations_today: generations.today,
      generations_this_month: generations.this_month,
      generations_total: generations.total,
      events: { generation_completed: generations, user_login: { today: 1, this_month: 1, total: 1 } },
    }
    expect(expected.generations_total).toBe(6)
    const me = await get(app, '/analytics/me', await sign({ sub: 'u-1' }))
    expect(me.status).toBe(200)
    expect(await me.json()).toEqual(expected)
    expect(await json(app, '/analytics/users/u-1')).toEqual(expected)
    // the path parameter is decoded once: an id with % in it is that id
    await send(app, [gen('50%off'), gen('50%off')])
    expect((await json(app, `/analytics/users/${encodeURIComponent('50%off')}`)).generations_total).toBe(2)
    expect((await get(app, '/analytics/users/%E0%A4%A')).status).toBe(422)
    expect(await json(app, '/analytics/users/nobody')).toEqual({
      generations_today: 0,
      generations_this_month: 0,
      generations_total: 0,
      events: {},
    })

    const expired = await get(app, '/analytics/me', await sign({ sub: 'u-1' }, JWT_SECRET, Math.floor(now / 1000) - 60))
    expect(expired.status).toBe(401)
    expect((await expired.json()).error).toBe('token has expired')
    const forged = await get(app, '/analytics/me', await sign({ sub: 'u-1' }, 'another-secret-0123456789abcdef'))
    expect(forged.status).toBe(401)
    expect((await forged.json()).error).toBe('token signature is invalid')
    const none = await get(app, '/analytics/me', null)
    expect(none.status).toBe(401)
    const garbage = await get(app, '/analytics/me', 'not.a.jwt')
    expect(garbage.status).toBe(401)
    const noExp = await get(
      app,
      '/analytics/me',
      await new SignJWT({ sub: 'u-1' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(JWT_SECRET)),
    )
    expect(noExp.status).toBe(401)
    expect((await noExp.json()).error).toBe('token must carry an exp (expiry) claim')
    const noSub = await get(app, '/analytics/me', await sign({}))
    expect((await noSub.json()).error).toBe('token has no usable sub (user id)')
    // the admin token is not a user token, and a user token is not an admin token
    expect((await get(app, '/analytics/me', ADMIN)).status).toBe(401)
    expect((await get(app, '/analytics/users/u-1', await sign({ sub: 'u-1' }))).status).toBe(401)
  })
  test("a user id follows the events' rule: with a control character it is refused, odd ones are counted", async () => {
    const { app } = await testApp()
    const now = Date.now()
    const gen = (user: string) => ({ event_type: 'generation_completed', user_id: user, timestamp: now })
    // a NUL reached Postgres (text cannot hold it) and answered 500
    for (const sub of ['\u0000', 'u-1\u0000', 'a\u007fb', 'line\nbreak', 'x'.repeat(129)]) {
      const res = await get(app, '/analytics/me', await sign({ sub }))
      expect({ sub, status: res.status }).toEqual({ sub, status: 401 })
      expect((await res.json()).error).toBe(
        'token sub (user id) must be 1-128 characters, none of them control characters',
      )
    }
    for (const id of ['%00', 'u-1%00', 'a%7Fb', 'line%0Abreak']) {
      const res = await get(app, `/analytics/users/${id}`)
      expect({ id, status: res.status }).toEqual({ id, status: 422 })
      const body = await res.json()
      expect(body.parameter).toBe('id')
      expect(body.error).toBe('id must be 1-128 characters, none of them control characters')
    }
    // odd but valid: what an event may carry as user_id, a read finds, flushed or not
    const odd = ['é'.repeat(128), '🙂|{tag}', ' ', '\u00a0\u200b', '\ud800']
    await send(app, odd.map(gen))
    await flush(app)
    await send(app, odd.map(gen))
    for (const sub of odd) {
      const res = await get(app, '/analytics/me', await sign({ sub }))
      expect({ sub, status: res.status }).toEqual({ sub, status: 200 })
      expect({ sub, total: (await res.json()).generations_total }).toEqual({ sub, total: 2 })
    }
    // a lone surrogate cannot be written in a URL (its UTF-8 escapes are malformed)
    for (const id of odd.slice(0, 4)) {
      expect({ id, total: (await json(app, `/analytics/users/${encodeURIComponent(id)}`)).generations_total }).toEqual({
        id,
        total: 2,
      })
    }
    expect((await get(app, '/analytics/users/%ED%A0%80')).status).toBe(422)
  })
})

describe('admin routes', () => {
  const routes = ['/analytics/stats', '/analytics/top', '/analytics/dashboard', '/analytics/users/u-1', '/metrics']

  test('refuse a missing and a wrong token', async () => {
    const { app } = await testApp()
    for (const route of routes) {
      expect({ route, status: (await get(app, route, null)).status }).toEqual({ route, status: 401 })
      expect({ route, status: (await get(app, route, 'wrong-token-wrong-token')).status }).toEqual({
        route,
        status: 401,
      })
      expect({ route, status: (await get(app, route)).status }).toEqual({ route, status: 200 })
    }
  })

  test('refuse everything when ADMIN_TOKEN is unset', async () => {
    const { app } = await testApp({ adminToken: undefined })
    for (const route of [...routes, '/analytics/flush']) {
      const method = route === '/analytics/flush' ? 'POST' : 'GET'
      for (const token of [null, 'undefined', '']) {
        const res = await app.handle(
          new Request(`http://localhost${route}`, {
            method,
            headers: token ? { authorization: `Bearer ${token}` } : {},
          }),
        )
        expect({ route, status: res.status }).toEqual({ route, status: 401 })
      }
    }
  })
})

describe('exact reads', () => {
  test('a flush landing between the Redis view and the Postgres read is neither lost nor doubled', async () => {
    const { exactRead, committedSql } = await import('../src/read/exact.ts')
    const { SqlParams } = await import('../src/read/sql.ts')
    const { app, deps } = await testApp()
    await send(
      app,
      Array.from({ length: 10 }, () => ({ event_type: 'user_login' })),
    )
    // a snapshot left behind by a crashed flush: moved, not written
    await deps.redis.rename(deps.keys.shards[0]!.pending('d'), deps.keys.shards[0]!.snapshot('left-over', 'd'))
    await deps.redis.zAdd(deps.keys.shards[0]!.snapshots, { score: 1, value: 'left-over' })
    await send(
      app,
      Array.from({ length: 5 }, () => ({ event_type: 'user_login' })),
    )

    let flushes = 0
    let attempts = 0
    const { history, unflushed } = await exactRead(deps.redis, deps.keys, { all: ['d'] }, async (view) => {
      attempts++
      // the first time, a whole flush (replay of the leftover + move + commit) runs in between
      if (flushes++ === 0) expect(await deps.flusher.flush()).toBeGreaterThan(0)
      const p = new SqlParams(0)
      const r = await deps.pool.query(
        `SELECT (SELECT coalesce(sum(count), 0)::int FROM analytics_daily) AS n, ${committedSql(p, view.batchIds)} AS committed`,
        p.values,
      )
      return { result: r.rows[0].n as number, committed: r.rows[0].committed as string[] }
    })
    const pending = [...(unflushed.d ?? new Map()).values()].reduce((a, b) => a + b, 0)
    expect(history + pending).toBe(15)
    expect(attempts).toBe(2)
  })
})
