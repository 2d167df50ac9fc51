/**
 * Sites on the dashboard, in real Chromium: with two sites and none named, the admin sees every
 * site at a glance (visitors, visits, page views, a trend); a site's dashboard shows its own
 * numbers in its own time zone, with a switch between sites; the admin makes a shared link there,
 * whose address opens that site's dashboard alone, and nothing of the other site; revoked, it signs
 * the page out.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { apiCall, BROWSER_UA, testApp } from './app.ts'
import { chromiumPath, dashboardPage, launchChromium, NO_CHROMIUM } from './browser.ts'

setDefaultTimeout(60_000)

const ARTIFACTS = join(import.meta.dir, 'artifacts')
const available = chromiumPath() !== undefined
if (!available) console.warn(NO_CHROMIUM)

const ADMIN = 'test-admin-token-0123456789'
/** 23:30 UTC: already Dec 7 in Berlin, still Dec 6 in Los Angeles. */
const NOW = Date.parse('2026-12-06T23:30:00Z')

describe.skipIf(!available)('sites on the dashboard', () => {
  let browser: Browser
  let base: string
  let stop: () => Promise<void>
  let shop: number
  let docs: number
  let call: (method: string, path: string, body?: unknown) => ReturnType<typeof apiCall>

  beforeAll(async () => {
    const { app, deps } = await testApp({ timeZone: 'UTC' }, { now: () => NOW })
    call = (method, path, body) => apiCall(app, method, path, body, { authorization: `Bearer ${ADMIN}` })
    shop = (
      await call('POST', '/analytics/sites', {
        name: 'Shop',
        domains: ['shop.example.com'],
        time_zone: 'Europe/Berlin',
      })
    ).body.id
    docs = (
      await call('POST', '/analytics/sites', {
        name: 'Docs',
        domains: ['docs.example.com'],
        time_zone: 'America/Los_Angeles',
      })
    ).body.id
    const send = async (origin: string, path: string, build: number) => {
      const res = await app.handle(
        new Request('http://localhost/e', {
          method: 'POST',
          headers: {
            'content-type': 'text/plain',
            'user-agent': BROWSER_UA.replace('131.0.0.0', `131.0.0.${build}`),
            origin,
          },
          body: JSON.stringify({ event_type: 'page_view', properties: { path } }),
        }),
      )
      expect(res.status).toBe(202)
    }
    // shop: three visitors, four views; docs: one visitor, two views
    await send('https://shop.example.com', '/', 1)
    await send('https://shop.example.com', '/pricing', 1)
    await send('https://shop.example.com', '/', 2)
    await send('https://shop.example.com', '/', 3)
    await send('https://docs.example.com', '/guide', 1)
    await send('https://docs.example.com', '/api', 1)
    await deps.flusher.flush()
    const server = app.listen({ port: 0, hostname: '127.0.0.1' })
    base = `http://127.0.0.1:${server.port}`
    browser = await launchChromium()
    await mkdir(ARTIFACTS, { recursive: true })
    stop = async () => {
      deps.liveHubs.close()
      await app.stop(true)
      await deps.batcher.drain()
    }
  })
  afterAll(async () => {
    await browser?.close()
    await stop?.()
  }, 60_000)

  async function open(token: string, query = '') {
    const { context, page, errors } = await dashboardPage(browser, NOW)
    await page.goto(`${base}/dashboard${query}#token=${encodeURIComponent(token)}`)
    return { context, page, errors }
  }

  test('every site at a glance, then a site in its own zone, with a switch between them', async () => {
    const { context, page, errors } = await open(ADMIN)
    try {
      await page.locator('[data-panel="overview"] tr[data-site]').first().waitFor()
      const rows = await page.$$eval('[data-panel="overview"] tr[data-site]', (els) =>
        els.map((el) => [
          el.getAttribute('data-site'),
          el.querySelector('th a')?.textContent,
          ...['visitors', 'visits', 'page_views'].map((f) => el.querySelector(`[data-field="${f}"]`)?.textContent),
        ]),
      )
      expect(rows).toEqual([
        ['0', 'default', '0', '0', '0'],
        [String(shop), 'Shop', '3', '3', '4'],
        [String(docs), 'Docs', '1', '1', '2'],
      ])
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-sites-overview.png'), fullPage: true })
      expect(await page.locator('.signout').count()).toBe(1)

      await page.click(`[data-panel="overview"] tr[data-site="${shop}"] a`)
      await page.waitForSelector('main[data-state="ready"]')
      expect(new URL(page.url()).searchParams.get('site')).toBe(String(shop))
      // the chart is by the days of the site's zone, not the deployment's
      expect(await page.textContent('#chart-title')).toContain('Europe/Berlin')
      await page.waitForSelector('[data-panel="pages"] li[data-name="/"]')
      // the switch names every site and the one shown
      const picker = page.locator('.site-picker select')
      expect(await picker.inputValue()).toBe(String(shop))
      expect(await picker.locator('option').allTextContents()).toEqual(['All sites', 'default', 'Shop', 'Docs'])
      // the wall screen of the site shown
      await page.waitForSelector('.to-live')
      expect(await page.getAttribute('.to-live', 'href')).toBe(`live?site=${shop}`)
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-sites-shop.png'), fullPage: true })
      // a change of the view keeps the site in the address
      await page.selectOption('.controls select >> nth=0', { index: 1 })
      await page.waitForSelector('main[data-state="ready"]')
      expect(new URL(page.url()).searchParams.get('site')).toBe(String(shop))

      await picker.selectOption(String(docs))
      await page.waitForURL(/site=/)
      await page.waitForSelector('main[data-state="ready"]')
      expect(await page.textContent('#chart-title')).toContain('America/Los_Angeles')
      await page.waitForSelector('[data-panel="pages"] li[data-name="/guide"]')
      expect(await page.locator('[data-panel="pages"] li[data-name="/"]').count()).toBe(0)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a shared link made on the page opens its site alone; revoked, it signs the page out', async () => {
    const admin = await open(ADMIN, `?site=${shop}`)
    let url: string
    try {
      // folded until opened: its read goes out only then
      await admin.page.click('[data-panel="links"] summary')
      await admin.page.fill('#link-name', 'Client board')
      await admin.page.click('[data-panel="links"] button[type="submit"]')
      url = (await admin.page.textContent('[data-made] code'))!
      expect(url).toMatch(/\/dashboard#token=sl_/)
      await admin.page.waitForSelector('[data-panel="links"] li[data-link]')
      expect(await admin.page.textContent('[data-panel="links"] li[data-link] span')).toBe('Client board')
      expect(admin.errors).toEqual([])
    } finally {
      await admin.context.close()
    }

    // the link: the shop's dashboard, no switch, no overview, no links to manage
    const { context, page } = await dashboardPage(browser, NOW)
    try {
      await page.goto(url.replace(/^https?:\/\/[^/]+/, base))
      await page.waitForSelector('main[data-state="ready"]')
      await page.waitForSelector('[data-panel="pages"] li[data-name="/pricing"]')
      expect(await page.locator('.site-picker').count()).toBe(0)
      expect(await page.locator('[data-panel="links"]').count()).toBe(0)
      expect(await page.textContent('#chart-title')).toContain('Europe/Berlin')
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-sites-link.png'), fullPage: true })

      // the other site by its address: refused, and the page signs out saying why
      await page.goto(`${base}/dashboard?site=${docs}`)
      await page.waitForSelector('.signin')
      expect(await page.textContent('.signin')).toContain('a shared link reads its own site only')

      // revoked: the token reads nothing
      const links = await call('GET', `/analytics/sites/${shop}/links`)
      await call('DELETE', `/analytics/sites/${shop}/links/${links.body.links[0].id}`)
      const revoked = await page.evaluate(
        async ([base, token]) =>
          (await fetch(`${base}/analytics/stats`, { headers: { authorization: `Bearer ${token}` } })).status,
        [base, url.split('#token=')[1]!] as const,
      )
      expect(revoked).toBe(401)
    } finally {
      await context.close()
    }
  })
})
