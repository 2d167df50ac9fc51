import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { Elysia } from 'elysia'
import { buildDashboard, buildLiveScreen, gzippedSize, MAX_GZIPPED_JS } from '../src/dashboard/build.ts'
import { DASHBOARD_CSS, DASHBOARD_JS, dashboard, dashboardPage } from '../src/routes/dashboard.ts'
import { LIVE_JS } from '../src/routes/live.ts'

const app = new Elysia().use(dashboard({ countedProperties: ['plan', 'variant'], timeZone: 'Europe/Berlin' }))
const get = (path: string, headers: Record<string, string> = {}) =>
  app.handle(new Request(`http://localhost${path}`, { headers }))

describe('GET /dashboard', () => {
  test('serves the page with a policy that lets it load and send nothing elsewhere', async () => {
    const res = await get('/dashboard')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'")
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self';")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await res.text()
    expect(html).toContain('<meta name="time-zone" content="Europe/Berlin" />')
    expect(html).toContain('<meta name="counted-properties" content="plan,variant" />')
    expect(html).toContain('<script src="dashboard.js" defer></script>')
    // nothing from another origin: every src and href is relative or a data: URL
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^(data:|[\w.-]+$)/)
  })

  test('without TIME_ZONE the page says UTC; what it is told is HTML-escaped', () => {
    const template = '<meta content="{{TIME_ZONE}}"><meta content="{{COUNTED_PROPERTIES}}">'
    expect(dashboardPage(template, { countedProperties: [] })).toBe('<meta content="UTC"><meta content="">')
    expect(dashboardPage(template, { countedProperties: ['a"b', '<c>'] })).toBe(
      '<meta content="UTC"><meta content="a&quot;b,&lt;c&gt;">',
    )
  })

  test('/ and /dashboard/ redirect to the page, relative to where they are', async () => {
    const root = await get('/')
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe('dashboard')
    const slash = await get('/dashboard/?period=7d')
    expect(slash.status).toBe(308)
    expect(slash.headers.get('location')).toBe('../dashboard?period=7d')
  })

  test('the script and styles go gzipped with an ETag, and revalidate to 304', async () => {
    for (const [path, file, type] of [
      ['/dashboard.js', DASHBOARD_JS, 'text/javascript; charset=utf-8'],
      ['/dashboard.css', DASHBOARD_CSS, 'text/css; charset=utf-8'],
    ] as const) {
      const res = await get(path, { 'accept-encoding': 'gzip, br' })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe(type)
      expect(res.headers.get('content-encoding')).toBe('gzip')
      expect(res.headers.get('cache-control')).toBe('no-cache')
      const body = new Uint8Array(Bun.gunzipSync(new Uint8Array(await res.arrayBuffer())))
      expect(body).toEqual(new Uint8Array(readFileSync(file)))
      const etag = res.headers.get('etag')!
      const again = await get(path, { 'if-none-match': etag })
      expect(again.status).toBe(304)
      expect(await again.text()).toBe('')
      const plain = await get(path)
      expect(plain.headers.get('content-encoding')).toBeNull()
    }
  })

  test('a missing build stops the app at start with what to run', () => {
    const files = { html: '/nonexistent/dashboard.html', js: DASHBOARD_JS, css: DASHBOARD_CSS }
    expect(() => dashboard({ countedProperties: [], files })).toThrow(/bun run build:dashboard/)
  })
})

describe('the built dashboard', () => {
  test('public/dashboard.js and .css are what bun run build:dashboard makes of src/dashboard (not stale)', async () => {
    const { js, css } = await buildDashboard()
    if (js !== readFileSync(DASHBOARD_JS, 'utf8') || css !== readFileSync(DASHBOARD_CSS, 'utf8'))
      throw new Error('public/dashboard.js or .css is stale: run bun run build:dashboard')
  })

  test('public/live.js is what bun run build:dashboard makes of src/live-screen (not stale)', async () => {
    if ((await buildLiveScreen()) !== readFileSync(LIVE_JS, 'utf8'))
      throw new Error('public/live.js is stale: run bun run build:dashboard')
  })

  test('the whole page has at most 80 KB of script, gzipped', () => {
    const size = gzippedSize(readFileSync(DASHBOARD_JS, 'utf8'))
    expect(size).toBeGreaterThan(10_000)
    expect(size).toBeLessThanOrEqual(MAX_GZIPPED_JS)
  })

  test('the script names no other origin to load from or send to', () => {
    const js = readFileSync(DASHBOARD_JS, 'utf8')
    // the only absolute URLs in it are the XML namespaces Preact creates SVG and MathML elements in
    const urls = [...js.matchAll(/https?:\/\/[^\s"'`)]+/g)].map((m) => m[0])
    expect(urls.filter((u) => !u.startsWith('http://www.w3.org/'))).toEqual([])
  })
})
