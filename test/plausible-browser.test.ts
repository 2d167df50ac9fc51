/**
 * Plausible's own tracker counts here, in Chromium: the published `@plausible-analytics/tracker`
 * package, bundled into a site's page as its users bundle it (test/fixtures/plausible-page.ts),
 * with its `endpoint` set to this service's `/api/event`. The page is served on another origin,
 * reached by a link from a search page: its page view begins a visit from Google; a route change
 * in the page (history.pushState) is a second page view; a custom event with props, through the
 * `window.plausible` the tracker binds, is a feature; a click on an outbound link is Plausible's
 * `Outbound Link: Click`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { BROWSER_UA } from './app.ts'
import { chromiumPath, launchChromium, NO_CHROMIUM } from './browser.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { waitFor } from './wait.ts'

setDefaultTimeout(60_000)

const CHROMIUM = chromiumPath()
if (!CHROMIUM) console.warn(NO_CHROMIUM)

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }

describe.skipIf(!CHROMIUM)('Plausible’s tracker pointed at /api/event', () => {
  let server: ServerProcess
  let fixture: ReturnType<typeof Bun.serve>
  let browser: Browser
  let script: string

  beforeAll(async () => {
    server = await startServerProcess({ FLUSH_INTERVAL_MS: '86400000' })
    const built = await Bun.build({
      entrypoints: [join(import.meta.dir, 'fixtures', 'plausible-page.ts')],
      target: 'browser',
      minify: true,
    })
    if (!built.success) throw new Error(built.logs.join('\n'))
    script = await built.outputs[0]!.text()
    fixture = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        const url = new URL(req.url)
        const html =
          url.hostname === 'www.google.test'
            ? `<!doctype html><title>results</title><a id="result" href="http://shop.test:${url.port}/pricing">shop</a>`
            : url.hostname === 'elsewhere.test'
              ? '<!doctype html><title>elsewhere</title>another site'
              : `<!doctype html><html><head><meta charset="utf-8"><title>pricing</title>` +
                `<script>window.ENDPOINT = ${JSON.stringify(`${server.url}/api/event`)}</script>` +
                `<script>${script}</script></head><body>pricing` +
                `<a id="out" href="http://elsewhere.test:${url.port}/">elsewhere</a></body></html>`
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

  async function top(dimension: string): Promise<Record<string, number>> {
    const res = await fetch(`${server.url}/analytics/top?dimension=${dimension}`, { headers: ADMIN })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { items: { name: string; count: number }[] }
    return Object.fromEntries(body.items.map((i) => [i.name, i.count]))
  }

  test('page views, a route change, a custom event and an outbound link click are counted', async () => {
    // headless Chromium's own User-Agent is a crawler's, which is not counted
    const context = await browser.newContext({ userAgent: `${BROWSER_UA} PlausibleVisitor/1` })
    const page = await context.newPage()
    const errors: Error[] = []
    page.on('pageerror', (err) => errors.push(err))
    const answers: number[] = []
    page.on('response', (res) => {
      if (res.url().endsWith('/api/event')) answers.push(res.status())
    })
    try {
      await page.goto(`http://www.google.test:${fixture.port}/`)
      await page.click('#result')
      await page.waitForURL(/shop\.test/)
      await waitFor(async () => (await top('page'))['/pricing'] === 1, {
        what: 'the page view of /pricing',
        timeoutMs: 15_000,
      })
      await page.evaluate(() => history.pushState({}, '', '/docs'))
      await page.evaluate(() =>
        (window as unknown as { plausible: (name: string, options: object) => void }).plausible('Signup', {
          props: { plan: 'pro' },
        }),
      )
      await page.click('#out')
      await waitFor(async () => Object.keys(await top('feature')).length === 2, {
        what: 'the custom event and the outbound link click',
        timeoutMs: 15_000,
      })
      expect(await top('page')).toEqual({ '/pricing': 1, '/docs': 1 })
      expect(await top('feature')).toEqual({ Signup: 1, 'Outbound Link: Click': 1 })
      expect(await top('source')).toEqual({ Google: 1 })
      expect(await top('hostname')).toEqual({ 'shop.test': 1 })
      expect(answers.every((s) => s === 202)).toBe(true)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })
})
