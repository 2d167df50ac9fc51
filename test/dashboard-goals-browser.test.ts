/**
 * Visit quality and goals on the dashboard, in real Chromium against the app on a stopped clock:
 * visits sent as beacons at chosen instants, so every figure is worked out by hand here. The
 * cards show the period's bounce rate, visit duration and views per visit against the previous
 * period's; the breakdowns of visits give each row its own; a page goal made through the form
 * appears with its converting visitors; chosen, it adds its conversion rate to every breakdown of
 * visits and to the address; deleted, it goes. The viewer token sees the goals and no form.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { parseCsv } from '../src/csv.ts'
import { BROWSER_UA, beaconRequest, testApp } from './app.ts'
import { chromiumPath, dashboardPage, launchChromium, NO_CHROMIUM } from './browser.ts'

setDefaultTimeout(60_000)

const ARTIFACTS = join(import.meta.dir, 'artifacts')
const available = chromiumPath() !== undefined
if (!available) console.warn(NO_CHROMIUM)

const ADMIN = 'test-admin-token-0123456789'
const VIEWER = 'test-viewer-token-0123456789'
const MOBILE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'
const GOOGLE = 'https://www.google.com/'
const BING = 'https://www.bing.com/'
/** The page's and the server's now: the period is the 7 days to Dec 6, the one before Nov 23–29. */
const NOW = Date.parse('2026-12-06T18:00:00Z')
const TODAY = Date.parse('2026-12-06T10:00:00Z')
const BEFORE = Date.parse('2026-11-28T10:00:00Z')

/** A visit: its address, browser, and pages (path, seconds after the first, referrer of the first). */
type Visit = [ip: string, ua: string, referrer: string | undefined, pages: [path: string, at: number][]]

// The period: 6 visits, 2 of them bounces, 390 s in all, 11 pages.
// Google: 3 visits (1 bounce, 60 + 0 + 120 s); Bing: 2 (1 bounce, 0 + 30 s); direct: 1 (180 s).
// Desktop: 4 visits (1 bounce, 60 + 120 + 0 + 180 s); mobile: 2 (1 bounce, 0 + 30 s).
// /signup is reached by 3 visitors of 6: Google's first, Bing's second, the direct one.
const PERIOD: Visit[] = [
  [
    '198.51.100.1',
    BROWSER_UA,
    GOOGLE,
    [
      ['/pricing', 0],
      ['/signup', 60],
    ],
  ],
  ['198.51.100.2', MOBILE_UA, GOOGLE, [['/pricing', 0]]],
  [
    '198.51.100.3',
    BROWSER_UA,
    GOOGLE,
    [
      ['/docs', 0],
      ['/pricing', 120],
    ],
  ],
  ['198.51.100.4', BROWSER_UA, BING, [['/', 0]]],
  [
    '198.51.100.5',
    MOBILE_UA,
    BING,
    [
      ['/', 0],
      ['/signup', 30],
    ],
  ],
  [
    '198.51.100.6',
    BROWSER_UA,
    undefined,
    [
      ['/docs', 0],
      ['/docs/tracker', 90],
      ['/signup', 180],
    ],
  ],
]
// The period before: a bounce and a visit of 60 s: 50%, 30 s, 1.5 pages.
const PREVIOUS: Visit[] = [
  ['198.51.100.11', BROWSER_UA, GOOGLE, [['/pricing', 0]]],
  [
    '198.51.100.12',
    BROWSER_UA,
    undefined,
    [
      ['/', 0],
      ['/docs', 60],
    ],
  ],
]

const ready = (page: Page) => page.waitForSelector('main[data-state="ready"]')

/** The rows of a panel's tab once read: each name with the attributes asked for. */
function panelRows(page: Page, panel: string, dimension: string, attributes: string[]) {
  return page
    .locator(`[data-panel="${panel}"] [data-dimension="${dimension}"][data-state="ok"]`)
    .locator('li[data-name]')
    .evaluateAll(
      (els, attributes) =>
        Object.fromEntries(
          els.map((el) => [el.getAttribute('data-name'), attributes.map((a) => el.getAttribute(`data-${a}`))]),
        ),
      attributes,
    )
}

describe.skipIf(!available)('visit quality and goals on the dashboard', () => {
  let browser: Browser
  let base: string
  let stop: () => Promise<void>
  beforeAll(async () => {
    let now = NOW
    const { app, deps } = await testApp({ trustProxy: { hops: 1 }, viewerToken: VIEWER }, { now: () => now })
    for (const [start, visits] of [
      [BEFORE, PREVIOUS],
      [TODAY, PERIOD],
    ] as const) {
      for (const [i, [ip, ua, referrer, pages]] of visits.entries()) {
        for (const [p, [path, at]] of pages.entries()) {
          now = start + i * 600_000 + at * 1000
          const properties = p === 0 && referrer ? { path, referrer } : { path }
          const res = await app.handle(
            beaconRequest([{ event_type: 'page_view', properties }], { ip, headers: { 'user-agent': ua } }),
          )
          expect(res.status).toBe(202)
        }
      }
    }
    now = NOW
    await deps.flusher.flush()
    const server = app.listen({ port: 0, hostname: '127.0.0.1' })
    base = `http://127.0.0.1:${server.port}`
    browser = await launchChromium()
    await mkdir(ARTIFACTS, { recursive: true })
    stop = async () => {
      deps.live.close()
      await app.stop(true)
      await deps.batcher.drain()
    }
  })
  afterAll(async () => {
    await browser?.close()
    await stop?.()
  }, 60_000)

  async function open(token: string, query = 'period=7d') {
    const { context, page, errors } = await dashboardPage(browser, NOW, { acceptDownloads: true })
    await page.goto(`${base}/dashboard?${query}#token=${encodeURIComponent(token)}`)
    await ready(page)
    return { context, page, errors }
  }

  test('cards and columns of visit quality; a page goal made, chosen, cleared and deleted through the page', async () => {
    const { context, page, errors } = await open(ADMIN)
    try {
      // the cards: the period's figures against the previous period's
      await page.waitForSelector('[data-quality="views_per_visit"][data-value][data-before]')
      const cards = await page.$$eval('[data-quality]', (els) =>
        els.map((el) => [
          el.getAttribute('data-quality'),
          el.getAttribute('data-value'),
          el.getAttribute('data-before'),
          el.querySelector('.value')!.textContent,
          el.querySelector('.change')?.textContent,
        ]),
      )
      expect(cards).toEqual([
        ['bounce_rate', '33', '50', '33%', '−17 pp'],
        ['visit_duration', '65', '30', '1m 05s', '+117%'],
        ['views_per_visit', '1.83', '1.5', '1.83', '+22%'],
      ])
      // a lower bounce rate is good news
      expect(await page.getAttribute('[data-quality="bounce_rate"] .change', 'class')).toContain('good')

      // each row of a breakdown of visits: its bounce rate and visit duration
      await page.locator('[data-panel="sources"] [data-dimension="source"][data-state="ok"] li').first().waitFor()
      expect(await panelRows(page, 'sources', 'source', ['count', 'bounce_rate', 'visit_duration'])).toEqual({
        Google: ['3', '33', '60'],
        Bing: ['2', '50', '15'],
        '(direct)': ['1', '0', '180'],
      })
      await page.locator('[data-panel="devices"] [data-dimension="device"][data-state="ok"] li').first().waitFor()
      expect(await panelRows(page, 'devices', 'device', ['count', 'bounce_rate', 'visit_duration'])).toEqual({
        desktop: ['4', '25', '90'],
        mobile: ['2', '50', '15'],
      })
      expect(await page.locator('[data-panel="sources"] .row.head .figure').allTextContents()).toEqual([
        'Bounce',
        'Duration',
      ])
      // a page is no visit: its tab has no figures
      expect(await page.locator('[data-panel="pages"] [data-dimension="page"] .figure').count()).toBe(0)

      // the goals: every event type, and the form
      const goals = page.locator('[data-panel="goals"]')
      await goals.locator('[data-state="ok"] li[data-goal="page_view"]').waitFor()
      expect(await goals.locator('li[data-goal="page_view"]').getAttribute('data-conversions')).toBe('6')
      await goals.locator('input[name="goal-name"]').fill('Signed up')
      await goals.locator('input[name="goal-page"]').fill('/signup')
      await goals.locator('button[type="submit"]').click()
      const made = goals.locator('li[data-name="Signed up"]')
      await made.waitFor()
      const id = (await made.getAttribute('data-goal'))!
      expect(id).toMatch(/^[0-9]+$/)
      // 3 of the 6 visitors reached /signup
      expect([await made.getAttribute('data-conversions'), await made.getAttribute('data-conversion_rate')]).toEqual([
        '3',
        '50',
      ])
      // the same name again: the server's reason beside the form
      await goals.locator('input[name="goal-name"]').fill('Signed up')
      await goals.locator('input[name="goal-page"]').fill('/other')
      await goals.locator('button[type="submit"]').click()
      expect(await goals.locator('[data-problem="goal"]').textContent()).toMatch(/^Not added: .*Signed up/)

      // the goals' CSV is the API's
      const [download] = await Promise.all([page.waitForEvent('download'), goals.locator('button.csv').click()])
      const csv = await fetch(`${base}/analytics/conversions?from=2026-11-30&to=2026-12-06&format=csv`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      expect(parseCsv(await readFile((await download.path())!, 'utf8'))).toEqual(parseCsv(await csv.text()))

      // chosen: in the address, and its conversion rate in every breakdown of visits
      await made.locator('button.row').click()
      await page.waitForURL(new RegExp(`goal=${id}`))
      await page
        .locator('[data-panel="sources"] [data-dimension="source"][data-state="ok"] li[data-conversion_rate]')
        .first()
        .waitFor()
      expect(await panelRows(page, 'sources', 'source', ['conversions', 'conversion_rate'])).toEqual({
        Google: ['1', '33.3'],
        Bing: ['1', '50'],
        '(direct)': ['1', '100'],
      })
      expect(await page.locator('[data-panel="sources"] .row.head .figure').allTextContents()).toEqual([
        'Bounce',
        'Duration',
        'CR',
      ])
      expect(await page.locator('[data-panel="sources"] li[data-name="Google"] .figure.cr').textContent()).toBe('33.3%')
      await page.locator('[data-panel="devices"] [data-dimension="device"] li[data-conversion_rate]').first().waitFor()
      expect(await panelRows(page, 'devices', 'device', ['conversion_rate'])).toEqual({
        desktop: ['50'],
        mobile: ['50'],
      })
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-goals.png'), fullPage: true })

      // a link with the goal shows it again
      const again = await context.newPage()
      await again.clock.setFixedTime(NOW)
      // a tab of its own: its token comes with the link
      await again.goto(`${page.url()}#token=${encodeURIComponent(ADMIN)}`)
      await again.locator(`[data-panel="goals"] [data-chosen="${id}"]`).waitFor()
      await again.close()

      // cleared: no column, no goal in the address
      await goals.locator('.goal-chosen button:has-text("Clear")').click()
      await page.waitForURL((url) => !url.searchParams.has('goal'))
      await page.waitForFunction(
        () =>
          document.querySelectorAll('li[data-conversion_rate]').length === 0 ||
          [...document.querySelectorAll('li[data-conversion_rate]')].every((el) => el.closest('[data-panel="goals"]')),
      )

      // deleted: gone from the panel and from the server
      await made.locator('button.delete').click()
      await made.waitFor({ state: 'detached' })
      const listed = await fetch(`${base}/analytics/goals`, { headers: { authorization: `Bearer ${ADMIN}` } })
      expect(((await listed.json()) as { goals: { id: string }[] }).goals.map((g) => g.id)).not.toContain(id)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a goal of the address that is none is dropped and said', async () => {
    const { context, page, errors } = await open(ADMIN, 'period=7d&goal=999')
    try {
      await page.waitForSelector('[data-notice]:has-text("There is no goal")')
      await page.waitForURL((url) => !url.searchParams.has('goal'))
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('the viewer token sees the goals and their figures, and no form or delete button', async () => {
    const made = await fetch(`${base}/analytics/goals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Pricing', page: '/pricing' }),
    })
    expect(made.status).toBe(201)
    const { context, page, errors } = await open(VIEWER)
    try {
      const goals = page.locator('[data-panel="goals"]')
      const row = goals.locator('li[data-name="Pricing"]')
      await row.waitFor()
      // 3 of the 6 visitors saw /pricing
      expect(await row.getAttribute('data-conversions')).toBe('3')
      expect(await goals.locator('form').count()).toBe(0)
      expect(await goals.locator('button.delete').count()).toBe(0)
      // the viewer may still choose it
      await row.locator('button.row').click()
      await page.locator('[data-panel="sources"] [data-dimension="source"] li[data-conversion_rate]').first().waitFor()
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test("the breakdowns' reads of the log go out once the numbers and chart are answered", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    // every read's start and end, in the page's order of events
    const log: { url: string; sent: number; done: number }[] = []
    let clock = 0
    const sent = new Map<object, number>()
    page.on('request', (r) => {
      if (r.url().includes('/analytics/')) sent.set(r, clock++)
    })
    page.on('requestfinished', (r) => {
      const at = sent.get(r)
      if (at !== undefined) log.push({ url: r.url(), sent: at, done: clock++ })
    })
    try {
      await page.clock.setFixedTime(NOW)
      await page.goto(`${base}/dashboard?period=7d#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      await page.locator('[data-panel="goals"] li[data-conversions]').first().waitFor()
      await page.waitForSelector('[data-quality="views_per_visit"][data-value]')
      const path = (url: string) => new URL(url).pathname + new URL(url).search
      const quality = /metric=bounce_rate|metrics=bounce_rate/
      const numbers = log.filter((r) => path(r.url).startsWith('/analytics/stats?') && !quality.test(r.url))
      const breakdowns = log.filter((r) => path(r.url).startsWith('/analytics/conversions?') || quality.test(r.url))
      expect(numbers.length).toBeGreaterThan(0)
      // the goals panel, the quality cards and the quality columns of the sources, devices, countries
      expect(breakdowns.length).toBeGreaterThanOrEqual(4)
      const numbersDone = Math.max(...numbers.map((r) => r.done))
      expect(breakdowns.filter((r) => r.sent < numbersDone).map((r) => path(r.url))).toEqual([])
    } finally {
      await context.close()
    }
  })
})
