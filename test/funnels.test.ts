/**
 * Funnels through the API: saved by the admin and read by the viewer, run by a saved id or by
 * steps given ad hoc, refused with a reason naming the field; and random histories of many
 * visitors (beacons of pages and features, sign-ups sent by a back end with their browser's
 * address), sent in time order with half of them flushed, read before and after the last flush
 * and held to an oracle that enumerates every chain of each visitor's events.
 */
import { describe, expect, test } from 'bun:test'
import { parseCsv } from '../src/csv.ts'
import { apiCall, BROWSER_UA, beaconRequest, ingestRequest, testApp } from './app.ts'
import { prng } from './prng.ts'

const ADMIN_TOKEN = 'test-admin-token-0123456789'
const VIEWER_TOKEN = 'test-viewer-token-0123456789'
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` }
const VIEWER = { authorization: `Bearer ${VIEWER_TOKEN}` }
const MIN = 60_000
const H = 60 * MIN

type App = Awaited<ReturnType<typeof testApp>>['app']

const call = (app: App, method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) =>
  apiCall(app, method, path, body, headers)

describe('funnels', () => {
  test('are saved by the admin, read by the viewer, run by id or by steps, and refused with a reason', async () => {
    const t0 = Date.parse('2026-12-06T10:00:00Z')
    let now = t0
    const { app } = await testApp({ viewerToken: VIEWER_TOKEN, trustProxy: { hops: 1 } }, { now: () => now })
    const send = async (at: number, ip: string, events: unknown[]) => {
      now = at
      expect((await app.handle(beaconRequest(events, { ip, headers: { 'user-agent': BROWSER_UA } }))).status).toBe(202)
    }
    const view = (path: string) => ({ event_type: 'page_view', properties: { path } })
    // A: pricing, then the docs 2 hours later; B: the docs only; C: pricing, the docs 30 hours later
    await send(t0, '198.51.100.1', [view('/pricing')])
    await send(t0 + 2 * H, '198.51.100.1', [view('/docs/a')])
    await send(t0 + MIN, '198.51.100.2', [view('/docs/b')])
    await send(t0 + 2 * MIN, '198.51.100.3', [view('/pricing')])
    await send(t0 + 30 * H, '198.51.100.3', [view('/docs/c')])
    now = t0 + 40 * H

    const pricing = (await call(app, 'POST', '/analytics/goals', { name: 'Pricing', page: '/pricing' })).body
    const docs = (await call(app, 'POST', '/analytics/goals', { name: 'Docs', page: '/docs/*' })).body
    const made = await call(app, 'POST', '/analytics/funnels', { name: 'Read up', steps: [pricing.id, docs.id] })
    expect(made.status).toBe(201)
    expect(made.body).toMatchObject({ name: 'Read up', window: '1d', window_minutes: 1440 })
    expect(made.body.steps.map((g: { name: string }) => g.name)).toEqual(['Pricing', 'Docs'])
    const week = await call(app, 'POST', '/analytics/funnels', {
      name: 'Slow readers',
      steps: [pricing.id, docs.id, 'feature_used'],
      window: '168h',
    })
    expect(week.body).toMatchObject({ window: '7d', window_minutes: 7 * 1440 })

    const listed = await call(app, 'GET', '/analytics/funnels', undefined, VIEWER)
    expect(listed.status).toBe(200)
    expect(listed.body.manage).toBe(false)
    expect(listed.body.funnels.map((f: { name: string }) => f.name)).toEqual(['Read up', 'Slow readers'])
    expect((await call(app, 'GET', '/analytics/funnels')).body.manage).toBe(true)
    expect(
      (await call(app, 'POST', '/analytics/funnels', { name: 'X', steps: ['page_view', 'user_signup'] }, VIEWER))
        .status,
    ).toBe(403)
    expect((await call(app, 'DELETE', `/analytics/funnels/${made.body.id}`, undefined, VIEWER)).status).toBe(403)
    expect((await call(app, 'GET', '/analytics/funnels', undefined, {})).status).toBe(401)
    expect((await call(app, 'GET', '/analytics/funnel?steps=page_view,user_signup', undefined, {})).status).toBe(401)

    const days = 'from=2026-12-06&to=2026-12-07'
    // saved: A and C saw pricing; A read the docs within a day, C only after 30 hours
    const byId = await call(app, 'GET', `/analytics/funnel?funnel=${made.body.id}&${days}`, undefined, VIEWER)
    expect(byId.status).toBe(200)
    expect(byId.body).toMatchObject({
      from: '2026-12-06',
      to: '2026-12-07',
      funnel: { id: made.body.id, name: 'Read up' },
      window: '1d',
      conversion_rate: 50,
    })
    expect(
      byId.body.steps.map((s: Record<string, unknown>) => [s.visitors, s.conversion_rate, s.dropoff, s.dropoff_rate]),
    ).toEqual([
      [2, 100, 0, null],
      [1, 50, 1, 50],
    ])
    // the saved window overridden, and the same steps ad hoc: C's 30 hours fit in 2 days
    const wider = await call(app, 'GET', `/analytics/funnel?funnel=${made.body.id}&window=2d&${days}`)
    expect(wider.body.steps.map((s: { visitors: number }) => s.visitors)).toEqual([2, 2])
    const adHoc = await call(app, 'GET', `/analytics/funnel?steps=${pricing.id},${docs.id}&window=30h&${days}`)
    expect(adHoc.body).toMatchObject({ funnel: null, window: '30h', window_minutes: 1800, conversion_rate: 100 })
    // any page view then the docs: a view of the docs is both steps (B's, and C's on the 7th)
    const anyView = await call(app, 'GET', `/analytics/funnel?steps=page_view,${docs.id}&${days}`)
    expect(anyView.body.steps.map((s: { visitors: number }) => s.visitors)).toEqual([3, 3])
    // nobody began in a day with no first steps; a later step past to, within the window, counts
    expect(
      (await call(app, 'GET', `/analytics/funnel?funnel=${made.body.id}&from=2026-12-07&to=2026-12-07`)).body.steps.map(
        (s: { visitors: number }) => s.visitors,
      ),
    ).toEqual([0, 0])
    const firstDay = await call(
      app,
      'GET',
      `/analytics/funnel?funnel=${made.body.id}&window=2d&from=2026-12-06&to=2026-12-06`,
    )
    expect(firstDay.body.steps.map((s: { visitors: number }) => s.visitors)).toEqual([2, 2])

    // CSV: one line per step
    const csv = await call(app, 'GET', `/analytics/funnel?funnel=${made.body.id}&${days}&format=csv`)
    expect(csv.type).toContain('text/csv')
    expect(parseCsv(csv.body)).toEqual([
      ['step', 'goal', 'name', 'visitors', 'conversion_rate', 'dropoff', 'dropoff_rate'],
      ['1', pricing.id, 'Pricing', '2', '100', '0', ''],
      ['2', docs.id, 'Docs', '1', '50', '1', '50'],
    ])

    // refused: each names the field at fault, and saves nothing
    const refusedBodies: [unknown, string][] = [
      [{ steps: ['page_view', 'user_signup'] }, 'name'],
      [{ name: 'A' }, 'steps'],
      [{ name: 'A', steps: ['page_view'] }, 'steps'],
      [{ name: 'A', steps: Array.from({ length: 9 }, (_, i) => (i % 2 ? 'page_view' : 'user_signup')) }, 'steps'],
      [{ name: 'A', steps: ['page_view', 'page_view'] }, 'steps'],
      [{ name: 'A', steps: ['page_view', 'nope'] }, 'steps[1]'],
      [{ name: 'A', steps: ['page_view', '999999'] }, 'steps[1]'],
      [{ name: 'A', steps: 'page_view,user_signup' }, 'steps'],
      [{ name: 'A', steps: ['page_view', 7] }, 'steps'],
      [{ name: 'A', steps: ['page_view', 'user_signup'], window: '0m' }, 'window'],
      [{ name: 'A', steps: ['page_view', 'user_signup'], window: '31d' }, 'window'],
      [{ name: 'A', steps: ['page_view', 'user_signup'], window: 60 }, 'window'],
      [{ name: 'A', steps: ['page_view', 'user_signup'], window: '1w' }, 'window'],
      [{ name: 'A', steps: ['page_view', 'user_signup'], color: 'red' }, 'color'],
      [{ name: '', steps: ['page_view', 'user_signup'] }, 'name'],
      [{ name: 'x'.repeat(101), steps: ['page_view', 'user_signup'] }, 'name'],
      [[], ''],
    ]
    for (const [body, field] of refusedBodies) {
      const res = await call(app, 'POST', '/analytics/funnels', body)
      expect({ body, status: res.status }).toEqual({ body, status: 422 })
      expect({ body, error: res.body.error.startsWith(field) }).toEqual({ body, error: true })
    }
    expect(
      (await call(app, 'POST', '/analytics/funnels', { name: 'Read up', steps: ['page_view', 'user_signup'] })).status,
    ).toBe(409)
    expect((await call(app, 'POST', '/analytics/funnels', '{"name":')).status).toBe(400)
    expect((await call(app, 'GET', '/analytics/funnels')).body.funnels).toHaveLength(2)

    const refusedReads: [string, string][] = [
      ['', 'steps'],
      [`funnel=${made.body.id}&steps=page_view,user_signup`, 'funnel'],
      ['steps=page_view', 'steps'],
      ['steps=page_view,nope', 'steps[1]'],
      ['steps=page_view,page_view', 'steps'],
      [`steps=${'page_view,user_signup,'.repeat(5)}feature_used`, 'steps'],
      ['steps=page_view,user_signup&window=45s', 'window'],
      ['steps=page_view,user_signup&window=43201m', 'window'],
      ['funnel=999999', 'funnel'],
      ['funnel=abc', 'funnel'],
      ['steps=page_view,user_signup&source=Google', 'source'],
      ['steps=page_view,user_signup&filters=[["is","nope",["x"]]]', 'filters'],
      ['steps=page_view,user_signup&from=2026-12-09&to=2026-12-01', 'from'],
      ['steps=page_view,user_signup&format=xml', 'format'],
    ]
    for (const [params, field] of refusedReads) {
      const res = await call(app, 'GET', `/analytics/funnel?${params}`)
      expect({ params, status: res.status }).toEqual({ params, status: 422 })
      expect({ params, error: res.body.error.startsWith(field) }).toEqual({ params, error: true })
    }

    // a goal a funnel names stays until the funnel goes
    const held = await call(app, 'DELETE', `/analytics/goals/${docs.id}`)
    expect(held.status).toBe(409)
    expect(held.body.error).toContain('Read up')
    expect((await call(app, 'DELETE', `/analytics/funnels/${made.body.id}`)).status).toBe(204)
    expect((await call(app, 'DELETE', `/analytics/funnels/${made.body.id}`)).status).toBe(404)
    expect((await call(app, 'DELETE', '/analytics/funnels/nope')).status).toBe(404)
    expect((await call(app, 'DELETE', `/analytics/goals/${docs.id}`)).status).toBe(409)
    expect((await call(app, 'DELETE', `/analytics/funnels/${week.body.id}`)).status).toBe(204)
    expect((await call(app, 'DELETE', `/analytics/goals/${docs.id}`)).status).toBe(204)
    expect((await call(app, 'GET', '/analytics/funnels')).body.funnels).toEqual([])
  })

  const SEED = 20261208
  test(`agree with every chain enumerated over random histories, before and after a flush (seed ${SEED})`, async () => {
    const r = prng(SEED)
    const t0 = Date.parse('2026-12-06T06:00:00Z')
    let now = t0
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const PAGES = ['/', '/pricing', '/docs/a', '/docs/b', '/signup']
    const REFERRERS = ['https://www.google.com/', 'https://news.ycombinator.com/', undefined]

    interface Sent {
      visitor: string
      at: number
      type: string
      path: string | null
      feature: string | null
      referrer?: string
    }
    // each visitor's sends: batches of beacons (equal times), sign-ups a few minutes after one
    const sends: { at: number; ip: string; beacon: boolean; events: Sent[] }[] = []
    for (let v = 0; v < 70; v++) {
      const ip = `198.51.${100 + Math.floor(v / 200)}.${1 + (v % 200)}`
      let at = t0 + r.int(48 * H)
      for (let k = 1 + r.int(7); k > 0; k--) {
        if (r.next() < 0.25 && sends.at(-1)?.ip === ip) {
          at += 1000 + r.int(5 * MIN)
          sends.push({
            at,
            ip,
            beacon: false,
            events: [{ visitor: ip, at, type: 'user_signup', path: null, feature: null }],
          })
        } else {
          at += r.pick([1000, 4 * MIN, 2 * H, 20 * H, 26 * H])
          const events: Sent[] = [
            { visitor: ip, at, type: 'page_view', path: r.pick(PAGES), feature: null, referrer: r.pick(REFERRERS) },
          ]
          for (let i = r.int(3); i > 0; i--) {
            events.push(
              r.next() < 0.6
                ? { visitor: ip, at, type: 'page_view', path: r.pick(PAGES), feature: null }
                : { visitor: ip, at, type: 'feature_used', path: null, feature: r.pick(['Export', 'Share']) },
            )
          }
          sends.push({ at, ip, beacon: true, events })
        }
      }
    }
    sends.sort((a, b) => a.at - b.at)

    // the oracle's visits: a beacon begins one after 30 minutes without an event of the visitor
    const lastAt = new Map<string, number>()
    const sourceOf = new Map<string, string>()
    const rows: (Sent & { source: string })[] = []
    for (const s of sends) {
      for (const e of s.events) {
        const last = lastAt.get(e.visitor)
        if (last === undefined || e.at - last >= 30 * MIN) {
          sourceOf.set(e.visitor, e.referrer?.includes('google') ? 'Google' : e.referrer ? 'other' : '(direct)')
        }
        lastAt.set(e.visitor, e.at)
        rows.push({ ...e, source: sourceOf.get(e.visitor)! })
      }
    }

    const post = async (s: (typeof sends)[number]) => {
      now = s.at
      if (s.beacon) {
        const body = s.events.map((e) => ({
          event_type: e.type,
          properties: {
            ...(e.path ? { path: e.path } : {}),
            ...(e.feature ? { feature_name: e.feature } : {}),
            ...(e.referrer ? { referrer: e.referrer } : {}),
          },
        }))
        const res = await app.handle(beaconRequest(body, { ip: s.ip, headers: { 'user-agent': BROWSER_UA } }))
        expect(res.status).toBe(202)
      } else {
        const body = [{ event_type: 'user_signup', user_id: `u-${s.ip}`, client_ip: s.ip, user_agent: BROWSER_UA }]
        const res = await app.handle(ingestRequest(body))
        expect(res.status).toBe(202)
      }
    }
    const half = Math.floor(sends.length / 2)
    for (const s of sends.slice(0, half)) await post(s)
    await deps.flusher.flush()
    for (const s of sends.slice(half)) await post(s)
    now = t0 + 6 * 24 * H

    const goal = async (body: unknown) => (await call(app, 'POST', '/analytics/goals', body)).body as { id: string }
    const pricing = await goal({ name: 'Pricing', page: '/pricing' })
    const docs = await goal({ name: 'Docs', page: '/docs/*' })
    const signupPage = await goal({ name: 'Sign-up page', page: '/signup' })
    const exported = await goal({
      name: 'Export',
      event_type: 'feature_used',
      property: { key: 'feature_name', value: 'Export' },
    })
    type Row = (typeof rows)[number]
    const TESTS: Record<string, (e: Row) => boolean> = {
      page_view: (e) => e.type === 'page_view',
      user_signup: (e) => e.type === 'user_signup',
      feature_used: (e) => e.type === 'feature_used',
      [pricing.id]: (e) => e.path === '/pricing',
      [docs.id]: (e) => e.path?.startsWith('/docs/') ?? false,
      [signupPage.id]: (e) => e.path === '/signup',
      [exported.id]: (e) => e.feature === 'Export',
    }
    const FILTERS: [string, (e: Row) => boolean][] = [
      ['', () => true],
      [`&filters=${encodeURIComponent('[["is","source",["Google"]]]')}`, (e) => e.source === 'Google'],
      [`&filters=${encodeURIComponent('[["is_not","page",["/docs/b"]]]')}`, (e) => e.path !== '/docs/b'],
    ]
    const DAY = 24 * H
    const day0 = Date.parse('2026-12-06T00:00:00Z')

    const oracle = (steps: string[], windowMs: number, fromDay: number, toDay: number, keep: (e: Row) => boolean) => {
      const [from, to] = [day0 + fromDay * DAY, day0 + (toDay + 1) * DAY]
      const byVisitor = new Map<string, Row[]>()
      for (const e of rows) if (keep(e)) byVisitor.set(e.visitor, [...(byVisitor.get(e.visitor) ?? []), e])
      const reached = steps.map(() => 0)
      for (const events of byVisitor.values()) {
        let best = 0
        const extend = (start: number, prev: number, step: number) => {
          best = Math.max(best, step)
          if (step === steps.length) return
          for (const e of events) {
            if (e.at >= prev && e.at - start <= windowMs && TESTS[steps[step]!]!(e)) extend(start, e.at, step + 1)
          }
        }
        for (const e of events) if (e.at >= from && e.at < to && TESTS[steps[0]!]!(e)) extend(e.at, e.at, 1)
        for (let s = 0; s < best; s++) reached[s]!++
      }
      return reached
    }

    const ids = Object.keys(TESTS)
    const draws = Array.from({ length: 14 }, () => {
      const steps = [...ids].sort(() => r.next() - 0.5).slice(0, 2 + r.int(3))
      const window = r.pick(['5m', '1h', '24h', '3d'])
      const fromDay = r.int(3)
      const toDay = fromDay + r.int(3)
      const [filters, keep] = r.pick(FILTERS)
      return { steps, window, fromDay, toDay, filters, keep }
    })
    const windowMs = (w: string) => Number(w.slice(0, -1)) * { m: MIN, h: H, d: DAY }[w.at(-1) as 'm' | 'h' | 'd']
    const dayText = (n: number) => new Date(day0 + n * DAY).toISOString().slice(0, 10)

    let completed = 0
    for (const when of ['half flushed', 'all flushed']) {
      for (const d of draws) {
        const path = `/analytics/funnel?steps=${d.steps.join(',')}&window=${d.window}&from=${dayText(d.fromDay)}&to=${dayText(d.toDay)}${d.filters}`
        const res = await call(app, 'GET', path)
        expect({ path, status: res.status }).toEqual({ path, status: 200 })
        const got = res.body.steps.map((s: { visitors: number }) => s.visitors)
        const expected = oracle(d.steps, windowMs(d.window), d.fromDay, d.toDay, d.keep)
        expect({ when, path, got }).toEqual({ when, path, got: expected })
        if (expected.at(-1)! > 0) completed++
      }
      if (when === 'half flushed') await deps.flusher.flush()
    }
    // the draws were not all empty
    expect(completed).toBeGreaterThan(4)
  }, 120_000)
})
