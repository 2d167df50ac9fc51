/**
 * Shared links: read-only tokens of one site, made, listed and revoked by the admin. A link reads
 * its own site whether it names it or not, and nothing of another (403 on every read: the API, its
 * CSV, the live feed, the dashboard's data); it manages nothing; it stops at once when revoked or
 * when its site is deleted. Only the token's digest is stored.
 */
import { describe, expect, test } from 'bun:test'
import { apiCall, BROWSER_UA, testApp } from './app.ts'

type App = Awaited<ReturnType<typeof testApp>>['app']

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const VIEWER = { authorization: 'Bearer test-viewer-token-0123456789' }
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

function beacon(app: App, origin: string) {
  return app.handle(
    new Request('http://localhost/e', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA, origin },
      body: JSON.stringify({ event_type: 'page_view', properties: { path: '/' } }),
    }),
  )
}

async function setUp() {
  const { app, deps } = await testApp({ viewerToken: 'test-viewer-token-0123456789' })
  const call = (method: string, path: string, body?: unknown, headers = ADMIN) =>
    apiCall(app, method, path, body, headers)
  const shop = (await call('POST', '/analytics/sites', { domains: ['shop.example.com'] })).body.id as number
  const docs = (await call('POST', '/analytics/sites', { domains: ['docs.example.com'] })).body.id as number
  expect((await beacon(app, 'https://shop.example.com')).status).toBe(202)
  expect((await beacon(app, 'https://docs.example.com')).status).toBe(202)
  expect((await beacon(app, 'https://docs.example.com')).status).toBe(202)
  return { app, deps, call, shop, docs }
}

describe('shared links', () => {
  test('made, listed and revoked by the admin; the token is shown once and stored as its digest', async () => {
    const { deps, call, shop } = await setUp()
    const made = await call('POST', `/analytics/sites/${shop}/links`, { name: ' Board screen ' })
    expect(made.status).toBe(201)
    expect(made.body).toMatchObject({ site: shop, name: 'Board screen' })
    expect(made.body.token).toMatch(/^sl_[A-Za-z0-9_-]{32}$/)
    expect(made.body.url).toBe(`dashboard#token=${made.body.token}`)
    // listed without its token
    const listed = await call('GET', '/analytics/sites/shop.example.com/links')
    expect(listed.body).toEqual({
      links: [{ id: made.body.id, site: shop, name: 'Board screen', created_at: made.body.created_at }],
    })
    // nowhere in Postgres as it is
    const stored = await deps.pool.query(
      'SELECT count(*)::int AS n FROM analytics_site_links WHERE position($1::bytea in token_hash) > 0 OR name = $2',
      [Buffer.from(made.body.token), made.body.token],
    )
    expect(stored.rows[0].n).toBe(0)
    // refusals, each naming its reason
    expect((await call('POST', `/analytics/sites/${shop}/links`, { name: 'Board screen' })).status).toBe(409)
    expect(await call('POST', `/analytics/sites/${shop}/links`, {})).toMatchObject({
      status: 422,
      body: { field: 'name' },
    })
    expect((await call('POST', '/analytics/sites/nowhere.example/links', { name: 'x' })).status).toBe(404)
    expect((await call('GET', `/analytics/sites/${shop}/links`, undefined, VIEWER)).status).toBe(403)
    expect((await call('DELETE', `/analytics/sites/${shop}/links/999`)).status).toBe(404)
    expect((await call('DELETE', `/analytics/sites/${shop}/links/${made.body.id}`)).status).toBe(204)
    expect((await call('GET', `/analytics/sites/${shop}/links`)).body).toEqual({ links: [] })
  })

  test("a link reads its own site, named or not, and nothing of another site's: API, CSV, live feed, dashboard", async () => {
    const { app, call, shop, docs } = await setUp()
    const { token } = (await call('POST', `/analytics/sites/${shop}/links`, { name: 'Client' })).body
    const as = (path: string) => call('GET', path, undefined, bearer(token))

    // its own site, without naming it (with two sites an admin must) and named by id or domain
    for (const path of [
      '/analytics/stats?metric=events',
      `/analytics/stats?metric=events&site=${shop}`,
      '/analytics/stats?metric=events&site=shop.example.com',
    ]) {
      expect(await as(path)).toMatchObject({ status: 200, body: { total: 1 } })
    }
    expect((await as('/analytics/dashboard')).status).toBe(200)
    expect((await as('/analytics/goals')).status).toBe(200)
    expect((await as('/analytics/funnels')).status).toBe(200)
    expect((await as('/analytics/sites')).body).toMatchObject({ sites: [{ id: shop }], manage: false })
    const own = await app.handle(new Request('http://localhost/analytics/live', { headers: bearer(token) }))
    expect(own.status).toBe(200)
    await own.body?.cancel()

    // another site: refused on every read, its CSV and live feed included, and the dashboard's data
    const others = [
      `/analytics/stats?metric=events&site=${docs}`,
      '/analytics/stats?metric=events&site=docs.example.com&format=csv',
      `/analytics/top?dimension=page&site=${docs}`,
      `/analytics/top?dimension=page&site=${docs}&format=csv`,
      `/analytics/dashboard?site=${docs}`,
      `/analytics/conversions?site=${docs}`,
      `/analytics/funnel?steps=page_view,user_signup&site=${docs}`,
      `/analytics/goals?site=${docs}`,
      `/analytics/log/check?site=${docs}`,
      '/analytics/users/u1?site=0',
    ]
    for (const path of others) {
      expect({ path, ...(await as(path)) }).toMatchObject({ path, status: 403, body: { parameter: 'site' } })
    }
    const feed = await app.handle(new Request(`http://localhost/analytics/live?site=${docs}&token=${token}`))
    expect(feed.status).toBe(403)
    // nor every site at a glance
    expect((await as('/analytics/overview')).status).toBe(403)
    // it manages nothing
    expect((await call('POST', '/analytics/goals', { name: 'g', page: '/x' }, bearer(token))).status).toBe(403)
    expect((await call('POST', '/analytics/flush', undefined, bearer(token))).status).toBe(401)
    expect((await call('DELETE', `/analytics/sites/${shop}`, undefined, bearer(token))).status).toBe(403)
    // the viewer token still reads every site
    expect(await call('GET', `/analytics/stats?metric=events&site=${docs}`, undefined, VIEWER)).toMatchObject({
      status: 200,
      body: { total: 2 },
    })
  })

  test('a revoked link, and a deleted site’s links, read nothing from then on', async () => {
    const { call, shop, docs } = await setUp()
    const first = (await call('POST', `/analytics/sites/${shop}/links`, { name: 'One' })).body
    const second = (await call('POST', `/analytics/sites/${docs}/links`, { name: 'Two' })).body
    const read = (token: string) => call('GET', '/analytics/stats?metric=events', undefined, bearer(token))
    expect((await read(first.token)).status).toBe(200)
    expect((await read(second.token)).status).toBe(200)
    await call('DELETE', `/analytics/sites/${shop}/links/${first.id}`)
    expect(await read(first.token)).toMatchObject({ status: 401, body: { error: 'invalid token' } })
    await call('DELETE', `/analytics/sites/${docs}`)
    expect(await read(second.token)).toMatchObject({ status: 401, body: { error: 'invalid token' } })
    // a site added under the deleted one's id does not take its links
    const again = (await call('POST', '/analytics/sites', { domains: ['new.example.com'] })).body.id
    expect(again).toBe(docs)
    expect((await read(second.token)).status).toBe(401)
    // a token of no link at all
    expect((await read('sl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(401)
  })
})
