/**
 * A sign-up reported by a back end, attributed to the visit a real browser made: Chromium follows
 * a link from a Google search page to a page with the tracker (served here, another origin than
 * the endpoint), the tracker's page view begins a visit from Google, and then this process, as
 * the site's back end would, posts a `user_signup` to POST /analytics/events with the browser's
 * address as the server saw it (127.0.0.1: everything here is on loopback) and the browser's own
 * `navigator.userAgent`. The read filtered by the visit's source counts the sign-up, before and
 * after a flush.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import { BROWSER_UA } from './app.ts'
import { chromiumPath, launchChromium, NO_CHROMIUM } from './browser.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { waitFor } from './wait.ts'

// this file starts a server and a browser: bun's 5 s default is too short on a busy machine
setDefaultTimeout(60_000)

const CHROMIUM = chromiumPath()
if (!CHROMIUM) console.warn(NO_CHROMIUM)

/** The tokens the test server starts with (test/server-process.ts). */
const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const INGEST = { authorization: 'Bearer test-ingest-token-0123456789', 'content-type': 'application/json' }
const FROM_GOOGLE = encodeURIComponent(JSON.stringify([['is', 'source', ['Google']]]))

describe.skipIf(!CHROMIUM)('a back end’s sign-up in the visit a browser began', () => {
  let server: ServerProcess
  let fixture: ReturnType<typeof Bun.serve>
  let browser: Browser

  beforeAll(async () => {
    // counters stay pending until the test flushes
    server = await startServerProcess({ FLUSH_INTERVAL_MS: '86400000' })
    fixture = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        const url = new URL(req.url)
        const html =
          url.hostname === 'www.google.test'
            ? // a search result: a link to the site (the browser sends only its origin as referrer)
              `<!doctype html><title>results</title><a id="result" href="http://shop.test:${url.port}/pricing">shop</a>`
            : // the site's page, with the tracker loaded from the endpoint as the README says
              `<!doctype html><html><head><meta charset="utf-8"><title>pricing</title>` +
              `<script defer src="${server.url}/t.js" data-allow-local></script></head><body>pricing</body></html>`
        return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } })
      },
    })
    browser = await launchChromium({ extraArgs: ['--host-resolver-rules=MAP *.test 127.0.0.1'] })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    fixture?.stop(true)
    await server?.stop()
  }, 30_000)

  async function read(query: string): Promise<number> {
    const res = await fetch(`${server.url}/analytics/${query}`, { headers: ADMIN })
    expect({ query, status: res.status }).toEqual({ query, status: 200 })
    return ((await res.json()) as { total: number }).total
  }

  async function ingest(events: unknown[]) {
    const res = await fetch(`${server.url}/analytics/events`, {
      method: 'POST',
      headers: INGEST,
      body: JSON.stringify(events),
    })
    return { status: res.status, body: await res.json() }
  }

  test('the sign-up counts under the source of the visit the browser began, before and after a flush', async () => {
    // a browser as a person has it: headless Chromium's own User-Agent is a crawler's, not counted
    const context = await browser.newContext({ userAgent: `${BROWSER_UA} SignupVisitor/1` })
    const page = await context.newPage()
    const errors: Error[] = []
    page.on('pageerror', (err) => errors.push(err))
    await page.goto(`http://www.google.test:${fixture.port}/search?q=shop`)
    await Promise.all([page.waitForURL(/shop\.test/), page.click('#result')])
    const userAgent = await page.evaluate(() => navigator.userAgent)
    expect(userAgent).toContain('SignupVisitor/1')

    // the tracker's first view began a visit from Google
    await waitFor(async () => (await read(`stats?metric=visits&filters=${FROM_GOOGLE}`)) === 1, {
      what: 'the page view to begin a visit from Google',
      timeoutMs: 15_000,
      intervalMs: 50,
    })
    expect(await read('stats?event_type=user_signup')).toBe(0)

    // the back end: the browser's address as the server saw it, and its User-Agent
    expect(
      await ingest([
        { event_type: 'user_signup', user_id: 'e2e-1', client_ip: '127.0.0.1', user_agent: userAgent },
        // another browser at the same address, with no visit: counted, not under Google
        { event_type: 'user_signup', user_id: 'e2e-2', client_ip: '127.0.0.1', user_agent: `${BROWSER_UA} Other/2` },
      ]),
    ).toEqual({ status: 202, body: { accepted: 2 } })

    const reads = async () => ({
      signups: await read('stats?event_type=user_signup'),
      fromGoogle: await read(`stats?event_type=user_signup&filters=${FROM_GOOGLE}`),
      visitorsFromGoogle: await read(`stats?metric=visitors&filters=${FROM_GOOGLE}`),
      visits: await read('stats?metric=visits'),
    })
    const expected = { signups: 2, fromGoogle: 1, visitorsFromGoogle: 1, visits: 1 }
    expect(await reads()).toEqual(expected)

    const flushed = await fetch(`${server.url}/analytics/flush`, { method: 'POST', headers: ADMIN })
    expect(flushed.status).toBe(200)
    expect(await reads()).toEqual(expected)

    expect(errors.map(String)).toEqual([])
    await context.close()
  })
})
