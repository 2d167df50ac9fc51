/**
 * Plausible's Events API, `POST /api/event`: the body Plausible's tracker and its server-side
 * clients send, counted as a beacon (same origin policy, validation, caps, visits) and answered
 * 202 `{}`; a page view of the URL's path with its referrer and UTM values, any other name a
 * feature of that name, `engagement` answered and not counted; a body Plausible would refuse
 * answered 400 naming the field as Plausible does. Plausible's own tracker in a browser:
 * test/plausible-browser.test.ts.
 */
import { describe, expect, test } from 'bun:test'
import { fromPlausible } from '../src/events/plausible.ts'
import { BROWSER_UA, pendingTotal, testApp } from './app.ts'
import { prng } from './prng.ts'

type App = Awaited<ReturnType<typeof testApp>>['app']

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const SHOP = 'https://shop.example.com'

/** A request as Plausible's tracker sends one: `text/plain`, from the page's origin. */
function plausibleRequest(body: unknown, headers: Record<string, string> = {}): Request {
  return new Request('http://localhost/api/event', {
    method: 'POST',
    headers: {
      'content-type': 'text/plain',
      'user-agent': BROWSER_UA,
      origin: SHOP,
      'x-forwarded-for': '198.51.100.7',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

async function send(app: App, body: unknown, headers: Record<string, string> = {}) {
  const res = await app.handle(plausibleRequest(body, headers))
  const text = await res.text()
  return {
    status: res.status,
    body: text === '' ? '' : JSON.parse(text),
    cors: res.headers.get('access-control-allow-origin'),
  }
}

async function read(app: App, path: string) {
  const res = await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
  expect(res.status).toBe(200)
  return res.json()
}

const names = (top: { items: { name: string; count: number }[] }) =>
  Object.fromEntries(top.items.map((i) => [i.name, i.count]))

describe('fromPlausible', () => {
  test('a page view: the path with its query, the referrer, the UTM values, the host', () => {
    expect(
      fromPlausible({
        n: 'pageview',
        u: 'https://shop.example.com/pricing?utm_source=news&utm_campaign=launch',
        d: 'shop.example.com',
        r: 'https://www.google.com/',
        p: { plan: 'pro', n: 3 },
      }),
    ).toEqual({
      event: {
        event_type: 'page_view',
        properties: {
          plan: 'pro',
          n: '3',
          path: '/pricing?utm_source=news&utm_campaign=launch',
          referrer: 'https://www.google.com/',
          utm_source: 'news',
          utm_campaign: 'launch',
        },
      },
      host: 'shop.example.com',
      domains: ['shop.example.com'],
      errors: {},
    })
  })

  test('long names, props as JSON text, the fragment in hash mode, no referrer, revenue', () => {
    const { event } = fromPlausible({
      name: 'pageview',
      url: 'https://shop.example.com/app#/settings',
      domain: 'shop.example.com',
      referrer: null,
      props: '{"tier":"a","list":[1],"path":"/x"}',
      h: 1,
    })
    // a list is dropped as Plausible drops it; `path` is the beacon's own, so the prop is left out
    expect(event).toEqual({ event_type: 'page_view', properties: { tier: 'a', path: '/app#/settings', referrer: '' } })
    expect(
      fromPlausible({ n: 'Purchase', u: `${SHOP}/`, d: 'shop.example.com', $: { amount: '19.99', currency: 'EUR' } })
        .event,
    ).toEqual({
      event_type: 'feature_used',
      properties: { revenue: '19.99', currency: 'EUR', feature_name: 'Purchase' },
    })
    // short names win over long ones
    expect(
      fromPlausible({ n: 'pageview', name: 'Signup', u: `${SHOP}/a`, url: `${SHOP}/b` }).event?.properties.path,
    ).toBe('/a')
  })

  test('engagement pings are not events; what Plausible refuses is named as Plausible names it', () => {
    expect(fromPlausible({ n: 'engagement', u: `${SHOP}/`, d: 'shop.example.com', sd: 40, e: 1200 })).toEqual({
      host: 'shop.example.com',
      domains: ['shop.example.com'],
      errors: {},
    })
    // a comma-separated domain is a list, as Plausible takes it
    expect(fromPlausible({ n: 'pageview', u: `${SHOP}/`, d: ' a.example, ,b.example ' }).domains).toEqual([
      'a.example',
      'b.example',
    ])
    expect(fromPlausible({ u: `${SHOP}/`, d: 'x' }).errors).toEqual({ event_name: ["can't be blank"] })
    expect(fromPlausible({ n: 'pageview', d: 'x' }).errors).toEqual({ url: ['is required'] })
    expect(fromPlausible({ n: 'pageview', u: 'not a url', d: 'x' }).errors).toEqual({ url: ['must be a valid url'] })
    expect(fromPlausible({ n: 'pageview', u: 'data:text/html,hi', d: 'x' }).errors).toEqual({
      url: ['scheme is not allowed'],
    })
    expect(fromPlausible({ n: 'x'.repeat(121), u: `${SHOP}/`, d: 'x' }).errors).toEqual({
      event_name: ['should be at most 120 character(s)'],
    })
    expect(fromPlausible([{ n: 'pageview' }]).errors).toEqual({
      request: ['must be one event object, as Plausible takes it'],
    })
  })
})

describe('POST /api/event', () => {
  test('page views and custom events count as beacons do, answered 202 {}', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    const sent = [
      await send(app, {
        n: 'pageview',
        u: `${SHOP}/pricing?utm_source=news`,
        d: 'shop.example.com',
        r: 'https://www.google.com/',
      }),
      await send(app, { n: 'pageview', u: `${SHOP}/signup`, d: 'shop.example.com', r: 'https://www.google.com/' }),
      await send(app, {
        n: 'Outbound Link: Click',
        u: `${SHOP}/signup`,
        d: 'shop.example.com',
        p: { url: 'https://github.com/' },
      }),
      await send(app, { n: 'engagement', u: `${SHOP}/signup`, d: 'shop.example.com', sd: 50, e: 3000 }),
    ]
    expect(sent).toEqual(Array(4).fill({ status: 202, body: {}, cors: SHOP }))
    await deps.batcher.drain()
    const stats = await read(app, '/analytics/stats?metric=visits')
    expect(stats.total).toBe(1)
    expect(names(await read(app, '/analytics/top?dimension=page'))).toEqual({ '/pricing': 1, '/signup': 1 })
    expect(names(await read(app, '/analytics/top?dimension=feature'))).toEqual({ 'Outbound Link: Click': 1 })
    // the visit's values: from Google, on the page's host, with the campaign's source
    expect(names(await read(app, '/analytics/top?dimension=source'))).toEqual({ Google: 1 })
    expect(names(await read(app, '/analytics/top?dimension=utm_source'))).toEqual({ news: 1 })
    expect(names(await read(app, '/analytics/top?dimension=hostname'))).toEqual({ 'shop.example.com': 1 })
  })

  test('a back end forwarding the browser: no Origin, the page host from the URL, the address behind the proxy', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    const res = await send(
      app,
      { name: 'pageview', url: 'https://docs.example.com/start', domain: 'docs.example.com' },
      { origin: '', 'x-forwarded-for': '203.0.113.9' },
    )
    expect(res.status).toBe(202)
    await deps.batcher.drain()
    expect(names(await read(app, '/analytics/top?dimension=hostname'))).toEqual({ 'docs.example.com': 1 })
  })

  test('refusals: bad bodies 400 by field, other origins 403, other methods 405; nothing counted', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 }, allowedOrigins: [SHOP] })
    const bad = await send(app, { n: 'pageview', d: 'shop.example.com' })
    expect(bad).toEqual({ status: 400, body: { error: 'invalid event', errors: { url: ['is required'] } }, cors: SHOP })
    // the beacon's own limits, named by field: a feature name over 100 characters
    const long = await send(app, { n: 'x'.repeat(101), u: `${SHOP}/`, d: 'shop.example.com' })
    expect(long.status).toBe(400)
    expect(Object.keys(long.body.errors)).toEqual(['properties.feature_name'])
    expect((await send(app, 'not json')).status).toBe(400)
    const foreign = await send(
      app,
      { n: 'pageview', u: `${SHOP}/`, d: 'shop.example.com' },
      { origin: 'https://evil.example' },
    )
    expect(foreign.status).toBe(403)
    expect(foreign.cors).toBeNull()
    const get = await app.handle(new Request('http://localhost/api/event', { headers: { origin: SHOP } }))
    expect(get.status).toBe(405)
    await deps.batcher.drain()
    expect((await read(app, '/analytics/stats?metric=events')).total).toBe(0)
  })
})

describe('POST /api/event, fuzzed', () => {
  test('600 random and hostile bodies, 4,000-character values in every field: no 5xx, a JSON reason for each refusal, the accepted counted', async () => {
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } })
    const r = prng(20261206)
    const long = () => Array.from({ length: 4000 }, () => String.fromCharCode(32 + r.int(95))).join('')
    const value = () =>
      r.pick<unknown>([long(), '', null, 0, -1.5, true, [], {}, '__proto__', 'pageview', `${SHOP}/x`, 'ü🙂', '\u0000'])
    const fields = [
      'n',
      'name',
      'u',
      'url',
      'd',
      'domain',
      'r',
      'referrer',
      'p',
      'props',
      '$',
      'revenue',
      'h',
      '__proto__',
    ]
    let accepted = 0
    const statuses = new Map<number, number>()
    for (let i = 0; i < 600; i++) {
      const body: Record<string, unknown> = {
        n: r.pick(['pageview', 'Signup', 'engagement']),
        u: `${SHOP}/p${r.int(5)}`,
        d: 'shop.example.com',
      }
      for (const f of fields) if (r.next() < 0.25) body[f] = value()
      if (r.next() < 0.2) body.p = { [long()]: long(), plan: 'pro', nested: { a: 1 } }
      const text = r.next() < 0.1 ? JSON.stringify(body).slice(0, r.int(200)) : JSON.stringify(body)
      const res = await app.handle(plausibleRequest(text, { 'x-forwarded-for': `198.51.100.${i % 200}` }))
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      if (res.status >= 500) throw new Error(`${res.status} for ${text.slice(0, 300)}: ${await res.text()}`)
      const answer = await res.json()
      if (res.status === 202) {
        expect(answer).toEqual({})
        const name = typeof body.n === 'string' || typeof body.n === 'number' ? String(body.n) : undefined
        if (name !== 'engagement') accepted++
      } else expect(typeof answer.error).toBe('string')
    }
    expect(statuses.get(202) ?? 0).toBeGreaterThan(100)
    expect(statuses.get(400) ?? 0).toBeGreaterThan(50)
    expect(await pendingTotal(deps)).toBe(accepted)
  }, 120_000)
})
