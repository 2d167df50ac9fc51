/**
 * Filters on the dashboard, in real Chromium against the real server: a row clicked becomes a
 * chip and a filter in the address, every number and breakdown is then the API's answer under
 * the same filters, back shows all traffic again; the menu adds `is not` and `contains`; a filter
 * the page or the server cannot use is named in a notice and dropped from the address; the live
 * strip stays unfiltered and says so.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { parseCsv } from '../src/csv.ts'
import type { Filter } from '../src/dashboard/filters.ts'
import { chromiumPath, launchChromium, NO_CHROMIUM } from './browser.ts'
import { seedThroughApi } from './dashboard-seed.ts'
import { seedVisits } from './dashboard-visits-seed.ts'
import { ADMIN } from './live-feed.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'

setDefaultTimeout(60_000)

const ARTIFACTS = join(import.meta.dir, 'artifacts')
const available = chromiumPath() !== undefined
if (!available) console.warn(NO_CHROMIUM)

interface Opened {
  context: BrowserContext
  page: Page
  /** every URL the page asked for */
  requests: string[]
  errors: string[]
}

async function open(browser: Browser, options: { width?: number; dark?: boolean } = {}): Promise<Opened> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    colorScheme: options.dark ? 'dark' : 'light',
    acceptDownloads: true,
  })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const requests: string[] = []
  const errors: string[] = []
  context.on('request', (r) => requests.push(r.url()))
  page.on('pageerror', (e) => errors.push(e.message))
  // a refused read is logged as a failed load; script errors are what counts
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text())
  })
  return { context, page, requests, errors }
}

const get = async <T>(base: string, path: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })
  return { status: res.status, body: (await res.json()) as T }
}

const ready = (page: Page) => page.waitForSelector('main[data-state="ready"]')

const param = (filters: Filter[]) =>
  filters.length > 0 ? `&filters=${encodeURIComponent(JSON.stringify(filters))}` : ''

/** The period shown, as `&from=…&to=…`. */
const shownRange = async (page: Page) => {
  const [from, to] = (await page.getAttribute('[data-range]', 'data-range'))!.split('/')
  return `&from=${from}&to=${to}`
}

/** The filters in the page's address. */
const addressFilters = (page: Page): unknown => {
  const text = new URL(page.url()).searchParams.get('filters')
  return text === null ? null : JSON.parse(text)
}

/** The API's totals, under `filters`, of the metrics the page shows. */
async function apiTotals(base: string, metrics: string[], range: string, filters: Filter[]) {
  const totals: Record<string, number> = {}
  for (const metric of metrics) {
    const q = metric === 'visitors' || metric === 'visits' ? `metric=${metric}` : `event_type=${metric}`
    const answer = await get<{ total: number }>(base, `/analytics/stats?${q}${range}${param(filters)}`)
    expect({ metric, status: answer.status }).toEqual({ metric, status: 200 })
    totals[metric] = answer.body.total
  }
  return totals
}

/** The API's rows of a breakdown, under `filters`. */
async function apiRows(base: string, dimension: string, range: string, filters: Filter[]) {
  const answer = await get<{ items: { name: string; count: number }[] }>(
    base,
    `/analytics/top?dimension=${dimension}${range}&limit=10${param(filters)}`,
  )
  expect({ dimension, status: answer.status }).toEqual({ dimension, status: 200 })
  return answer.body.items
}

/**
 * Waits until every number on the page is the one given (a type with nothing counted under the
 * filters may not be shown), visits among them, and the page says it is ready.
 */
async function numbersBecome(page: Page, want: Record<string, number>) {
  await page.waitForFunction(
    (want) => {
      const shown = [...document.querySelectorAll('[data-metric][data-value]')]
      return (
        document.querySelector('main')?.dataset.state === 'ready' &&
        shown.some((el) => el.getAttribute('data-metric') === 'visits') &&
        shown.every((el) => want[el.getAttribute('data-metric')!] === Number(el.getAttribute('data-value')))
      )
    },
    want,
    { timeout: 15_000 },
  )
}

/** Waits until a panel shows exactly these rows of `dimension`. */
async function rowsBecome(page: Page, panel: string, dimension: string, want: { name: string; count: number }[]) {
  await page.waitForFunction(
    ({ panel, dimension, want }) => {
      const rows = document.querySelector(`[data-panel="${panel}"] [data-dimension="${dimension}"][data-state="ok"]`)
      if (!rows) return false
      const shown = [...rows.querySelectorAll('li[data-name]')].map((li) => ({
        name: li.getAttribute('data-name'),
        count: Number(li.getAttribute('data-count')),
      }))
      return JSON.stringify(shown) === JSON.stringify(want)
    },
    { panel, dimension, want },
    { timeout: 15_000 },
  )
}

const shownNumbers = (page: Page) =>
  page.$$eval('[data-metric][data-value]', (els) =>
    Object.fromEntries(els.map((el) => [el.getAttribute('data-metric')!, Number(el.getAttribute('data-value'))])),
  )

const chips = (page: Page) =>
  page.$$eval('.chip', (els) =>
    els.map((el) => [el.getAttribute('data-filter'), el.querySelector('.chip-text')!.textContent]),
  )

describe.skipIf(!available)('filters on the dashboard', () => {
  let server: ServerProcess
  let browser: Browser
  beforeAll(async () => {
    ;[server, browser] = await Promise.all([
      startServerProcess({ COUNTED_PROPERTIES: 'plan', TRUST_PROXY: '1' }),
      launchChromium(),
      mkdir(ARTIFACTS, { recursive: true }),
    ])
    await seedThroughApi(server.url, { days: 30, visitsPerDay: 20 })
    await seedVisits(server.url, { visits: 60 })
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop('SIGKILL')
  }, 60_000)

  test('a source row clicked: a chip, the filter in the address, the API’s filtered answers everywhere; back: all traffic', async () => {
    const { page, requests, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      const range = await shownRange(page)
      const all = await shownNumbers(page)
      expect(all).toEqual(await apiTotals(server.url, Object.keys(all), range, []))
      const allPages = await apiRows(server.url, 'page', range, [])
      await rowsBecome(page, 'pages', 'page', allPages)
      expect(await page.locator('.chip').count()).toBe(0)
      expect(await page.locator('.live .unfiltered').count()).toBe(0)

      // a row is a button: it looks and acts like one
      const google = page.locator('[data-panel="sources"] li[data-name="Google"] button')
      expect(await google.evaluate((el) => getComputedStyle(el).cursor)).toBe('pointer')
      expect(await google.getAttribute('aria-label')).toStartWith('Filter: Source is Google (')
      const clicked = requests.length
      await google.click()
      const bySource: Filter[] = [['is', 'source', ['Google']]]
      await page.waitForURL(/filters=/)
      expect(addressFilters(page)).toEqual(bySource)
      expect(await chips(page)).toEqual([[JSON.stringify(bySource[0]), 'Source is Google']])

      const filtered = await apiTotals(server.url, Object.keys(all), range, bySource)
      expect(filtered.visits).toBeGreaterThan(0)
      expect(filtered.visits).toBeLessThan(all.visits!)
      await numbersBecome(page, filtered)
      const pages = await apiRows(server.url, 'page', range, bySource)
      expect(pages).not.toEqual(allPages)
      await rowsBecome(page, 'pages', 'page', pages)
      await rowsBecome(page, 'devices', 'device', await apiRows(server.url, 'device', range, bySource))
      await rowsBecome(page, 'sources', 'source', await apiRows(server.url, 'source', range, bySource))
      // the live strip counts all traffic, and says so
      expect(await page.textContent('.live')).toContain('Live · all traffic')

      // a second filter, by the keyboard: a device row, Enter
      const device = (await apiRows(server.url, 'device', range, bySource))[0]!.name
      await page.focus(`[data-panel="devices"] li[data-name="${device}"] button`)
      await page.keyboard.press('Enter')
      const both: Filter[] = [...bySource, ['is', 'device', [device]]]
      await page.waitForFunction((n) => document.querySelectorAll('.chip').length === n, 2)
      expect(addressFilters(page)).toEqual(both)
      await numbersBecome(page, await apiTotals(server.url, Object.keys(all), range, both))
      await rowsBecome(page, 'pages', 'page', await apiRows(server.url, 'page', range, both))
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-filtered.png'), fullPage: true })

      // the CSV of a panel is the API's under the same filters
      const panel = page.locator('[data-panel="pages"]')
      const [download] = await Promise.all([page.waitForEvent('download'), panel.locator('button.csv').click()])
      const csv = await fetch(`${server.url}/analytics/top?dimension=page${range}&limit=10${param(both)}&format=csv`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      expect(csv.status).toBe(200)
      expect(parseCsv(await readFile((await download.path())!, 'utf8'))).toEqual(parseCsv(await csv.text()))
      expect(download.suggestedFilename()).toBe(/filename="([^"]+)"/.exec(csv.headers.get('content-disposition')!)![1]!)

      // every read since the first click was filtered; the live feed never
      const reads = requests
        .slice(clicked)
        .map((url) => new URL(url))
        .filter((u) => ['/analytics/stats', '/analytics/top'].includes(u.pathname))
      expect(reads.length).toBeGreaterThan(10)
      for (const u of reads)
        expect([u.pathname, u.searchParams.get('filters')]).toEqual([u.pathname, expect.any(String)])
      const feeds = requests.map((url) => new URL(url)).filter((u) => u.pathname === '/analytics/live')
      expect(feeds.length).toBe(1)
      expect(feeds[0]!.searchParams.has('filters')).toBe(false)

      // back: one filter, then none, and every number is all traffic's again
      await page.goBack()
      await page.waitForFunction(() => document.querySelectorAll('.chip').length === 1)
      expect(addressFilters(page)).toEqual(bySource)
      await numbersBecome(page, filtered)
      await page.goBack()
      await page.waitForURL(`${server.url}/dashboard`)
      await numbersBecome(page, all)
      await rowsBecome(page, 'pages', 'page', allPages)
      expect(await page.locator('.chip').count()).toBe(0)
      expect(await page.locator('.live .unfiltered').count()).toBe(0)
      await page.goForward()
      await numbersBecome(page, filtered)
      expect(await chips(page)).toEqual([[JSON.stringify(bySource[0]), 'Source is Google']])
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('the menu adds `is not` and `contains` filters, suggesting the top values; chips go one by one or all at once', async () => {
    const { page, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      const range = await shownRange(page)
      const metrics = Object.keys(await shownNumbers(page))

      await page.click('.filter-button')
      await page.waitForFunction(() => document.activeElement?.id === 'filter-dimension')
      expect(await page.inputValue('#filter-dimension')).toBe('source')
      // the suggestions are the source's top values
      await page.waitForSelector('#filter-suggestions[data-state="ok"]', { state: 'attached' })
      const top = await get<{ items: { name: string }[] }>(
        server.url,
        `/analytics/top?dimension=source${range}&limit=25`,
      )
      expect(await page.$$eval('#filter-suggestions option', (els) => els.map((o) => o.getAttribute('value')))).toEqual(
        top.body.items.map((i) => i.name),
      )
      await page.selectOption('#filter-operator', 'is_not')
      await page.focus('#filter-value-0')
      await page.keyboard.type('Google')
      await page.keyboard.press('Enter')
      const notGoogle: Filter[] = [['is_not', 'source', ['Google']]]
      await page.waitForSelector('.chip')
      expect(addressFilters(page)).toEqual(notGoogle)
      expect(await chips(page)).toEqual([[JSON.stringify(notGoogle[0]), 'Source is not Google']])
      // the menu closed, and the focus is back on its button
      expect(await page.locator('#filter-menu').count()).toBe(0)
      expect(await page.evaluate(() => document.activeElement?.className)).toBe('filter-button')
      await numbersBecome(page, await apiTotals(server.url, metrics, range, notGoogle))
      await rowsBecome(page, 'sources', 'source', await apiRows(server.url, 'source', range, notGoogle))

      // contains, two values OR'ed
      await page.keyboard.press('Enter')
      await page.selectOption('#filter-dimension', 'page')
      await page.selectOption('#filter-operator', 'contains')
      await page.fill('#filter-value-0', 'BLOG')
      await page.click('button:has-text("Another value")')
      await page.waitForFunction(() => document.activeElement?.id === 'filter-value-1')
      await page.keyboard.type('pricing')
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-filter-menu.png') })
      await page.click('button[type="submit"]:has-text("Add filter")')
      const both: Filter[] = [...notGoogle, ['contains', 'page', ['BLOG', 'pricing']]]
      await page.waitForFunction(() => document.querySelectorAll('.chip').length === 2)
      expect(addressFilters(page)).toEqual(both)
      expect((await chips(page))[1]).toEqual([JSON.stringify(both[1]), 'Page contains BLOG or pricing'])
      await numbersBecome(page, await apiTotals(server.url, metrics, range, both))
      const pages = await apiRows(server.url, 'page', range, both)
      expect(pages.length).toBeGreaterThan(0)
      // contains ignores case
      for (const { name } of pages) expect(name).toMatch(/blog|pricing/i)
      await rowsBecome(page, 'pages', 'page', pages)

      // Escape closes the menu without adding anything
      // (the menu opens and closes on the page's next render: waited for, not assumed)
      await page.click('.filter-button')
      await page.waitForSelector('#filter-menu', { state: 'visible' })
      await page.keyboard.press('Escape')
      await page.waitForSelector('#filter-menu', { state: 'detached' })
      expect(await page.locator('#filter-menu').count()).toBe(0)
      expect(addressFilters(page)).toEqual(both)

      // one chip's ×, then clear all
      await page.click(`.chip[data-filter='${JSON.stringify(both[0])}'] .remove`)
      await page.waitForFunction(() => document.querySelectorAll('.chip').length === 1)
      expect(addressFilters(page)).toEqual([both[1]])
      await numbersBecome(page, await apiTotals(server.url, metrics, range, [both[1]!]))
      await page.click('button:has-text("Clear all")')
      await page.waitForURL(`${server.url}/dashboard?period=30d`)
      await numbersBecome(page, await apiTotals(server.url, metrics, range, []))
      expect(await page.locator('.chip').count()).toBe(0)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a filter the page cannot use is named in a notice and dropped from the address', async () => {
    const { page, errors, context } = await open(browser)
    try {
      const google: Filter = ['is', 'source', ['Google']]
      const entries = JSON.stringify([['is', 'planet', ['Mars']], google])
      await page.goto(
        `${server.url}/dashboard?filters=${encodeURIComponent(entries)}#token=${encodeURIComponent(ADMIN)}`,
      )
      await ready(page)
      expect(await page.textContent('[data-notice]')).toContain(
        'The filter "[\\"is\\",\\"planet\\",[\\"Mars\\"]]" was dropped: "planet" is not a dimension.',
      )
      expect(addressFilters(page)).toEqual([google])
      expect(await chips(page)).toEqual([[JSON.stringify(google), 'Source is Google']])

      await page.goto(`${server.url}/dashboard?period=7d&filters=%5B%5B%22is%22`)
      await ready(page)
      expect(await page.textContent('[data-notice]')).toContain('are not a JSON list')
      expect(page.url()).toBe(`${server.url}/dashboard?period=7d`)
      expect(await page.locator('.chip').count()).toBe(0)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('filters the server refuses (422 naming filters): the notice gives its reason, the address drops them', async () => {
    const { page, context } = await open(browser)
    try {
      const reason = 'filters[0] names a value the server cannot use'
      await page.route(
        (url) => url.pathname.startsWith('/analytics/') && url.searchParams.has('filters'),
        (route) =>
          route.fulfill({
            status: 422,
            contentType: 'application/json',
            body: JSON.stringify({ error: reason, parameter: 'filters' }),
          }),
      )
      const google: Filter = ['is', 'source', ['Google']]
      await page.goto(
        `${server.url}/dashboard?period=7d&filters=${encodeURIComponent(JSON.stringify([google]))}#token=${encodeURIComponent(ADMIN)}`,
      )
      await page.waitForSelector('[data-notice]:has-text("could not use")')
      expect(await page.textContent('[data-notice]')).toBe(
        `The server could not use the filters (Source is Google): ${reason}. They were dropped: showing all traffic.`,
      )
      expect(page.url()).toBe(`${server.url}/dashboard?period=7d`)
      await ready(page)
      expect(await page.locator('.chip').count()).toBe(0)
      const range = await shownRange(page)
      const shown = await shownNumbers(page)
      expect(shown).toEqual(await apiTotals(server.url, Object.keys(shown), range, []))
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-filters-refused.png') })

      // and the real server's own refusal: a filter of the right shape on a type that is none
      await page.unrouteAll()
      const misspelt = JSON.stringify([['is', 'event_type', ['signups']]])
      await page.goto(`${server.url}/dashboard?period=7d&filters=${encodeURIComponent(misspelt)}`)
      await page.waitForSelector('[data-notice]:has-text("could not use")')
      const notice = await page.textContent('[data-notice]')
      expect(notice).toStartWith('The server could not use the filters (Event type is signups): filters[0]')
      expect(notice).toContain('is not an event type')
      expect(page.url()).toBe(`${server.url}/dashboard?period=7d`)
      await ready(page)
      expect(await page.locator('.chip').count()).toBe(0)
    } finally {
      await context.close()
    }
  })

  test('375 px wide, light and dark, with filters on and the menu open: nothing scrolls sideways', async () => {
    const filters: Filter[] = [
      ['is', 'source', ['Google', 'Hacker News']],
      ['contains_not', 'page', ['/blog/privacy-first-analytics-and-a-much-longer-path-than-fits']],
    ]
    for (const dark of [false, true]) {
      const { page, errors, context } = await open(browser, { width: 375, dark })
      try {
        await page.goto(
          `${server.url}/dashboard?filters=${encodeURIComponent(JSON.stringify(filters))}#token=${encodeURIComponent(ADMIN)}`,
        )
        await ready(page)
        expect(await page.locator('.chip').count()).toBe(2)
        await page.click('.filter-button')
        await page.waitForSelector('#filter-menu')
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        expect(overflow).toBeLessThanOrEqual(0)
        await page.screenshot({ path: join(ARTIFACTS, `dashboard-filters-mobile-${dark ? 'dark' : 'light'}.png`) })
        expect(errors).toEqual([])
      } finally {
        await context.close()
      }
    }
  })
})
