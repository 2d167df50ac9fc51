/**
 * The dashboard's time controls in Chromium: the chart's interval (months by default for twelve
 * months, in the address), today measured against yesterday until the same time (on a clock the
 * test sets in the page, against events at known times), and time zones listed by their IANA
 * names whatever the browser calls them.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { chromiumPath, launchChromium, NO_CHROMIUM } from './browser.ts'
import { ADMIN } from './live-feed.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'

setDefaultTimeout(30_000)

const available = chromiumPath() !== undefined
if (!available) console.warn(NO_CHROMIUM)

const INGEST = 'Bearer test-ingest-token-0123456789'

interface Opened {
  context: BrowserContext
  page: Page
  /** the query of every stats read the page made */
  stats: URLSearchParams[]
  errors: string[]
}

async function open(browser: Browser, options: { timezoneId?: string } = {}): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: options.timezoneId })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const stats: URLSearchParams[] = []
  const errors: string[] = []
  context.on('request', (r) => {
    const url = new URL(r.url())
    if (url.pathname === '/analytics/stats') stats.push(url.searchParams)
  })
  page.on('pageerror', (e) => errors.push(e.message))
  return { context, page, stats, errors }
}

const ready = (page: Page) => page.waitForSelector('main[data-state="ready"]')

async function send(base: string, events: unknown[]): Promise<void> {
  const res = await fetch(`${base}/analytics/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: INGEST },
    body: JSON.stringify(events),
  })
  expect(res.status).toBe(202)
}

async function stats(base: string, query: string): Promise<{ series: { t: string; count: number }[]; total: number }> {
  const res = await fetch(`${base}/analytics/stats?${query}`, { headers: { authorization: `Bearer ${ADMIN}` } })
  expect(res.status).toBe(200)
  return (await res.json()) as { series: { t: string; count: number }[]; total: number }
}

const DAY_MS = 86_400_000
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

describe.skipIf(!available)('the dashboard’s time controls', () => {
  let server: ServerProcess
  let browser: Browser
  // the page's clock: today at 12:07 UTC (the deployment's zone is UTC); yesterday's sign-ups at
  // 11:00, 12:05 and 13:00, of which only the first is before 12:00, the quarter 12:07 is in
  const today = utcDay(Date.now())
  const noon = Date.parse(`${today}T12:07:00Z`)
  const yesterday = utcDay(noon - DAY_MS)
  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServerProcess(), launchChromium()])
    const at = (time: string) => Date.parse(`${yesterday}T${time}:00Z`)
    await send(server.url, [
      ...['11:00', '12:05', '13:00'].map((t) => ({ event_type: 'user_signup', timestamp: at(t) })),
      // page views on each of the last 25 days, for the series by week and month
      ...Array.from({ length: 25 }, (_, i) => ({ event_type: 'page_view', timestamp: Date.now() - (i + 1) * DAY_MS })),
      { event_type: 'user_signup' },
    ])
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop('SIGKILL')
  }, 60_000)

  test('twelve months are charted by month by default; the interval is picked, kept in the address, and back restores it', async () => {
    const { page, stats: reads, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard?period=12mo&type=page_view#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      expect(await page.inputValue('#interval')).toBe('month')
      expect(await page.$$eval('#interval option', (els) => els.map((e) => (e as HTMLOptionElement).value))).toEqual([
        'month',
        'week',
        'day',
      ])
      expect(await page.textContent('#chart-title')).toContain('by month')
      const views = reads.filter((q) => q.get('event_type') === 'page_view')
      expect(new Set(views.map((q) => q.get('granularity')))).toEqual(new Set(['month']))
      // the chart has the API's months, about thirteen points, not 365
      const range = (await page.getAttribute('.range', 'data-range'))!.split('/')
      const months = await stats(server.url, `event_type=page_view&from=${range[0]}&to=${range[1]}&granularity=month`)
      expect(months.series.length).toBeGreaterThanOrEqual(12)
      expect(months.series.length).toBeLessThanOrEqual(13)
      expect(await page.getAttribute('.chart', 'aria-valuemax')).toBe(String(months.series.length - 1))
      expect(Number(await page.getAttribute('[data-metric="page_view"]', 'data-value'))).toBe(months.total)

      await page.selectOption('#interval', 'week')
      await page.waitForURL(/interval=week/)
      await ready(page)
      expect(await page.textContent('#chart-title')).toContain('by week')
      expect(reads.some((q) => q.get('event_type') === 'page_view' && q.get('granularity') === 'week')).toBe(true)
      // the default is not written: a link says only what differs from it
      await page.selectOption('#interval', 'month')
      await page.waitForURL((url) => !url.search.includes('interval='))
      await page.goBack()
      await page.waitForURL(/interval=week/)
      expect(await page.inputValue('#interval')).toBe('week')

      // a medium range is by week, a month by day, and hours are offered for a week
      for (const [period, value, choices] of [
        ['30d', 'day', ['day', 'week']],
        ['7d', 'day', ['day', 'hour']],
        ['today', 'hour', ['hour']],
      ] as const) {
        await page.goto(`${server.url}/dashboard?period=${period}`)
        await ready(page)
        expect({ period, value: await page.inputValue('#interval') }).toEqual({ period, value })
        const options = await page.$$eval('#interval option', (els) => els.map((e) => (e as HTMLOptionElement).value))
        expect({ period, options }).toEqual({ period, options: [...choices] })
      }
      await page.goto(`${server.url}/dashboard?period=custom&from=${utcDay(Date.now() - 59 * DAY_MS)}&to=${today}`)
      await ready(page)
      expect(await page.inputValue('#interval')).toBe('week')
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('today is measured against yesterday until the same time, or, when asked, all of yesterday', async () => {
    const { page, stats: reads, errors, context } = await open(browser)
    try {
      await page.clock.setFixedTime(noon)
      await page.goto(`${server.url}/dashboard?period=today&compare=1#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      const signups = '[data-metric="user_signup"]'
      expect(await page.getAttribute(signups, 'data-value')).toBe('1')
      expect(await page.textContent(`${signups} .before`)).toBe('vs 1')
      const until = `${yesterday}T12:00:00.000Z`
      expect(await page.getAttribute('.against', 'data-until')).toBe(until)
      expect(await page.textContent('.against')).toContain('until 12:00')
      expect(await page.inputValue('#yesterday')).toBe('now')
      const cut = reads.filter((q) => q.get('event_type') === 'user_signup' && q.get('from') === yesterday)
      expect(cut.map((q) => q.get('until'))).toEqual([until])
      // the read the page made, asked again: what it showed
      expect(
        (await stats(server.url, `event_type=user_signup&from=${yesterday}&to=${yesterday}&until=${until}`)).total,
      ).toBe(1)

      await page.selectOption('#yesterday', 'whole')
      await page.waitForURL(/whole_day=1/)
      await page.waitForSelector(`${signups} .before:has-text("vs 3")`)
      expect(await page.getAttribute('.against', 'data-until')).toBeNull()
      await page.goBack()
      await page.waitForSelector(`${signups} .before:has-text("vs 1")`)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('zones are listed by their IANA names: the browser’s own Asia/Calcutta is Asia/Kolkata', async () => {
    const { page, stats: reads, errors, context } = await open(browser, { timezoneId: 'Asia/Calcutta' })
    try {
      expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe('Asia/Calcutta')
      await page.goto(`${server.url}/dashboard#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      const options = () => page.$$eval('#tz option', (els) => els.map((e) => (e as HTMLOptionElement).value))
      expect(await options()).toEqual(['UTC', 'Asia/Kolkata'])
      await page.focus('#tz')
      await page.waitForFunction(() => document.querySelectorAll('#tz option').length > 100)
      const all = await options()
      for (const name of ['Asia/Kolkata', 'Europe/Kyiv', 'America/Argentina/Buenos_Aires', 'Asia/Ho_Chi_Minh'])
        expect({ name, listed: all.includes(name) }).toEqual({ name, listed: true })
      for (const name of ['Asia/Calcutta', 'Europe/Kiev', 'America/Buenos_Aires', 'Asia/Saigon'])
        expect({ name, listed: all.includes(name) }).toEqual({ name, listed: false })
      expect(all.length).toBe(new Set(all).size)

      await page.selectOption('#tz', 'Asia/Kolkata')
      await page.waitForURL(/tz=Asia\/Kolkata/)
      await ready(page)
      expect(await page.textContent('#chart-title')).toContain('Asia/Kolkata')
      expect(reads.at(-1)!.get('tz')).toBe('Asia/Kolkata')
      // an address in the browser's spelling shows the IANA name
      await page.goto(`${server.url}/dashboard?tz=Asia/Calcutta`)
      await ready(page)
      expect(await page.inputValue('#tz')).toBe('Asia/Kolkata')
      expect(await page.textContent('#chart-title')).toContain('Asia/Kolkata')
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })
})
