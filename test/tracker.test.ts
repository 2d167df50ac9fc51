import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { acceptsGzip, matchesEtag, TRACKER_FILE, tracker } from '../src/routes/tracker.ts'
import { buildTracker } from '../src/tracker/build.ts'
import { DOWNLOAD, LOCAL, otherParams, scrub } from '../src/tracker/page.ts'
import { testApp } from './app.ts'

/** The budget for the served script, gzipped: 1,200 bytes, and 20 more for `data-site`. */
const BUDGET_GZIP_BYTES = 1220

const get = (headers: Record<string, string> = {}) => new Request('http://localhost/t.js', { headers })

describe('GET /t.js', () => {
  test('serves public/t.js as cacheable JavaScript any site may load, even with ALLOWED_ORIGINS set', async () => {
    const { app } = await testApp({ allowedOrigins: ['https://shop.example'] })
    const res = await app.handle(get({ origin: 'https://elsewhere.example' }))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    expect(res.headers.get('etag')).toMatch(/^W\/"[\w-]{20,}"$/)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin')
    // the CORS plugin's `Vary: Origin` would make each embedding site fetch its own copy
    expect(res.headers.get('vary')).toBe('Accept-Encoding')
    expect(res.headers.get('content-encoding')).toBeNull()
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(readFileSync(TRACKER_FILE)))
  })

  test('If-None-Match with the ETag answers 304 with no body; another tag gets the script', async () => {
    const { app } = await testApp()
    const etag = (await app.handle(get())).headers.get('etag')!
    for (const header of [etag, etag.replace(/^W\//, ''), `"other", ${etag}`, '*']) {
      const res = await app.handle(get({ 'if-none-match': header }))
      expect({ header, status: res.status }).toEqual({ header, status: 304 })
      expect(res.headers.get('etag')).toBe(etag)
      expect(res.headers.get('cache-control')).toBe('public, max-age=300')
      expect(await res.text()).toBe('')
    }
    const other = await app.handle(get({ 'if-none-match': '"not-this-one"' }))
    expect(other.status).toBe(200)
    expect((await other.arrayBuffer()).byteLength).toBe(readFileSync(TRACKER_FILE).byteLength)
  })

  test('is sent gzipped to clients that accept it, within the size budget', async () => {
    const { app } = await testApp()
    const res = await app.handle(get({ 'accept-encoding': 'gzip, deflate, br' }))
    expect(res.headers.get('content-encoding')).toBe('gzip')
    const body = new Uint8Array(await res.arrayBuffer())
    expect(new Uint8Array(Bun.gunzipSync(body))).toEqual(new Uint8Array(readFileSync(TRACKER_FILE)))
    expect(body.byteLength).toBeLessThanOrEqual(BUDGET_GZIP_BYTES)

    const refused = await app.handle(get({ 'accept-encoding': 'gzip;q=0, br' }))
    expect(refused.headers.get('content-encoding')).toBeNull()
  })

  test('README states the sizes the server sends: the gzipped body as served, and the script', async () => {
    const { app } = await testApp()
    const server = app.listen({ port: 0, hostname: '127.0.0.1' })
    try {
      const url = `http://127.0.0.1:${server.port}/t.js`
      // the body as it goes over the wire, not as fetch would unpack it
      const gzipped = await fetch(url, { headers: { 'accept-encoding': 'gzip' }, decompress: false })
      expect(gzipped.headers.get('content-encoding')).toBe('gzip')
      const wire = (await gzipped.arrayBuffer()).byteLength
      expect(Number(gzipped.headers.get('content-length'))).toBe(wire)
      const plain = (await (await fetch(url, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer()).byteLength
      expect(wire).toBeGreaterThan(500)
      expect(wire).toBeLessThanOrEqual(BUDGET_GZIP_BYTES)

      const readme = readFileSync(join(import.meta.dir, '..', 'README.md'), 'utf8')
      const stated = /`\/t\.js` is ([\d,]+) bytes minified and \*\*([\d,]+) bytes gzipped\*\* as served/.exec(readme)
      const bytes = (text: string | undefined) => Number(text?.replaceAll(',', ''))
      expect({ plain: bytes(stated?.[1]), gzipped: bytes(stated?.[2]) }).toEqual({ plain, gzipped: wire })
    } finally {
      await app.stop(true)
    }
  })

  test('public/t.js is what bun run build:tracker makes of src/tracker (not stale)', async () => {
    const built = await buildTracker()
    const committed = readFileSync(TRACKER_FILE, 'utf8')
    if (built !== committed) throw new Error('public/t.js is stale: run bun run build:tracker')
    expect(committed.split('\n').length).toBeLessThanOrEqual(3)
  })

  test('the script never writes cookies or storage', () => {
    const js = readFileSync(TRACKER_FILE, 'utf8')
    for (const api of ['cookie', 'setItem', 'sessionStorage', 'indexedDB']) {
      expect({ api, found: js.includes(api) }).toEqual({ api, found: false })
    }
  })

  test('a missing build stops the app at start with what to run', () => {
    expect(() => new Elysia().use(tracker({ file: '/nonexistent/t.js' }))).toThrow(/bun run build:tracker/)
  })
})

describe('tracker helpers', () => {
  test('scrub hides e-mail addresses and long tokens, keeps ordinary paths', () => {
    expect(scrub('/users/jane.doe+x@example.com/settings')).toBe('/users/:x/settings')
    expect(scrub('/invite?to=jane%40example.com&ref=hn')).toBe('/invite?to=:x&ref=hn')
    expect(scrub('/reset/9f86d081884c7d659a2feaa0c55ad015')).toBe('/reset/:x')
    expect(scrub('/pay/4111111111111111')).toBe('/pay/:x')
    expect(scrub('/s/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0')).toBe('/s/:x.:x')
    for (const path of [
      '/blog/2024-annual-report-for-investors',
      '/docs/internationalization',
      '/@jane',
      '/v2/items/42',
    ]) {
      expect(scrub(path)).toBe(path)
    }
  })

  test('LOCAL matches the hosts of a developer machine and file: pages only', () => {
    for (const host of ['localhost', 'app.localhost', '127.0.0.1', '127.1.2.3', '[::1]', '']) {
      expect({ host, local: LOCAL.test(host) }).toEqual({ host, local: true })
    }
    for (const host of ['example.com', 'localhost.example.com', '10.0.0.1', '127example.com', '[::2]']) {
      expect({ host, local: LOCAL.test(host) }).toEqual({ host, local: false })
    }
  })

  test('otherParams matches every query parameter but the named ones, so removing them keeps those in URL order', () => {
    const keep = (search: string, names = 'utm_source|ref') => search.replace(otherParams(names), '')
    expect(keep('?q=secret&ref=hn&x=1&utm_source=news')).toBe('&ref=hn&utm_source=news')
    expect(keep('?reference=1&xref=2&ref=3')).toBe('&ref=3')
    expect(keep('?q=1')).toBe('')
    expect(keep('?')).toBe('')
    expect(keep('?=secret&ref=x')).toBe('&ref=x')
    expect(keep('?=secret&a=1', '')).toBe('')
    expect(keep('?=secret&ref=1', 'ref|')).toBe('&ref=1')
    expect(keep('?ref=a(b)')).toBe('?ref=a(b)')
    // a kept name inside another parameter's value is part of that value
    expect(keep('?next=/x?ref=1&ref=2')).toBe('&ref=2')
    // the campaign's three, as the page load's first view reads them
    const campaign = 'utm_(source|medium|campaign)'
    expect(keep('?utm_term=x&utm_source=news&id=7&utm_campaign=launch&utm_medium=', campaign)).toBe(
      '&utm_source=news&utm_campaign=launch&utm_medium=',
    )
    expect(keep('?utm_sourcex=1&xutm_source=2', campaign)).toBe('')
  })

  test('file links are recognized by extension', () => {
    expect(['/a/report.pdf', '/b/data.CSV', '/c/setup.exe', '/d/x.docx'].every((p) => DOWNLOAD.test(p))).toBe(true)
    expect(['/pdf', '/a.html', '/reports/', '/file.pdf.html'].some((p) => DOWNLOAD.test(p))).toBe(false)
  })

  test('matchesEtag and acceptsGzip read the request headers as HTTP means them', () => {
    expect(matchesEtag('W/"a", "b"', '"b"')).toBe(true)
    expect(matchesEtag('"a"', 'W/"a"')).toBe(true)
    expect(matchesEtag('"ab"', 'W/"a"')).toBe(false)
    expect(matchesEtag(null, 'W/"a"')).toBe(false)
    expect(acceptsGzip('gzip')).toBe(true)
    expect(acceptsGzip('br, gzip;q=0.5')).toBe(true)
    expect(acceptsGzip('*')).toBe(true)
    expect(acceptsGzip('gzip;q=0')).toBe(false)
    expect(acceptsGzip('br, gzip ; q=0.0')).toBe(false)
    expect(acceptsGzip('x-gzip2')).toBe(false)
    expect(acceptsGzip(null)).toBe(false)
  })
})
