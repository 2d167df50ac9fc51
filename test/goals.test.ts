/**
 * Goals through the API: managed by `/analytics/goals` (admin changes, the viewer looks), and
 * their conversions read by `stats`, `top` and `/analytics/conversions`, against figures worked
 * out by hand from the visits sent, filtered and not, before and after a flush. A goal made after
 * the events converts them: it is a query of the log.
 */
import { describe, expect, test } from 'bun:test'
import { apiCall, BROWSER_UA, beaconRequest, testApp } from './app.ts'

const ADMIN_TOKEN = 'test-admin-token-0123456789'
const VIEWER_TOKEN = 'test-viewer-token-0123456789'
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` }
const VIEWER = { authorization: `Bearer ${VIEWER_TOKEN}` }

type App = Awaited<ReturnType<typeof testApp>>['app']

const call = (app: App, method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) =>
  apiCall(app, method, path, body, headers)

describe('goals', () => {
  test('are listed for the viewer, made and deleted by the admin, and refused with a reason', async () => {
    const { app } = await testApp({ viewerToken: VIEWER_TOKEN })
    const listed = await call(app, 'GET', '/analytics/goals', undefined, VIEWER)
    expect(listed.status).toBe(200)
    // every event type is a goal already
    expect(listed.body.goals.map((g: { id: string }) => g.id)).toContain('user_signup')
    expect(listed.body.goals.every((g: { built_in: boolean }) => g.built_in)).toBe(true)
    // the viewer may not manage them, the admin may: the dashboard shows its form by this
    expect(listed.body.manage).toBe(false)
    expect((await call(app, 'GET', '/analytics/goals')).body.manage).toBe(true)

    const made = await call(app, 'POST', '/analytics/goals', { name: 'Docs', page: '/docs/*' })
    expect(made.status).toBe(201)
    expect(made.body).toMatchObject({ name: 'Docs', built_in: false, event_type: 'page_view', page: '/docs/*' })
    const pro = await call(app, 'POST', '/analytics/goals', {
      name: 'Pro plan',
      event_type: 'subscription_started',
      property: { key: 'plan', value: 'pro' },
      value: { property: 'amount', currency: 'EUR' },
    })
    expect(pro.status).toBe(201)
    expect(pro.body.value).toEqual({ property: 'amount', currency: 'EUR' })
    const after = await call(app, 'GET', '/analytics/goals', undefined, VIEWER)
    expect(after.body.goals.slice(-2).map((g: { name: string }) => g.name)).toEqual(['Docs', 'Pro plan'])

    // the viewer cannot change them
    expect((await call(app, 'POST', '/analytics/goals', { name: 'X', page: '/x' }, VIEWER)).status).toBe(403)
    expect((await call(app, 'DELETE', `/analytics/goals/${made.body.id}`, undefined, VIEWER)).status).toBe(403)
    expect((await call(app, 'GET', '/analytics/goals', undefined, {})).status).toBe(401)

    // a name is taken once
    const again = await call(app, 'POST', '/analytics/goals', { name: 'Docs', page: '/other' })
    expect(again.status).toBe(409)
    expect(again.body.error).toContain('Docs')

    const refused: [unknown, string][] = [
      [{ page: '/x' }, 'name'],
      [{ name: 'A' }, 'event_type'],
      [{ name: 'A', page: '/x', event_type: 'page_view' }, 'page'],
      [{ name: 'A', page: 'x' }, 'page'],
      [{ name: 'A', event_type: 'nope' }, 'event_type'],
      [{ name: 'A', page: '/x', property: { key: 'k', value: 'v' } }, 'property'],
      [{ name: 'A', event_type: 'user_signup', property: { key: 'k' } }, 'property'],
      [{ name: 'A', event_type: 'user_signup', value: { property: 'amount', currency: 'euro' } }, 'value'],
      [{ name: 'A', event_type: 'user_signup', value: {} }, 'value'],
      [{ name: 'A', page: '/x', color: 'red' }, 'color'],
      [{ name: 'user_signup', page: '/x' }, 'name'],
      [{ name: 'x'.repeat(4000), page: '/x' }, 'name'],
      [{ name: 'A\u0000', page: '/x' }, 'name'],
      [[], ''],
    ]
    for (const [body, field] of refused) {
      const res = await call(app, 'POST', '/analytics/goals', body)
      expect({ body, status: res.status }).toEqual({ body, status: 422 })
      expect({ body, error: res.body.error.startsWith(field) }).toEqual({ body, error: true })
    }
    expect((await call(app, 'POST', '/analytics/goals', '{"name":')).status).toBe(400)
    expect((await call(app, 'POST', '/analytics/goals', 'x'.repeat(20_000))).status).toBe(413)
    // nothing of those was made
    expect((await call(app, 'GET', '/analytics/goals')).body.goals).toHaveLength(after.body.goals.length)

    // built-in goals stay; an unknown id is 404; a configured one goes
    expect((await call(app, 'DELETE', '/analytics/goals/user_signup')).status).toBe(422)
    expect((await call(app, 'DELETE', '/analytics/goals/999999')).status).toBe(404)
    expect((await call(app, 'DELETE', `/analytics/goals/${'9'.repeat(40)}`)).status).toBe(404)
    expect((await call(app, 'DELETE', `/analytics/goals/${made.body.id}`)).status).toBe(204)
    expect((await call(app, 'DELETE', `/analytics/goals/${made.body.id}`)).status).toBe(404)
    const left = await call(app, 'GET', '/analytics/goals')
    expect(left.body.goals.map((g: { name: string }) => g.name)).not.toContain('Docs')
  })

  test('at most 50 are configured', async () => {
    const { app } = await testApp()
    const made = await Promise.all(
      Array.from({ length: 52 }, (_, i) => call(app, 'POST', '/analytics/goals', { name: `g${i}`, page: `/p${i}` })),
    )
    expect(made.filter((m) => m.status === 201)).toHaveLength(50)
    const over = made.filter((m) => m.status === 422)
    expect(over).toHaveLength(2)
    expect(over[0]!.body.error).toContain('at most 50')
  })

  test('conversions and conversion rates are exact, filtered, per source and per goal, across a flush', async () => {
    const t0 = Date.parse('2026-12-06T10:00:00Z')
    let now = t0
    const { app, deps } = await testApp({ trustProxy: { hops: 1 } }, { now: () => now })
    const send = async (at: number, ip: string, events: unknown[]) => {
      now = at
      const res = await app.handle(beaconRequest(events, { ip, headers: { 'user-agent': BROWSER_UA } }))
      expect(res.status).toBe(202)
    }
    const view = (path: string, referrer?: string) => ({
      event_type: 'page_view',
      properties: referrer ? { path, referrer } : { path },
    })
    const google = 'https://www.google.com/'
    const download = (amount: string, currency?: string) => ({
      event_type: 'asset_downloaded',
      properties: currency ? { amount, currency } : { amount },
    })
    // A from Google: reads the docs, downloads for 10 EUR and 2.5 EUR
    await send(t0, '198.51.100.1', [view('/docs/start', google)])
    await send(t0 + 60_000, '198.51.100.1', [download('10', 'EUR'), download('2.5')])
    // B from Google: one page, no docs
    await send(t0 + 10_000, '198.51.100.2', [view('/pricing', google)])
    // C from X: the docs twice, downloads for 7 USD (no value in EUR)
    await send(t0 + 20_000, '198.51.100.3', [view('/docs/a', 'https://t.co/x'), view('/docs/b')])
    await send(t0 + 30_000, '198.51.100.3', [download('7', 'USD')])
    // D direct: a feature only
    await send(t0 + 40_000, '198.51.100.4', [{ event_type: 'feature_used', properties: { feature_name: 'x' } }])
    // a goal on the feature's name, which the log keeps in its own column
    const featureX = (
      await call(app, 'POST', '/analytics/goals', {
        name: 'Feature x',
        event_type: 'feature_used',
        property: { key: 'feature_name', value: 'x' },
      })
    ).body
    now = t0 + 3_600_000

    // goals made after the events convert them
    const docs = (await call(app, 'POST', '/analytics/goals', { name: 'Docs', page: '/docs/*' })).body
    const euros = (
      await call(app, 'POST', '/analytics/goals', {
        name: 'Euros',
        event_type: 'asset_downloaded',
        value: { property: 'amount', currency: 'EUR' },
      })
    ).body

    const day = 'from=2026-12-06&to=2026-12-06'
    const GOOGLE = encodeURIComponent(JSON.stringify([['is', 'source', ['Google']]]))
    const check = async (when: string) => {
      const rate = (await call(app, 'GET', `/analytics/stats?metric=conversion_rate&goal=${docs.id}&${day}`)).body
      // A and C of four visitors
      expect({ when, rate }).toMatchObject({
        when,
        rate: { total: 2, visitors: 4, value: 50, series: [{ t: '2026-12-06', count: 2, visitors: 4, value: 50 }] },
      })
      const googleRate = (
        await call(app, 'GET', `/analytics/stats?metric=conversion_rate&goal=${docs.id}&${day}&filters=${GOOGLE}`)
      ).body
      expect({ when, total: googleRate.total, visitors: googleRate.visitors, value: googleRate.value }).toEqual({
        when,
        total: 1,
        visitors: 2,
        value: 50,
      })
      const value = (await call(app, 'GET', `/analytics/stats?metric=conversions&goal=${euros.id}&${day}`)).body
      // A's 10 EUR and 2.5 (no currency: the goal's); C's USD adds nothing but converts
      expect({ when, value: [value.total, value.goal_value, value.value] }).toEqual({
        when,
        value: [2, 12.5, undefined],
      })
      const bySource = (
        await call(
          app,
          'GET',
          `/analytics/top?dimension=source&${day}&metrics=conversions,conversion_rate&goal=${docs.id}`,
        )
      ).body
      expect({ when, items: bySource.items }).toEqual({
        when,
        items: [
          { name: 'Google', count: 2, conversions: 1, conversion_rate: 50 },
          { name: '(direct)', count: 1, conversions: 0, conversion_rate: 0 },
          { name: 'X', count: 1, conversions: 1, conversion_rate: 100 },
        ],
      })
      const panel = (await call(app, 'GET', `/analytics/conversions?${day}`)).body
      const of = (id: string) => panel.goals.find((g: { goal: { id: string } }) => g.goal.id === id)
      expect({ when, visitors: panel.visitors }).toEqual({ when, visitors: 4 })
      expect({ when, docs: of(docs.id) }).toMatchObject({ when, docs: { conversions: 2, conversion_rate: 50 } })
      expect({ when, euros: of(euros.id) }).toMatchObject({
        when,
        euros: { conversions: 2, conversion_rate: 50, value: 12.5, value_per_conversion: 6.25 },
      })
      expect({ when, signup: of('user_signup') }).toMatchObject({
        when,
        signup: { conversions: 0, conversion_rate: 0 },
      })
      expect({ when, features: of('feature_used') }).toMatchObject({ when, features: { conversions: 1 } })
      expect({ when, featureX: of(featureX.id) }).toMatchObject({ when, featureX: { conversions: 1 } })
      const googlePanel = (await call(app, 'GET', `/analytics/conversions?${day}&filters=${GOOGLE}`)).body
      expect({ when, visitors: googlePanel.visitors }).toEqual({ when, visitors: 2 })
    }
    // a goal as a filter: the visitors who read the docs, by source; and who they are
    const DID_DOCS = encodeURIComponent(JSON.stringify([['is', 'goal', [docs.id]]]))
    const filtered = async (when: string) => {
      const bySource = (await call(app, 'GET', `/analytics/top?dimension=source&${day}&filters=${DID_DOCS}`)).body
      expect({ when, items: bySource.items }).toEqual({
        when,
        items: [
          { name: 'Google', count: 1 },
          { name: 'X', count: 1 },
        ],
      })
      const who = (await call(app, 'GET', `/analytics/stats?metric=visitors&${day}&filters=${DID_DOCS}`)).body
      expect({ when, visitors: who.total }).toEqual({ when, visitors: 2 })
      // the page views that complete it: A's one and C's two
      const views = (await call(app, 'GET', `/analytics/stats?event_type=page_view&${day}&filters=${DID_DOCS}`)).body
      expect({ when, views: views.total }).toEqual({ when, views: 3 })
    }
    await check('pending')
    await filtered('pending')
    await deps.flusher.flush()
    await check('flushed')
    await filtered('flushed')

    const csv = await call(app, 'GET', `/analytics/stats?metric=conversion_rate&goal=${euros.id}&${day}&format=csv`)
    expect(csv.body).toBe(
      '"t","visitors","conversions","conversion_rate","goal_value"\r\n"2026-12-06","4","2","50","12.5"\r\n',
    )
    const panelCsv = await call(app, 'GET', `/analytics/conversions?${day}&format=csv`)
    expect(panelCsv.body).toContain(`"${euros.id}","Euros","2","50","12.5","6.25"`)

    // the goal parameter: required by the conversion metrics, refused elsewhere, a known goal
    const refused: [string, string][] = [
      [`/analytics/stats?metric=conversions&${day}`, 'goal'],
      [`/analytics/stats?metric=conversions&goal=nope&${day}`, 'goal'],
      [`/analytics/stats?metric=conversions&goal=99999&${day}`, 'goal'],
      [`/analytics/stats?metric=events&goal=user_signup&${day}`, 'goal'],
      [`/analytics/stats?metric=conversions&goal=user_signup&event_type=user_signup&${day}`, 'event_type'],
      [`/analytics/top?dimension=source&metrics=conversions&${day}`, 'goal'],
      [`/analytics/top?dimension=page&metrics=conversions&goal=user_signup&${day}`, 'metrics'],
      [`/analytics/top?dimension=source&goal=user_signup&${day}`, 'goal'],
      [`/analytics/conversions?${day}&goal=x`, 'goal'],
      [`/analytics/stats?${day}&filters=${encodeURIComponent('[["is","goal",["nope"]]]')}`, 'filters'],
      [`/analytics/stats?${day}&filters=${encodeURIComponent('[["is_not","goal",["user_signup"]]]')}`, 'filters'],
      [`/analytics/conversions?${day}&filters=${encodeURIComponent('[["is","goal",["12345"]]]')}`, 'filters'],
    ]
    for (const [path, parameter] of refused) {
      const res = await call(app, 'GET', path)
      expect({ path, status: res.status, parameter: res.body.parameter }).toEqual({ path, status: 422, parameter })
    }
  })
})
