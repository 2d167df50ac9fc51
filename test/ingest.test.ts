import { describe, expect, test } from 'bun:test'
import { createApp } from '../src/app.ts'
import { dayOf } from '../src/counters/keys.ts'
import { openRedis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import { silentLogger } from '../src/log.ts'
import { allKeys, beaconRequest, hash, ingestRequest, pendingTotal, testApp } from './app.ts'
import { proxyFor } from './tcp-proxy.ts'
import { waitFor } from './wait.ts'

/** Keys that name members of Object.prototype (or look like they might), which a lookup in a plain object would find. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']

describe('POST /analytics/events', () => {
  test('counts a batch of any types, with timestamps in their own buckets', async () => {
    const { app, deps } = await testApp()
    const twoDaysAgo = Date.now() - 2 * 86_400_000
    const res = await app.handle(
      ingestRequest([
        { event_type: 'generation_completed', user_id: 'u1', properties: { feature_name: 'upscale' } },
        { event_type: 'generation_completed', user_id: 'u1', timestamp: twoDaysAgo },
        { event_type: 'user_signup', user_id: 'u2', timestamp: new Date(twoDaysAgo).toISOString() },
        { event_type: 'page_view', properties: { path: '/server-rendered/' } },
      ]),
    )
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ accepted: 4 })
    const today = dayOf(Date.now())
    const then = dayOf(twoDaysAgo)
    expect(await hash(deps, deps.keys.shards[0]!.pending('d'))).toEqual({
      [`${today}|generation_completed`]: 1,
      [`${then}|generation_completed`]: 1,
      [`${then}|user_signup`]: 1,
      [`${today}|page_view`]: 1,
    })
    expect(await hash(deps, deps.keys.shards[0]!.pending('u'))).toEqual({
      [`${today}|generation_completed|u1`]: 1,
      [`${then}|generation_completed|u1`]: 1,
      [`${then}|user_signup|u2`]: 1,
    })
    expect(await hash(deps, deps.keys.shards[0]!.pending('p'))).toEqual({ [`${today}|/server-rendered`]: 1 })
    // server events carry no visitor
    expect(await deps.redis.exists(deps.keys.visitors(today))).toBe(0)
  })

  test('a batch with one bad event counts nothing and lists the problem', async () => {
    const { app, deps } = await testApp()
    const res = await app.handle(
      ingestRequest([
        { event_type: 'user_login', user_id: 'ok' },
        { event_type: 'user_login', timestamp: Date.now() - 40 * 86_400_000 },
        { event_type: 'user_login', user_id: 'ok' },
      ]),
    )
    expect(res.status).toBe(422)
    expect(await res.json()).toEqual({
      error: 'invalid events; none were counted',
      errors: [{ index: 1, field: 'timestamp', reason: 'is more than 30 days old' }],
    })
    expect(await allKeys(deps)).toEqual([])
  })

  test('keys such as __proto__ and constructor, at the top or in properties: 422, each with a reason, nothing counted', async () => {
    const { app, deps } = await testApp()
    for (const key of PROTOTYPE_KEYS) {
      // raw JSON: an object literal's __proto__ would set its prototype, not send the key
      const body =
        `[{"event_type":"user_login","user_id":"ok"},{"event_type":"user_signup","${key}":1},` +
        `{"event_type":"user_login","properties":{"${key}":{"a":1}}}]`
      const res = await app.handle(ingestRequest(body, { raw: true }))
      expect({ key, status: res.status }).toEqual({ key, status: 422 })
      const answer = await res.json()
      expect(answer.error).toBe('invalid events; none were counted')
      expect(answer.errors.map((e: { index: number; field: string }) => [e.index, e.field])).toEqual([
        [1, key],
        [2, `properties.${key}`],
      ])
      for (const e of answer.errors) {
        expect({ key, reason: typeof e.reason }).toEqual({ key, reason: 'string' })
        expect(e.reason.length).toBeGreaterThan(0)
      }
    }
    expect(await allKeys(deps)).toEqual([])
  })

  test('a user id is held to the rule reads use: one of 100 emoji is refused, one of 64 is counted and found', async () => {
    const { app } = await testApp()
    const admin = { authorization: 'Bearer test-admin-token-0123456789' }
    const long = '🙂'.repeat(100) // 100 code points, 200 UTF-16 units
    for (const request of [
      ingestRequest([{ event_type: 'user_login', user_id: long }]),
      beaconRequest({ event_type: 'page_view', user_id: long }),
    ]) {
      const res = await app.handle(request)
      expect(res.status).toBe(422)
      expect((await res.json()).errors).toEqual([
        { index: 0, field: 'user_id', reason: 'must be 1-128 characters, none of them control characters' },
      ])
    }
    const fits = '🙂'.repeat(64)
    expect((await app.handle(ingestRequest([{ event_type: 'user_login', user_id: fits }]))).status).toBe(202)
    const read = await app.handle(
      new Request(`http://localhost/analytics/users/${encodeURIComponent(fits)}`, { headers: admin }),
    )
    expect(read.status).toBe(200)
    expect((await read.json()).events.user_login.today).toBe(1)
  })

  test('tokens: missing, wrong and unconfigured are refused with 401', async () => {
    const { app, deps } = await testApp()
    const body = [{ event_type: 'user_login' }]
    const missing = await app.handle(ingestRequest(body, { token: null }))
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toBe('Bearer')
    expect((await missing.json()).error).toBe('missing Authorization: Bearer token')
    const wrong = await app.handle(ingestRequest(body, { token: 'test-ingest-token-0123456780' }))
    expect(wrong.status).toBe(401)
    expect((await wrong.json()).error).toBe('invalid token')

    const unconfigured = await testApp({ ingestToken: undefined })
    const res = await unconfigured.app.handle(ingestRequest(body))
    expect(res.status).toBe(401)
    expect((await res.json()).error).toBe('this route is disabled until INGEST_TOKEN is configured')
    expect(await pendingTotal(deps)).toBe(0)
    expect(await pendingTotal(unconfigured.deps)).toBe(0)
  })

  test('bad bodies: 400, 413, 415, 422 with a reason', async () => {
    const { app, deps } = await testApp()
    const cases: [Request, number, string][] = [
      [ingestRequest('', { raw: true }), 400, 'body is empty'],
      [ingestRequest('[{', { raw: true }), 400, 'body is not valid JSON'],
      [ingestRequest('"x"', { raw: true }), 400, 'body must be a JSON array of events'],
      [ingestRequest({ event_type: 'user_login' }), 422, 'invalid events; none were counted'],
      [ingestRequest([]), 422, 'invalid events; none were counted'],
      [
        ingestRequest(Array.from({ length: 1001 }, () => ({ event_type: 'user_login' }))),
        422,
        'invalid events; none were counted',
      ],
      [
        ingestRequest(
          [{ event_type: 'user_login', properties: { blob: 'x'.repeat(1000) } }].concat(
            Array.from({ length: 1100 }, () => ({ event_type: 'user_login', properties: { blob: 'x'.repeat(1000) } })),
          ),
        ),
        413,
        'body is larger than 1048576 bytes',
      ],
      [
        ingestRequest([{ event_type: 'user_login' }], { headers: { 'content-type': 'text/plain' } }),
        415,
        'send the body as application/json',
      ],
    ]
    for (const [request, status, error] of cases) {
      const res = await app.handle(request)
      expect({ status: res.status, error: (await res.json()).error }).toEqual({ status, error })
    }
    expect(await allKeys(deps)).toEqual([])
  })
})

describe('Redis down', () => {
  test('answers 503 to every request of the failed batch, then counts each accepted event once', async () => {
    const ctx = await testApp({ trustProxy: { hops: 1 } })
    const { proxy, url } = proxyFor(ctx.config.redisUrl, 6379)
    const redis = await openRedis(url, silentLogger)
    const deps = createDeps({ config: ctx.config, redis, pool: ctx.db.pool, log: silentLogger })
    const app = createApp(deps)
    try {
      let accepted = 0
      const send = async () => {
        const statuses = await Promise.all(
          Array.from({ length: 20 }, () => app.handle(beaconRequest({ event_type: 'page_view' }))),
        )
        accepted += statuses.filter((r) => r.status === 202).length
        return statuses
      }
      expect((await send()).map((r) => r.status)).toEqual(Array(20).fill(202))

      proxy.close()
      await waitFor(() => !redis.isReady, { what: 'the client to see Redis gone' })
      const down = await send()
      expect(down.map((r) => r.status)).toEqual(Array(20).fill(503))
      expect(down[0]!.headers.get('retry-after')).toBe('1')
      expect((await down[0]!.json()).error).toBe('counters are unavailable; retry later')
      const ingestDown = await app.handle(ingestRequest([{ event_type: 'user_login' }]))
      expect(ingestDown.status).toBe(503)

      proxy.reopen()
      await waitFor(() => redis.isReady, { what: 'the client to reconnect' })
      expect((await send()).map((r) => r.status)).toEqual(Array(20).fill(202))
      // read through the direct client: every 202 counted once, every 503 not at all
      expect(accepted).toBe(40)
      expect(await pendingTotal(ctx.deps)).toBe(accepted)
      const rejected = (await deps.metrics.redisErrors.get()).values[0]?.value ?? 0
      expect(rejected).toBeGreaterThan(0)
    } finally {
      proxy.close()
      redis.destroy()
    }
  })
})

describe('Redis hanging with its connection open', () => {
  test('requests get 503 after the command timeout instead of piling up', async () => {
    const ctx = await testApp()
    const { proxy, url } = proxyFor(ctx.config.redisUrl, 6379)
    const redis = await openRedis(url, silentLogger)
    const config = { ...ctx.config, redisTimeoutMs: 300 }
    const app = createApp(createDeps({ config, redis, pool: ctx.db.pool, log: silentLogger }))
    try {
      expect((await app.handle(beaconRequest({ event_type: 'page_view' }))).status).toBe(202)
      proxy.stall()
      const started = Date.now()
      const stalled = await app.handle(beaconRequest({ event_type: 'page_view' }))
      expect(stalled.status).toBe(503)
      expect(Date.now() - started).toBeLessThan(3000)
      proxy.resume()
    } finally {
      proxy.close()
      redis.destroy()
    }
  })
})
