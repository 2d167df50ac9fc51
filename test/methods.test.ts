/**
 * Every path the app serves answers a method it does not take with 405, an Allow header and a
 * JSON reason; unknown paths stay 404. The paths come from the app's own route table, so a route
 * added later is tested here without anyone adding it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BEACON_PATH, createApp } from '../src/app.ts'
import { testApp } from './app.ts'

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
/** what `/e` takes, answered by the beacon itself (routes/beacon.ts) */
const BEACON_METHODS = ['GET', 'OPTIONS', 'POST']

let t: Awaited<ReturnType<typeof testApp>>
let app: ReturnType<typeof createApp>
let base: string

beforeAll(async () => {
  t = await testApp({ adminToken: 'test-admin-token-0123456789' })
  // with the demo page, as `bun run dev` serves it, so that every route there is
  app = createApp(t.deps, { demo: true })
  base = `http://127.0.0.1:${app.listen({ port: 0, hostname: '127.0.0.1' }).port}`
})
afterAll(async () => {
  await app.stop(true)
})

/** Each path of the route table, with a value in each parameter, and the methods it takes. */
function servedPaths(): Map<string, string[]> {
  const paths = new Map<string, Set<string>>([[BEACON_PATH, new Set(BEACON_METHODS)]])
  for (const route of app.elysia.routes) {
    // the CORS plugin's preflight route for every path: tested below, as OPTIONS on each
    if (route.path.includes('*')) continue
    const path = route.path.replace(/:[^/]+/g, 'some-id')
    const methods = paths.get(path) ?? new Set(['OPTIONS'])
    methods.add(route.method)
    if (route.method === 'GET') methods.add('HEAD')
    paths.set(path, methods)
  }
  return new Map([...paths].map(([path, methods]) => [path, [...methods].sort()]))
}

const via = {
  'app.handle': (path: string, method: string) => app.handle(new Request(`http://localhost${path}`, { method })),
  'the listening server': (path: string, method: string) => fetch(`${base}${path}`, { method }),
}

describe('methods', () => {
  test('the route table holds every surface', () => {
    const paths = [...servedPaths().keys()]
    for (const path of ['/e', '/analytics/stats', '/analytics/flush', '/analytics/events', '/healthz', '/metrics']) {
      expect(paths).toContain(path)
    }
    for (const path of ['/analytics/live', '/live', '/dashboard', '/t.js', '/demo', '/analytics/users/some-id']) {
      expect(paths).toContain(path)
    }
  })

  for (const [name, send] of Object.entries(via)) {
    test(`through ${name}: a method a served path does not take is 405 with Allow and a JSON reason`, async () => {
      const served = servedPaths()
      let refused = 0
      for (const [path, allowed] of served) {
        for (const method of METHODS) {
          const res = await send(path, method)
          const body = method === 'HEAD' ? '' : await res.text()
          const where = `${method} ${path} → ${res.status} ${body.slice(0, 120)}`
          if (allowed.includes(method)) {
            expect([where, res.status === 404 || res.status === 405]).toEqual([where, false])
            continue
          }
          refused++
          expect([where, res.status]).toEqual([where, 405])
          const allow = (res.headers.get('allow') ?? '').split(/,\s*/).sort()
          expect([where, allow]).toEqual([where, allowed])
          expect(res.headers.get('x-content-type-options')).toBe('nosniff')
          if (method === 'HEAD') continue
          expect(res.headers.get('content-type')).toStartWith('application/json')
          expect(JSON.parse(body).error).toContain(`${method} is not allowed`)
        }
      }
      expect(refused).toBeGreaterThan(served.size * 3)
    })

    test(`through ${name}: unknown paths stay 404`, async () => {
      for (const path of ['/nope', '/analytics/nope', '/analytics/users', '/analytics/users/a/b', '/t.jsx', '/e/x']) {
        for (const method of METHODS.filter((m) => m !== 'OPTIONS')) {
          const res = await send(path, method)
          expect([method, path, res.status]).toEqual([method, path, 404])
          expect(res.headers.get('allow')).toBeNull()
        }
      }
    })
  }

  test('POST /analytics/stats and GET /analytics/flush, as the issue found them', async () => {
    const stats = await app.handle(new Request('http://localhost/analytics/stats', { method: 'POST' }))
    expect(stats.status).toBe(405)
    expect(stats.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
    expect(await stats.json()).toEqual({ error: 'POST is not allowed on this path; it takes GET, HEAD, OPTIONS' })
    const flush = await app.handle(new Request('http://localhost/analytics/flush', { method: 'GET' }))
    expect(flush.status).toBe(405)
    expect(flush.headers.get('allow')).toBe('OPTIONS, POST')
  })
})
