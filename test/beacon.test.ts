import { describe, expect, test } from 'bun:test'
import { dayOf, hourOf } from '../src/counters/keys.ts'
import { clientAddress } from '../src/routes/client-ip.ts'
import { allKeys, BROWSER_UA, beaconRequest, hash, pendingTotal, testApp } from './app.ts'

const day = () => dayOf(Date.now())

/** Keys that name members of Object.prototype (or look like they might), which a lookup in a plain object would find. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']

describe('POST /e', () => {
  test('N concurrent beacons count N in every counter kind', async () => {
    // a clock that stands still: every beacon falls in the same quarter-hour
    const now = Date.now()
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const N = 300
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        app.handle(
          beaconRequest(
            [
              { event_type: 'page_view', user_id: `u${i % 7}`, properties: { path: '/docs/?q=1' } },
              { event_type: 'feature_used', properties: { feature_name: 'export' } },
            ],
            { ip: `198.51.100.${i % 50}` },
          ),
        ),
      ),
    )
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(202))
    expect(await responses[0]!.text()).toBe('')

    const d = dayOf(now)
    const hh = hourOf(now)
    const quarter = new Date(Math.floor(now / 900_000) * 900_000).toISOString().slice(0, 16)
    const live = await hash(deps, deps.keys.shards[0]!.liveHourly(d))
    expect(live[`page_view|${hh}`]).toBe(N)
    expect(live[`feature_used|${hh}`]).toBe(N)
    expect(await hash(deps, deps.keys.shards[0]!.pending('d'))).toEqual({
      [`${d}|page_view`]: N,
      [`${d}|feature_used`]: N,
      // one visit per visitor: 50 addresses, one User-Agent, all within 30 minutes
      [`${d}|visit`]: 50,
    })
    expect(await hash(deps, deps.keys.shards[0]!.pending('h'))).toEqual({
      [`${quarter}|page_view`]: N,
      [`${quarter}|feature_used`]: N,
      [`${quarter}|visit`]: 50,
    })
    const users = await hash(deps, deps.keys.shards[0]!.pending('u'))
    expect(Object.values(users).reduce((a, b) => a + b)).toBe(N)
    expect(Object.keys(users)).toHaveLength(7)
    expect(users[`${d}|page_view|u0`]).toBe(Math.ceil(N / 7))
    expect(await hash(deps, deps.keys.shards[0]!.pending('f'))).toEqual({ [`${d}|feature_used|export`]: N })
    expect(await hash(deps, deps.keys.shards[0]!.pending('p'))).toEqual({ [`${d}|/docs`]: N })
    // a marker of the days whose visitor count the flusher must re-read
    expect(Object.keys(await hash(deps, deps.keys.shards[0]!.pending('v')))).toEqual([d])
    // 50 distinct addresses, one browser: 50 visitors, within HyperLogLog's error (0.81%)
    const visitors = await deps.redis.pfCount(deps.keys.visitors(d))
    expect(Math.abs(visitors - 50)).toBeLessThanOrEqual(1)
  })

  test('group commit merges concurrent requests into few Redis round trips', async () => {
    const { app, deps } = await testApp()
    await Promise.all(Array.from({ length: 200 }, () => app.handle(beaconRequest({ event_type: 'page_view' }))))
    const hist = (await deps.metrics.batchRequests.get()).values
    const count = hist.find((v) => v.metricName === 'analytics_group_commit_requests_count')!.value
    const sum = hist.find((v) => v.metricName === 'analytics_group_commit_requests_sum')!.value
    expect(sum).toBe(200)
    expect(count).toBeLessThan(20)
    expect(await pendingTotal(deps)).toBe(200)
  })

  test('every key written has a TTL, set in the same step', async () => {
    const { app, deps } = await testApp({ counterTtlSeconds: 864_000 })
    await app.handle(
      beaconRequest({ event_type: 'page_view', user_id: 'u', properties: { path: '/', feature_name: 'f' } }),
    )
    const keys = await allKeys(deps)
    expect(keys.length).toBeGreaterThanOrEqual(12)
    for (const key of keys) {
      const ttl = await deps.redis.ttl(key)
      // the day's cap sets live two days, the year's salt a year and two days, a minute's
      // recent visitors ten minutes, a visitor's current visit 30 minutes
      const expected = /:seen:/.test(key)
        ? 172_800
        : /:visit:/.test(key)
          ? 1800
          : /:salt:/.test(key)
            ? 368 * 86_400
            : /:hll:m:/.test(key)
              ? 600
              : 864_000
      expect({ key, ttl: Math.abs(ttl - expected) <= 2 }).toEqual({ key, ttl: true })
    }
  })

  test('caps fold browser values beyond the daily limit into (other)', async () => {
    const { app, deps } = await testApp({ caps: { features: 3, paths: 2, users: 4, dimensions: 1000 } })
    for (let i = 0; i < 6; i++) {
      const res = await app.handle(
        beaconRequest([
          { event_type: 'feature_used', user_id: `user-${i}`, properties: { feature_name: `f${i}` } },
          { event_type: 'page_view', properties: { path: `/p${i}` } },
        ]),
      )
      expect(res.status).toBe(202)
    }
    // a value seen before the cap was reached keeps counting under its name
    await app.handle(beaconRequest({ event_type: 'feature_used', properties: { feature_name: 'f0' } }))
    const d = day()
    expect(await hash(deps, deps.keys.shards[0]!.pending('f'))).toEqual({
      [`${d}|feature_used|f0`]: 2,
      [`${d}|feature_used|f1`]: 1,
      [`${d}|feature_used|f2`]: 1,
      [`${d}|feature_used|(other)`]: 3,
    })
    expect(await hash(deps, deps.keys.shards[0]!.pending('p'))).toEqual({
      [`${d}|/p0`]: 1,
      [`${d}|/p1`]: 1,
      [`${d}|(other)`]: 4,
    })
    const users = await hash(deps, deps.keys.shards[0]!.pending('u'))
    expect(users[`${d}|feature_used|(other)`]).toBe(2)
    expect(Object.keys(users)).toHaveLength(5)
  })

  test('server batches are not capped', async () => {
    const { app, deps } = await testApp({ caps: { features: 1, paths: 1, users: 1, dimensions: 1000 } })
    const { ingestRequest } = await import('./app.ts')
    const res = await app.handle(
      ingestRequest([
        { event_type: 'feature_used', user_id: 'a', properties: { feature_name: 'x' } },
        { event_type: 'feature_used', user_id: 'b', properties: { feature_name: 'y' } },
      ]),
    )
    expect(res.status).toBe(202)
    expect(Object.keys(await hash(deps, deps.keys.shards[0]!.pending('f'))).sort()).toEqual([
      `${day()}|feature_used|x`,
      `${day()}|feature_used|y`,
    ])
  })

  test('crawlers get 202 and are not counted', async () => {
    const { app, deps } = await testApp()
    for (const ua of ['Googlebot/2.1 (+http://www.google.com/bot.html)', 'curl/8.5.0', '']) {
      const res = await app.handle(beaconRequest({ event_type: 'page_view' }, { headers: { 'user-agent': ua } }))
      expect(res.status).toBe(202)
    }
    expect(await pendingTotal(deps)).toBe(0)
    const rejected = await deps.metrics.rejected.get()
    expect(rejected.values.find((v) => v.labels.reason === 'bot')?.value).toBe(3)
  })

  test('origins outside ALLOWED_ORIGINS are refused; listed ones are counted', async () => {
    const { app, deps } = await testApp({ allowedOrigins: ['https://shop.example.com'] })
    const from = (origin: string) => app.handle(beaconRequest({ event_type: 'page_view' }, { headers: { origin } }))
    const ok = await from('https://shop.example.com')
    expect(ok.status).toBe(202)
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example.com')
    const refused = await from('https://evil.example.net')
    expect(refused.status).toBe(403)
    // a refused page must not be able to read the answer
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    expect(await refused.json()).toEqual({ error: 'origin https://evil.example.net is not allowed to send events' })
    const preflight = await app.handle(
      new Request('http://localhost/e', {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
      }),
    )
    expect(preflight.status).toBe(403)
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    expect((await app.handle(beaconRequest({ event_type: 'page_view' }))).status).toBe(403)
    expect(await pendingTotal(deps)).toBe(1)
    const rejected = await deps.metrics.rejected.get()
    expect(rejected.values.find((v) => v.labels.reason === 'origin')?.value).toBe(3)
  })

  test('Origin: null (a sandboxed frame, a data: page) is never answered Access-Control-Allow-Origin: null', async () => {
    const { app, deps } = await testApp({ allowedOrigins: ['https://shop.example.com'] })
    const opaque = (referer?: string) =>
      app.handle(
        beaconRequest({ event_type: 'page_view' }, { headers: { origin: 'null', ...(referer ? { referer } : {}) } }),
      )
    // an allowed Referer: counted, and answered with the Referer's origin
    const allowed = await opaque('https://shop.example.com/pricing')
    expect(allowed.status).toBe(202)
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example.com')
    const preflight = await app.handle(
      new Request('http://localhost/e', {
        method: 'OPTIONS',
        headers: { origin: 'null', referer: 'https://shop.example.com/', 'access-control-request-method': 'POST' },
      }),
    )
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example.com')
    // no Referer, another site's, or an opaque one: refused, with no CORS header at all
    for (const referer of [undefined, 'https://evil.example.net/', 'data:text/html,x', 'not a url']) {
      const refused = await opaque(referer)
      expect({ referer, status: refused.status }).toEqual({ referer, status: 403 })
      expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    }
    expect(await pendingTotal(deps)).toBe(1)

    // with any origin allowed, an opaque one gets `*`, not `null`
    const open = await testApp()
    const any = await open.app.handle(beaconRequest({ event_type: 'page_view' }, { headers: { origin: 'null' } }))
    expect(any.status).toBe(202)
    expect(any.headers.get('access-control-allow-origin')).toBe('*')
    expect(await pendingTotal(open.deps)).toBe(1)
  })

  test('a CORS preflight for application/json is answered', async () => {
    const { app } = await testApp()
    const res = await app.handle(
      new Request('http://localhost/e', {
        method: 'OPTIONS',
        headers: {
          origin: 'https://shop.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      }),
    )
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example.com')
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
    // not `*`, which would keep every response out of HTTP caches
    expect(res.headers.get('vary')).toBe('Origin')
  })

  test('keys such as __proto__ and constructor, at the top or in properties: 422, each with a reason, nothing counted', async () => {
    const { app, deps } = await testApp()
    for (const key of PROTOTYPE_KEYS) {
      // raw JSON: an object literal's __proto__ would set its prototype, not send the key
      const bodies = [
        `{"event_type":"page_view","${key}":1}`,
        `{"event_type":"page_view","properties":{"path":"/","${key}":{}}}`,
        `[{"event_type":"page_view","${key}":"x"},{"event_type":"page_view","properties":{"${key}":[1]}}]`,
      ]
      for (const body of bodies) {
        const res = await app.handle(beaconRequest(body, { raw: true }))
        const answer = await res.json()
        expect({ body, status: res.status, error: answer.error }).toEqual({
          body,
          status: 422,
          error: 'invalid events',
        })
        expect(answer.errors.length).toBeGreaterThan(0)
        for (const e of answer.errors) {
          expect({ body, field: e.field, reason: typeof e.reason }).toEqual({ body, field: e.field, reason: 'string' })
          expect(e.reason.length).toBeGreaterThan(0)
        }
        expect(answer.errors.map((e: { field: string }) => e.field.replace(/^properties\./, ''))).toContain(key)
      }
    }
    expect(await allKeys(deps)).toEqual([])
  })

  describe('bad input gets a clear error and counts nothing', () => {
    const cases: [string, () => Request, number, string | RegExp][] = [
      ['empty body', () => beaconRequest('', { raw: true }), 400, 'body is empty'],
      ['invalid JSON', () => beaconRequest('{"event_type":', { raw: true }), 400, 'body is not valid JSON'],
      ['a JSON string', () => beaconRequest('"page_view"', { raw: true }), 400, /JSON object/],
      ['a JSON number', () => beaconRequest('42', { raw: true }), 400, /JSON object/],
      ['unknown type', () => beaconRequest({ event_type: 'click' }), 422, 'invalid events'],
      ['server-only type', () => beaconRequest({ event_type: 'user_signup' }), 422, 'invalid events'],
      ['wrong field type', () => beaconRequest({ event_type: 'page_view', user_id: {} }), 422, 'invalid events'],
      [
        'over-long feature',
        () => beaconRequest({ event_type: 'feature_used', properties: { feature_name: 'x'.repeat(101) } }),
        422,
        'invalid events',
      ],
      [
        '51 events',
        () => beaconRequest(Array.from({ length: 51 }, () => ({ event_type: 'page_view' }))),
        422,
        'invalid events',
      ],
      [
        'a valid event with an invalid one',
        () => beaconRequest([{ event_type: 'page_view' }, { event_type: 'nope' }]),
        422,
        'invalid events',
      ],
      [
        'body over 8 KB',
        () => beaconRequest({ event_type: 'page_view', properties: { x: 'y'.repeat(9000) } }),
        413,
        'body is larger than 8192 bytes',
      ],
      [
        'unsupported content type',
        () =>
          beaconRequest(
            { event_type: 'page_view' },
            { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
          ),
        415,
        'send the body as text/plain or application/json',
      ],
    ]
    for (const [name, request, status, reason] of cases) {
      test(name, async () => {
        const { app, deps } = await testApp()
        const res = await app.handle(request())
        expect(res.status).toBe(status)
        expect(res.headers.get('content-type')).toStartWith('application/json')
        const body = await res.json()
        if (typeof reason === 'string') expect(body.error).toBe(reason)
        else expect(body.error).toMatch(reason)
        expect(await pendingTotal(deps)).toBe(0)
        expect(await allKeys(deps)).toEqual([])
      })
    }

    test('422 lists each problem with index, field and reason', async () => {
      const { app } = await testApp()
      const res = await app.handle(beaconRequest([{ event_type: 'page_view' }, { event_type: 'user_login' }]))
      const body = await res.json()
      expect(body.errors).toHaveLength(1)
      expect(body.errors[0]).toMatchObject({ index: 1, field: 'event_type' })
    })

    test('a body the client stops sending is an abort: 400, counted as aborted, nothing stored', async () => {
      const { app, deps } = await testApp()
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"event_type":'))
          c.error(new Error('connection reset'))
        },
      })
      const res = await app.handle(
        new Request('http://localhost/e', {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
          body,
        }),
      )
      expect(res.status).toBe(400)
      expect((await res.json()).error).toBe('the request body could not be read')
      const rejected = (await deps.metrics.rejected.get()).values
      expect(rejected.map((v) => [v.labels.reason, v.value])).toEqual([['aborted', 1]])
      expect(await allKeys(deps)).toEqual([])
    })

    test('a body that does not arrive within BODY_TIMEOUT_MS gets 408 and Connection: close', async () => {
      const { app, deps } = await testApp({ bodyTimeoutMs: 200 })
      const never = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"event_type"')) })
      const res = await app.handle(
        new Request('http://localhost/e', {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
          body: never,
        }),
      )
      expect(res.status).toBe(408)
      expect(res.headers.get('connection')).toBe('close')
      expect((await res.json()).error).toBe('the body did not arrive within 200 ms')
      const rejected = (await deps.metrics.rejected.get()).values
      expect(rejected.map((v) => [v.labels.reason, v.value])).toEqual([['timeout', 1]])
      expect(await allKeys(deps)).toEqual([])
    })

    test('a chunked body over the limit is cut off', async () => {
      const { app, deps } = await testApp()
      const chunk = new TextEncoder().encode(`[${'{"event_type":"page_view"},'.repeat(200)}`)
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(chunk)
          c.enqueue(chunk)
          c.close()
        },
      })
      const res = await app.handle(
        new Request('http://localhost/e', {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
          body: stream,
        }),
      )
      expect(res.status).toBe(413)
      expect(await pendingTotal(deps)).toBe(0)
    })
  })
})

describe('client address', () => {
  const req = (xff?: string) => new Request('http://x/e', { headers: xff ? { 'x-forwarded-for': xff } : {} })
  /** A socket peer, as the listening server reports it. */
  const peer = (address: string) => ({ requestIP: () => ({ address }) })

  test('behind trusted proxies it is counted from the right of X-Forwarded-For; the left can be forged', () => {
    const hops = (n: number) => clientAddress({ hops: n })
    expect(hops(1)(req('forged, 198.51.100.7'), peer('10.0.0.2'))).toBe('198.51.100.7')
    expect(hops(2)(req('forged, 203.0.113.5, 10.0.0.1'), peer('10.0.0.2'))).toBe('203.0.113.5')
    expect(hops(3)(req('203.0.113.5'), peer('10.0.0.2'))).toBe('203.0.113.5')
    expect(hops(0)(req('198.51.100.7'), peer('10.0.0.2'))).toBe('10.0.0.2')
    expect(hops(1)(req(), peer('10.0.0.2'))).toBe('10.0.0.2')
  })

  test('with a list of proxies, X-Forwarded-For is read only from them, past every trusted hop', () => {
    const address = clientAddress({ proxies: ['10.0.0.0/8', '192.0.2.7', 'fd00::/8'] })
    // a peer that is not a listed proxy is the client, whatever it claims
    expect(address(req('198.51.100.7'), peer('203.0.113.66'))).toBe('203.0.113.66')
    // from a listed proxy: the nearest entry that is not a proxy, from the right
    expect(address(req('forged, 198.51.100.7'), peer('10.1.2.3'))).toBe('198.51.100.7')
    expect(address(req('forged, 198.51.100.7, 10.9.9.9, 192.0.2.7'), peer('10.1.2.3'))).toBe('198.51.100.7')
    expect(address(req('2001:db8::5'), peer('fd12::1'))).toBe('2001:db8::5')
    // Bun reports an IPv4 peer on a dual-stack socket in its IPv6 form
    expect(address(req('198.51.100.7'), peer('::ffff:10.1.2.3'))).toBe('198.51.100.7')
    // only proxies all the way: the leftmost is as far as anyone can tell
    expect(address(req('10.0.0.5'), peer('10.1.2.3'))).toBe('10.0.0.5')
    expect(address(req(), peer('10.1.2.3'))).toBe('10.1.2.3')
  })

  test('the socket peer is looked up only when it is the answer', () => {
    let lookups = 0
    const counting = {
      requestIP: () => {
        lookups++
        return { address: '10.0.0.2' }
      },
    }
    expect(clientAddress({ hops: 1 })(req('198.51.100.7'), counting)).toBe('198.51.100.7')
    expect(lookups).toBe(0)
    expect(clientAddress({ hops: 1 })(req(), counting)).toBe('10.0.0.2')
    expect(clientAddress({ hops: 0 })(req('198.51.100.7'), counting)).toBe('10.0.0.2')
    expect(lookups).toBe(2)
    // no socket at all (app.handle): no address
    expect(clientAddress({ hops: 0 })(req())).toBe('')
  })
})

describe('GET /e', () => {
  test('counts a page view from the query or the Referer and answers a 1×1 GIF', async () => {
    const { app, deps } = await testApp()
    const get = (query: string, headers: Record<string, string> = {}) =>
      app.handle(new Request(`http://localhost/e${query}`, { headers: { 'user-agent': BROWSER_UA, ...headers } }))
    const a = await get('?path=/pricing/')
    expect(a.status).toBe(200)
    expect(a.headers.get('content-type')).toBe('image/gif')
    expect(new TextDecoder().decode((await a.arrayBuffer()).slice(0, 6))).toBe('GIF89a')
    await get('', { referer: 'https://shop.example.com/blog/post-1?utm=x' })
    await get('?event_type=feature_used&feature_name=export')
    const d = day()
    expect(await hash(deps, deps.keys.shards[0]!.pending('p'))).toEqual({
      [`${d}|/pricing`]: 1,
      [`${d}|/blog/post-1`]: 1,
    })
    expect(await hash(deps, deps.keys.shards[0]!.pending('f'))).toEqual({ [`${d}|feature_used|export`]: 1 })
    const bad = await get('?event_type=user_signup')
    expect(bad.status).toBe(422)
    expect(await pendingTotal(deps)).toBe(3)
  })
})
