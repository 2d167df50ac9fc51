/**
 * The tracker in real Chromium, against the real server (a child process) and real Redis.
 *
 * The fixture site is served here on `site.test` (mapped to loopback by the browser), another
 * origin than the endpoint; the endpoint sits behind a recording proxy, so the tests see every
 * request the page made on the wire, preflights included, and then read what Redis counted.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { createKeys, dayOf, type PendingKind } from '../src/counters/keys.ts'
import { closeRedis, openRedis, type Redis } from '../src/db/redis.ts'
import { silentLogger } from '../src/log.ts'
import { BROWSER_UA } from './app.ts'
import { chromiumPath, launchChromium, NO_CHROMIUM } from './browser.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { redisUrl, testPrefix } from './services.ts'
import { waitFor } from './wait.ts'

// this file starts processes: bun's 5 s default is too short on a busy machine
setDefaultTimeout(30_000)

/** The tracker's API as the fixture pages have it (code in page.evaluate runs there). */
declare const track: ((type: string, props?: Record<string, unknown>) => void) & { identify(id: unknown): void }

const CHROMIUM = chromiumPath()
if (!CHROMIUM) console.warn(NO_CHROMIUM)

interface TrackedEvent {
  event_type: string
  user_id?: string
  properties: Record<string, unknown> & { path: string; feature_name?: string }
}

/** A request that reached the endpoint, as the browser sent it. */
interface Hit {
  method: string
  host: string
  path: string
  /** the query the request was sent with (`?site=` from data-site) */
  search: string
  contentType: string | null
  origin: string | null
  events: TrackedEvent[]
  status: number
}

const STUB = '<script>window.track=window.track||function(){(track.q=track.q||[]).push(arguments)}</script>'
const ATTACHMENT = new TextEncoder().encode('%PDF-1.4 fixture')

/** Playwright turns bfcache off and says `navigator.webdriver`; these init scripts adjust a page. */
const NOT_AUTOMATED = "Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false })"
const DNT = "Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })"
const GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })"
const REJECTIONS =
  "window.rejections = []; addEventListener('unhandledrejection', (e) => rejections.push(String(e.reason)))"

let id = 0
/** A fresh name for a test's pages and features: short, so the tracker's scrubbing keeps it. */
const unique = (name: string) => `${name}-${(++id).toString(36)}${Math.random().toString(36).slice(2, 6)}`

/** Browser tests wait on real pages and timers; Bun's default of 5 s per test is too short. */
const TIMEOUT_MS = 30_000

/** How long a page gets to do what a test waits for. */
const PAGE_MS = 10_000

/** The admin token the test server starts with (test/server-process.ts). */
const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }

describe.skipIf(!CHROMIUM)('tracker in Chromium', () => {
  let server: ServerProcess
  let redis: Redis
  let browser: Browser
  let proxy: ReturnType<typeof Bun.serve>
  let fixture: ReturnType<typeof Bun.serve>
  let site: string
  let endpoint: string
  const prefix = testPrefix()
  const keys = createKeys(prefix)
  const hits: Hit[] = []
  const pages = new Map<string, string>()

  /** Requests at the proxies not yet recorded in `hits`. */
  const inflight = new Set<Promise<Response>>()
  /** Markers the pages sent (see {@link settle}), each counted once the requests before it are recorded. */
  const markers = new Set<string>()
  /** The pages a test has open, which {@link settle} asks for a marker. */
  const openPages = new Set<Page>()

  /** Passes a request on to the real server, recording it as the browser sent it. */
  function forward(request: Request, path: string): Promise<Response> {
    const relayed = relay(request, path)
    inflight.add(relayed)
    const done = () => inflight.delete(relayed)
    relayed.then(done, done)
    return relayed
  }

  /** A marker counts once every request that reached a proxy before it is in `hits`. */
  async function mark(request: Request): Promise<Response> {
    await Promise.all(inflight)
    markers.add(new URL(request.url).searchParams.get('id')!)
    return new Response(null, { status: 204 })
  }

  async function relay(request: Request, path: string): Promise<Response> {
    const url = new URL(request.url)
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text()
    const headers = new Headers(request.headers)
    headers.delete('host')
    const res = await fetch(server.url + path + url.search, {
      method: request.method,
      headers,
      body,
      decompress: false,
    } as RequestInit)
    const parsed = body ? JSON.parse(body) : []
    hits.push({
      method: request.method,
      host: url.host,
      path,
      search: url.search,
      contentType: request.headers.get('content-type'),
      origin: request.headers.get('origin'),
      events: Array.isArray(parsed) ? parsed : [parsed],
      status: res.status,
    })
    return new Response(res.body, { status: res.status, headers: res.headers })
  }

  beforeAll(async () => {
    server = await startServerProcess({
      REDIS_PREFIX: prefix,
      // the tracker keeps these in page paths; the server must keep them too to count them
      PATH_QUERY_PARAMS: 'utm_source,ref',
      // counters stay pending in Redis for the whole file
      FLUSH_INTERVAL_MS: '86400000',
    })
    redis = await openRedis(await redisUrl(), silentLogger)
    proxy = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        const { pathname } = new URL(req.url)
        return pathname === '/marker' ? mark(req) : forward(req, pathname)
      },
    })
    fixture = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        const { pathname } = new URL(req.url)
        // a same-origin proxy path, as a site would set one up to serve the tracker from its own host
        if (pathname.startsWith('/stats/')) return forward(req, pathname.slice('/stats'.length))
        if (pathname.startsWith('/files/')) {
          return new Response(ATTACHMENT, {
            headers: { 'content-type': 'application/pdf', 'content-disposition': 'attachment' },
          })
        }
        const html = pages.get(pathname) ?? '<!doctype html><title>plain</title><p>no tracker here</p>'
        return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } })
      },
    })
    site = `http://site.test:${fixture.port}`
    endpoint = `http://127.0.0.1:${proxy.port}`
    browser = await launchChromium({
      // the back/forward cache is under test here
      ignoreDefaultArgs: ['--disable-back-forward-cache'],
      extraArgs: ['--host-resolver-rules=MAP *.test 127.0.0.1'],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    proxy?.stop(true)
    fixture?.stop(true)
    if (redis) await closeRedis(redis)
    await server?.stop()
  }, 30_000)

  interface Opened {
    context: BrowserContext
    page: Page
    errors: Error[]
    logs: string[]
  }

  interface PageOptions {
    /** the script tag's attributes (default `data-allow-local`: playwright's browser is automated) */
    attrs?: string
    head?: string
    body?: string
    /** where the script is loaded from (default: the endpoint's /t.js) */
    src?: string
  }

  /** Registers a fixture page at `path` that loads the tracker the way the README says to. */
  let contexts = 0

  function trackedPage(path: string, options: PageOptions = {}): void {
    const src = options.src ?? `${endpoint}/t.js`
    pages.set(
      path,
      `<!doctype html><html><head><meta charset="utf-8"><title>fixture</title>` +
        `<script defer src="${src}" ${options.attrs ?? 'data-allow-local'}></script>${STUB}${options.head ?? ''}` +
        `</head><body>${options.body ?? ''}</body></html>`,
    )
  }

  interface OpenOptions extends PageOptions {
    init?: string[]
    origin?: string
    /** an origin to come from: the page is opened by following a link on a page there */
    via?: string
  }

  /**
   * Opens a tracked page (`path` may carry a query string) in a new browser context (with a
   * normal Chrome user agent: the server does not count HeadlessChrome) once the tracker has
   * started on it. Each context is a visitor of its own, as another person would be: its user
   * agent carries a number (every page here comes from one address).
   */
  async function open(path: string, options: OpenOptions = {}): Promise<Opened> {
    trackedPage(path.split('?')[0]!, options)
    const context = await browser.newContext({ userAgent: `${BROWSER_UA} Visitor/${++contexts}` })
    for (const script of [REJECTIONS, ...(options.init ?? [])]) await context.addInitScript(script)
    const page = await context.newPage()
    openPages.add(page)
    const errors: Error[] = []
    const logs: string[] = []
    page.on('pageerror', (err) => errors.push(err))
    page.on('console', (msg) => logs.push(msg.text()))
    const url = (options.origin ?? site) + path
    if (options.via) {
      const link = `/${unique('link')}`
      pages.set(link, `<!doctype html><title>elsewhere</title><a id="link" href="${url}">go</a>`)
      await page.goto(options.via + link)
      await Promise.all([page.waitForURL(url), page.click('#link')])
    } else {
      await page.goto(url)
    }
    await page.waitForFunction(
      () => typeof (window as { track?: { identify?: unknown } }).track?.identify === 'function',
    )
    return { context, page, errors, logs }
  }

  /** Closes the context after checking the page saw no error and no unhandled rejection. */
  async function close({ context, page, errors }: Opened): Promise<void> {
    if (!page.isClosed()) {
      expect(await page.evaluate(() => (window as unknown as { rejections: string[] }).rejections)).toEqual([])
    }
    expect(errors.map(String)).toEqual([])
    openPages.delete(page)
    await context.close()
  }

  /** Every event recorded whose page path starts with `path`. */
  const eventsOn = (path: string) => hits.flatMap((h) => h.events).filter((e) => e.properties?.path?.startsWith(path))
  const hitsOn = (path: string) => hits.filter((h) => h.events.some((e) => e.properties?.path?.startsWith(path)))

  /**
   * Has every open page send a marker from a task after the ones it has queued (the tracker sends
   * from a timer task, or at once from an event), and waits for the markers: what the pages sent
   * before them has then been recorded, and anything that did not come was never sent.
   */
  async function settle(): Promise<void> {
    const sent: string[] = []
    for (const page of openPages) {
      if (page.isClosed()) continue
      const id = unique('marker')
      sent.push(id)
      await page.evaluate(
        (url) =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              fetch(url, { method: 'POST', mode: 'no-cors', keepalive: true }).catch(() => {})
              resolve()
            }),
          ),
        `${endpoint}/marker?id=${id}`,
      )
    }
    await waitFor(() => sent.every((id) => markers.has(id)), {
      what: () => `the markers of ${sent.length} open pages`,
      timeoutMs: PAGE_MS,
    })
  }

  /** Waits for `n` events on `path`, then for the open pages to settle, so that no more can come. */
  async function expectEvents(path: string, n: number): Promise<TrackedEvent[]> {
    await waitFor(() => eventsOn(path).length >= n, {
      what: () => `${n} events on ${path} (have ${eventsOn(path).length})`,
      timeoutMs: PAGE_MS,
    })
    await settle()
    const events = eventsOn(path)
    expect(events).toHaveLength(n)
    return events
  }

  /** Every request so far was a text/plain POST (a CORS "simple request": no preflight). */
  function expectSimpleRequests(): void {
    const beacons = hits.filter((h) => h.path === '/e')
    expect(beacons.length).toBeGreaterThan(0)
    expect(hits.filter((h) => h.method === 'OPTIONS')).toEqual([])
    for (const hit of beacons) {
      expect(hit.method).toBe('POST')
      expect(hit.contentType).toBe('text/plain;charset=UTF-8')
      expect(hit.status).toBe(202)
    }
  }

  const pending = async (kind: PendingKind, field: string) =>
    Number((await redis.hGet(keys.shards[0]!.pending(kind), `${dayOf(Date.now())}|${field}`)) ?? 0)
  const pageViews = (path: string) => pending('p', path)

  /** What the server answers for a read, with the admin token. */
  async function read(query: string) {
    const res = await fetch(`${server.url}/analytics/${query}`, { headers: ADMIN })
    expect({ query, status: res.status }).toEqual({ query, status: 200 })
    return res.json()
  }
  /** Visits counted today (UTC), all pages together. */
  const visits = async (): Promise<number> => (await read(`stats?metric=visits&from=${dayOf(Date.now())}`)).total
  /** The visits of the last days under each value of a dimension (source, entry_page, utm_campaign…). */
  async function visitsBy(dimension: string): Promise<Record<string, number>> {
    const { items } = await read(`top?dimension=${dimension}&limit=100`)
    return Object.fromEntries(items.map((i: { name: string; count: number }) => [i.name, i.count]))
  }

  test(
    'first view: one page_view beacon from the page, counted in Redis',
    async () => {
      const path = `/${unique('first')}`
      const before = await pending('d', 'page_view')
      const [visitsBefore, directBefore] = [await visits(), (await visitsBy('source'))['(direct)'] ?? 0]
      const opened = await open(path)
      const [event] = await expectEvents(path, 1)
      // a page load with no referrer says so: it is a visit from nowhere
      expect(event).toEqual({ event_type: 'page_view', properties: { path, referrer: '' } })
      const [hit] = hitsOn(path)
      expect(hit!.origin).toBe(site)
      expect(hit!.host).toBe(new URL(endpoint).host)
      expectSimpleRequests()
      expect(await pageViews(path)).toBe(1)
      expect((await pending('d', 'page_view')) - before).toBe(1)
      expect((await visitsBy('entry_page'))[path]).toBe(1)
      expect((await visitsBy('source'))['(direct)']).toBe(directBefore + 1)
      expect(await visits()).toBe(visitsBefore + 1)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'SPA navigations: a repeated page is one view; same-tick views share a request; back counts',
    async () => {
      const base = `/${unique('spa')}`
      const opened = await open(base, { attrs: 'data-allow-local data-query="utm_source,ref"' })
      const { page } = opened
      await expectEvents(base, 1)
      const push = (url: string) => page.evaluate((u) => history.pushState({}, '', u), url)
      await push(`${base}/a`)
      await expectEvents(base, 2)
      await push(`${base}/b`)
      await expectEvents(base, 3)
      await push(`${base}/b`)
      await page.evaluate(() => history.replaceState({ step: 2 }, ''))
      await expectEvents(base, 3)
      expect(eventsOn(base).map((e) => e.properties.path)).toEqual([base, `${base}/a`, `${base}/b`])

      // back to the repeated entry: the same page, no view; back again: a view of /a
      await page.goBack()
      await expectEvents(base, 3)
      expect(new URL(page.url()).pathname).toBe(`${base}/b`)
      await page.goBack()
      await expectEvents(base, 4)
      expect(eventsOn(base).at(-1)!.properties.path).toBe(`${base}/a`)

      // two navigations in one task: one request with both views
      await page.evaluate((b) => {
        history.pushState({}, '', `${b}/c?q=private&utm_source=news&ref=hn`)
        history.replaceState({}, '', `${b}/d?ref=hn&email=jane%40example.com`)
      }, base)
      await expectEvents(base, 6)
      const last = hitsOn(`${base}/c`)
      expect(last).toHaveLength(1)
      expect(last[0]!.events.map((e) => e.properties.path)).toEqual([
        `${base}/c?utm_source=news&ref=hn`,
        `${base}/d?ref=hn`,
      ])

      expectSimpleRequests()
      expect(await pageViews(base)).toBe(1)
      expect(await pageViews(`${base}/a`)).toBe(2)
      expect(await pageViews(`${base}/b`)).toBe(1)
      expect(await pageViews(`${base}/c?utm_source=news&ref=hn`)).toBe(1)
      expect(await pageViews(`${base}/d?ref=hn`)).toBe(1)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'hash routes are views with data-hash, and not without it',
    async () => {
      const on = `/${unique('hash-on')}`
      const off = `/${unique('hash-off')}`
      const withHash = await open(on, { attrs: 'data-allow-local data-hash' })
      const without = await open(off)
      for (const { page } of [withHash, without]) {
        await page.evaluate(() => {
          location.hash = '#/settings'
        })
        await page.evaluate(() => {
          location.hash = '#/billing'
        })
        await page.evaluate(() => track('feature_used', { feature_name: 'hash-done' }))
      }
      const routed = await expectEvents(on, 4)
      expect(routed.map((e) => e.properties.path)).toEqual([on, `${on}#/settings`, `${on}#/billing`, `${on}#/billing`])
      const plain = await expectEvents(off, 2)
      expect(plain.map((e) => e.event_type)).toEqual(['page_view', 'feature_used'])
      // the server counts each hash route as a page of its own
      expect(await pageViews(on)).toBe(1)
      expect(await pageViews(`${on}#/settings`)).toBe(1)
      expect(await pageViews(`${on}#/billing`)).toBe(1)
      expect(await pageViews(off)).toBe(1)
      await close(withHash)
      await close(without)
    },
    TIMEOUT_MS,
  )

  test(
    'a page restored from the back/forward cache is a new view',
    async () => {
      const path = `/${unique('bfcache')}`
      const opened = await open(path)
      const { page } = opened
      await expectEvents(path, 1)
      await page.evaluate(() => {
        ;(window as unknown as { marker: number }).marker = 42
      })
      await page.goto(`${site}/elsewhere`)
      // a page restored from the cache fires no load event
      await page.goBack({ waitUntil: 'commit', timeout: 10_000 })
      // the same JavaScript heap: the page came back from the cache, it was not loaded again
      expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42)
      await expectEvents(path, 2)
      expect(await pageViews(path)).toBe(2)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'a page load from another site is one visit with its source and campaign; an SPA navigation and a reload are none',
    async () => {
      const path = `/${unique('landing')}`
      const from = `http://${unique('news')}.test:${fixture.port}`
      const source = new URL(from).hostname
      const campaign = unique('launch')
      trackedPage(`${path}/pricing`)
      const before = await visits()
      const query = `?utm_source=news&utm_campaign=${campaign}%20sale&utm_medium=jane%40example.com&utm_term=shoes&q=private`
      const opened = await open(path + query, { via: from })
      const { page } = opened

      // The first view carries where the page load came from: the other site (only its origin, by
      // the browser's default referrer policy) and the campaign's three values, decoded, whatever
      // data-query keeps; an e-mail address in one becomes :x.
      const [first] = await expectEvents(path, 1)
      expect(first).toEqual({
        event_type: 'page_view',
        properties: {
          path,
          referrer: `${from}/`,
          utm_source: 'news',
          utm_campaign: `${campaign} sale`,
          utm_medium: ':x',
        },
      })
      expect(JSON.stringify(hits)).not.toContain('jane')
      expect(await visits()).toBe(before + 1)
      expect((await visitsBy('source'))[source]).toBe(1)
      expect((await visitsBy('utm_campaign'))[`${campaign} sale`]).toBe(1)
      expect((await visitsBy('utm_source')).news).toBe(1)
      expect((await visitsBy('entry_page'))[path]).toBe(1)

      // an SPA navigation is a view of the same page load: no referrer, no campaign, no visit
      await page.evaluate((p) => history.pushState({}, '', `${p}/pricing?utm_campaign=other`), path)
      const [, spa] = await expectEvents(path, 2)
      expect(spa!.properties).toEqual({ path: `${path}/pricing` })

      // Chromium keeps the first load's referrer on a reload (the reload button, F5): the tracker
      // must tell a reload itself, or every reload after a search would be one more visit
      await page.reload()
      await page.waitForFunction(
        () => typeof (window as { track?: { identify?: unknown } }).track?.identify === 'function',
      )
      expect(await page.evaluate(() => [document.referrer, performance.navigation.type])).toEqual([`${from}/`, 1])
      const [, , reloaded] = await expectEvents(path, 3)
      expect(reloaded!.properties).toEqual({ path: `${path}/pricing` })

      expect(await visits()).toBe(before + 1)
      expect((await visitsBy('source'))[source]).toBe(1)
      expect((await visitsBy('entry_page'))[`${path}/pricing`]).toBeUndefined()
      expect(await pageViews(path)).toBe(1)
      expect(await pageViews(`${path}/pricing`)).toBe(2)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'back to a page load from another site is no second visit, from the back/forward cache or not',
    async () => {
      for (const cached of [true, false]) {
        const path = `/${unique(cached ? 'back-cached' : 'back-loaded')}`
        const from = `http://${unique('search')}.test:${fixture.port}`
        const before = await visits()
        // an unload listener keeps a page out of Chromium's back/forward cache: going back loads it again
        const opened = await open(path, { via: from, head: cached ? '' : '<script>onunload = () => {}</script>' })
        const { page } = opened
        const [first] = await expectEvents(path, 1)
        expect(first!.properties).toEqual({ path, referrer: `${from}/` })
        await page.evaluate(() => {
          ;(window as unknown as { marker: number }).marker = 42
        })
        await page.goto(`http://elsewhere.test:${fixture.port}/elsewhere`)
        // a page restored from the cache fires no load event
        await page.goBack({ waitUntil: 'commit', timeout: PAGE_MS })
        const [, back] = await expectEvents(path, 2)
        expect({ cached, properties: back!.properties }).toEqual({ cached, properties: { path } })
        // the same JavaScript heap when restored from the cache; a new load (still with the first
        // load's referrer) when not
        const state = await page.evaluate(() => [
          (window as unknown as { marker?: number }).marker ?? null,
          document.referrer,
          performance.navigation.type,
        ])
        expect({ cached, state }).toEqual({ cached, state: cached ? [42, `${from}/`, 0] : [null, `${from}/`, 2] })
        expect(await visits()).toBe(before + 1)
        expect((await visitsBy('source'))[new URL(from).hostname]).toBe(1)
        expect(await pageViews(path)).toBe(2)
        await close(opened)
      }
    },
    TIMEOUT_MS,
  )

  test(
    'calls queued before the script loaded are replayed, in one request with the first view',
    async () => {
      const path = `/${unique('queued')}`
      const feature = unique('early')
      const opened = await open(path, {
        head: `<script>track('feature_used', {feature_name: '${feature}', plan: 'pro'}); track('asset_shared')</script>`,
      })
      const events = await expectEvents(path, 3)
      expect(events.map((e) => [e.event_type, e.properties.feature_name])).toEqual([
        ['feature_used', feature],
        ['asset_shared', undefined],
        ['page_view', undefined],
      ])
      expect(events[0]!.properties.plan).toBe('pro')
      expect(hitsOn(path)).toHaveLength(1)
      expect(await pending('f', `feature_used|${feature}`)).toBe(1)
      expect(await pageViews(path)).toBe(1)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'data-track on an element (or an ancestor) sends on click, without stopping the click',
    async () => {
      const path = `/${unique('declarative')}`
      const exportName = unique('export')
      const shareName = unique('share')
      const opened = await open(path, {
        body:
          `<button id="export" data-track data-feature="${exportName}" onclick="this.dataset.clicked=1">` +
          `<span id="label">Export <b id="deep">CSV</b></span></button>` +
          `<div data-track="asset_shared" data-feature="${shareName}"><a id="share" href="#shared">Share</a></div>` +
          '<p id="untracked">nothing here</p>',
      })
      const { page } = opened
      await expectEvents(path, 1)
      await page.click('#deep')
      await page.click('#label')
      await page.click('#untracked')
      await page.click('#share')
      const events = await expectEvents(path, 4)
      expect(events.slice(1).map((e) => [e.event_type, e.properties.feature_name])).toEqual([
        ['feature_used', exportName],
        ['feature_used', exportName],
        ['asset_shared', shareName],
      ])
      expect(await page.getAttribute('#export', 'data-clicked')).toBe('1')
      expect(new URL(page.url()).hash).toBe('#shared')
      expect(await pending('f', `feature_used|${exportName}`)).toBe(2)
      expect(await pending('f', `asset_shared|${shareName}`)).toBe(1)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'outbound links and downloads: counted when opted in, and Ctrl/middle-click still open tabs',
    async () => {
      const path = `/${unique('links')}`
      const outbound = `http://elsewhere.test:${fixture.port}/landing?token=abc`
      const file = `${unique('report')}.pdf`
      const opened = await open(path, {
        attrs: 'data-allow-local data-outbound data-downloads',
        body:
          `<a id="out" href="${outbound}">partner</a> <a id="blank" href="${outbound}" target="_blank">new tab</a> ` +
          `<a id="inside" href="/inside">inside</a> <a id="file" href="/files/${file}">report</a>`,
      })
      const { context, page } = opened
      await expectEvents(path, 1)

      const modifier = process.platform === 'darwin' ? 'Meta' : 'Control'
      for (const click of [
        () => page.click('#out', { modifiers: [modifier] }),
        () => page.click('#out', { button: 'middle' }),
        () => page.click('#blank'),
        () => page.click('#inside', { modifiers: [modifier] }),
      ]) {
        const [tab] = await Promise.all([context.waitForEvent('page'), click()])
        await tab.waitForLoadState()
        await tab.close()
      }
      expect(page.url()).toBe(site + path)
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#file')])
      expect(download.suggestedFilename()).toBe(file)

      const events = await expectEvents(path, 5)
      expect(events.slice(1).map((e) => [e.event_type, e.properties.feature_name])).toEqual([
        ['feature_used', 'outbound:elsewhere.test'],
        ['feature_used', 'outbound:elsewhere.test'],
        ['feature_used', 'outbound:elsewhere.test'],
        ['asset_downloaded', file],
      ])
      expect(await pending('f', 'feature_used|outbound:elsewhere.test')).toBe(3)
      expect(await pending('f', `asset_downloaded|${file}`)).toBe(1)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'link events are off unless data-outbound / data-downloads ask for them',
    async () => {
      const path = `/${unique('links-off')}`
      const opened = await open(path, {
        body: `<a id="out" href="http://elsewhere.test:${fixture.port}/x" target="_blank">out</a>`,
      })
      const { context, page } = opened
      await expectEvents(path, 1)
      const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#out')])
      await tab.close()
      await page.evaluate(() => track('feature_used', { feature_name: 'links-off-done' }))
      const events = await expectEvents(path, 2)
      expect(events.map((e) => e.event_type)).toEqual(['page_view', 'feature_used'])
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'Do Not Track and Global Privacy Control are honoured with data-respect-dnt only',
    async () => {
      for (const signal of [DNT, GPC]) {
        const respected = `/${unique('dnt-on')}`
        const ignored = `/${unique('dnt-off')}`
        const quiet = await open(respected, { attrs: 'data-allow-local data-respect-dnt data-debug', init: [signal] })
        const loud = await open(ignored, { init: [signal] })
        await quiet.page.evaluate(() => track('feature_used', { feature_name: 'dnt-check' }))
        await expectEvents(ignored, 1)
        // debug mode shows the tracker ran, and why it sent nothing
        await waitFor(() => quiet.logs.some((l) => l.startsWith('respectDnt')), {
          what: 'the debug log',
          timeoutMs: PAGE_MS,
        })
        await expectEvents(respected, 0)
        expect(await pageViews(respected)).toBe(0)
        expect(await pageViews(ignored)).toBe(1)
        await close(quiet)
        await close(loud)
      }
    },
    TIMEOUT_MS,
  )

  test(
    'localhost and 127.0.0.1 pages send nothing unless data-allow-local is set',
    async () => {
      const port = fixture.port
      const cases = [
        { origin: `http://localhost:${port}`, attrs: 'data-debug', sends: false },
        { origin: `http://127.0.0.1:${port}`, attrs: 'data-debug', sends: false },
        { origin: `http://localhost:${port}`, attrs: 'data-debug data-allow-local', sends: true },
        // a public host name in a browser that is not automated needs no attribute
        { origin: site, attrs: 'data-debug', sends: true },
      ]
      for (const { origin, attrs, sends } of cases) {
        const path = `/${unique('local')}`
        const opened = await open(path, { origin, attrs, init: [NOT_AUTOMATED] })
        await waitFor(() => opened.logs.length > 0, { what: 'the debug log', timeoutMs: PAGE_MS })
        expect({ origin, attrs, log: opened.logs[0]!.split(' ')[0] }).toEqual({
          origin,
          attrs,
          log: sends ? '' : 'allowLocal',
        })
        await expectEvents(path, sends ? 1 : 0)
        await close(opened)
      }
    },
    TIMEOUT_MS,
  )

  test(
    'automated browsers (navigator.webdriver) send nothing unless data-allow-local is set',
    async () => {
      const path = `/${unique('webdriver')}`
      const opened = await open(path, { attrs: 'data-debug' })
      expect(await opened.page.evaluate(() => navigator.webdriver)).toBe(true)
      await waitFor(() => opened.logs.length > 0, { what: 'the debug log', timeoutMs: PAGE_MS })
      expect(opened.logs[0]).toStartWith('allowLocal')
      await expectEvents(path, 0)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'localStorage.analytics_ignore = "1" opts a browser out, from the next send on',
    async () => {
      const path = `/${unique('ignore')}`
      const opened = await open(path, { attrs: 'data-allow-local data-debug' })
      const { page } = opened
      await expectEvents(path, 1)
      await page.evaluate(() => {
        localStorage.analytics_ignore = '1'
        track('feature_used', { feature_name: 'ignored' })
      })
      await waitFor(() => opened.logs.some((l) => l.startsWith('analytics_ignore')), {
        what: 'the debug log',
        timeoutMs: PAGE_MS,
      })
      await expectEvents(path, 1)
      expect(await page.evaluate(() => Object.keys(localStorage))).toEqual(['analytics_ignore'])
      expect(await opened.context.cookies()).toEqual([])
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'identify(userId) sets user_id on later events; identify(null) clears it',
    async () => {
      const path = `/${unique('identify')}`
      const user = unique('user')
      const opened = await open(path)
      await expectEvents(path, 1)
      await opened.page.evaluate((u) => {
        track.identify(u)
        track('feature_used', { feature_name: 'with-user' })
        track.identify(null)
        track('feature_used', { feature_name: 'without-user' })
      }, user)
      const events = await expectEvents(path, 3)
      expect(events.map((e) => e.user_id)).toEqual([undefined, user, undefined])
      expect(await pending('u', `feature_used|${user}`)).toBe(1)
      const users = Object.keys(await redis.hGetAll(keys.shards[0]!.pending('u')))
      expect(users.filter((f) => f.includes(user))).toHaveLength(1)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'URLs are scrubbed: query strings dropped, e-mail addresses and tokens replaced',
    async () => {
      const path = `/${unique('scrub')}`
      const opened = await open(path)
      await expectEvents(path, 1)
      await opened.page.evaluate((p) => {
        history.pushState({}, '', `${p}/reset/jane.doe@example.com/9f86d081884c7d659a2feaa0c55ad015?email=a%40b.c`)
      }, path)
      const [, event] = await expectEvents(path, 2)
      expect(event!.properties.path).toBe(`${path}/reset/:x/:x`)
      expect(JSON.stringify(hits)).not.toContain('jane')
      expect(await pageViews(`${path}/reset/:x/:x`)).toBe(1)
      await close(opened)
    },
    TIMEOUT_MS,
  )

  test(
    'without sendBeacon (or when it refuses), fetch keepalive sends the same text/plain request',
    async () => {
      for (const init of ['delete Navigator.prototype.sendBeacon', 'Navigator.prototype.sendBeacon = () => false']) {
        const path = `/${unique('fetch')}`
        const opened = await open(path, { init: [init] })
        await opened.page.evaluate(() => track('feature_used', { feature_name: 'via-fetch' }))
        const events = await expectEvents(path, 2)
        expect(events.map((e) => e.event_type)).toEqual(['page_view', 'feature_used'])
        expect(hitsOn(path)).toHaveLength(2)
        expectSimpleRequests()
        expect(await pageViews(path)).toBe(1)
        await close(opened)
      }
    },
    TIMEOUT_MS,
  )

  test(
    'the endpoint follows the script (a same-origin proxy path works) unless data-api says otherwise',
    async () => {
      const proxied = `/${unique('proxied')}`
      const viaProxy = await open(proxied, { src: `${site}/stats/t.js` })
      await expectEvents(proxied, 1)
      expect(hitsOn(proxied).map((h) => [h.host, h.path, h.origin])).toEqual([[new URL(site).host, '/e', site]])

      const api = `/${unique('api')}`
      const other = `http://api.test:${proxy.port}`
      const viaApi = await open(api, { attrs: `data-allow-local data-api="${other}/e"` })
      await expectEvents(api, 1)
      expect(hitsOn(api).map((h) => h.host)).toEqual([new URL(other).host])
      expect(await pageViews(proxied)).toBe(1)
      expect(await pageViews(api)).toBe(1)

      // data-site names the site in the query, beside whatever data-api's URL carries
      const named = `/${unique('named')}`
      const viaSite = await open(named, { attrs: `data-allow-local data-api="${other}/e?v=1" data-site="0"` })
      await expectEvents(named, 1)
      expect(hitsOn(named).map((h) => [h.search, h.status])).toEqual([['?v=1&site=0', 202]])
      expect(await pageViews(named)).toBe(1)
      await close(viaProxy)
      await close(viaApi)
      await close(viaSite)
    },
    TIMEOUT_MS,
  )

  test(
    'misuse and an unreachable endpoint never throw into the page; bad events do not sink good ones',
    async () => {
      const path = `/${unique('robust')}`
      const opened = await open(path)
      await expectEvents(path, 1)
      const result = await opened.page.evaluate(() => {
        const t = track as unknown as (...args: unknown[]) => void
        t()
        t(null)
        t('user_signup', { plan: 'pro' })
        t('feature_used', { feature_name: 'good-after-bad' })
        track.identify({})
        track.identify(undefined)
        dispatchEvent(new MouseEvent('click'))
        return 'returned'
      })
      expect(result).toBe('returned')
      const events = await expectEvents(path, 2)
      expect(events[1]!.properties.feature_name).toBe('good-after-bad')
      expect(await pending('f', 'feature_used|good-after-bad')).toBe(1)
      await close(opened)

      const down = `/${unique('down')}`
      // in debug mode the tracker logs each failed send from its catch: the page view's, then the
      // feature's; close() then checks that neither reached the page as an error or a rejection
      const unreachable = await open(down, {
        attrs: 'data-allow-local data-debug data-api="http://127.0.0.1:9/e"',
        init: ['delete Navigator.prototype.sendBeacon'],
      })
      const caught = () => unreachable.logs.filter((l) => l.startsWith('TypeError: Failed to fetch')).length
      await waitFor(() => caught() === 1, { what: "the page view's failed send to be caught", timeoutMs: PAGE_MS })
      await unreachable.page.evaluate(() => track('feature_used', { feature_name: 'lost' }))
      await waitFor(() => caught() === 2, { what: "the feature's failed send to be caught", timeoutMs: PAGE_MS })
      await close(unreachable)
    },
    TIMEOUT_MS,
  )

  test(
    'a prerendered page counts its view when it is shown, not before',
    async () => {
      // Chrome will not prerender a page that has a DevTools session on its target, as playwright's
      // pages do; so the page says it is prerendering until the test "shows" it, the way Chrome does
      // (document.prerendering, then a prerenderingchange event at the document).
      const PRERENDERING =
        'let pre = true; Object.defineProperty(Document.prototype, "prerendering", { get: () => pre });' +
        'window.activate = () => { pre = false; document.dispatchEvent(new Event("prerenderingchange")) }'
      const path = `/${unique('prerender')}`
      const feature = unique('while-hidden')
      const opened = await open(path, {
        init: [PRERENDERING],
        head: `<script>track('feature_used', {feature_name: '${feature}'})</script>`,
      })
      await opened.page.evaluate(() => history.replaceState({}, '', location.pathname))
      // a prerendering page sends nothing and logs nothing: the page's marker says when its
      // tracker has had its turn
      await settle()
      expect(eventsOn(path)).toEqual([])
      await opened.page.evaluate(() => (window as unknown as { activate(): void }).activate())
      const events = await expectEvents(path, 2)
      expect(events.map((e) => e.event_type)).toEqual(['feature_used', 'page_view'])
      expect(hitsOn(path)).toHaveLength(1)
      expect(await pageViews(path)).toBe(1)
      expect(await pending('f', `feature_used|${feature}`)).toBe(1)
      await close(opened)
    },
    TIMEOUT_MS,
  )
})
