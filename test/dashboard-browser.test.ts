import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { createClient } from 'redis'
import { createCalendar } from '../src/counters/calendar.ts'
import { createKeys, dayOf } from '../src/counters/keys.ts'
import { parseCsv } from '../src/csv.ts'
import { TOKEN_KEY } from '../src/dashboard/token.ts'
import { countLabel, EVENT_LABELS } from '../src/events/labels.ts'
import { EVENT_TYPES } from '../src/events/types.ts'
import { bucketsOf } from '../src/filters/index.ts'
import { chromiumPath, launchChromium, NO_CHROMIUM } from './browser.ts'
import { seedThroughApi } from './dashboard-seed.ts'
import { ADMIN, sendBeacons } from './live-feed.ts'
import { prng } from './prng.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { redisUrl, testPrefix } from './services.ts'

setDefaultTimeout(30_000)

const ARTIFACTS = join(import.meta.dir, 'artifacts')
const available = chromiumPath() !== undefined
if (!available) console.warn(NO_CHROMIUM)

interface Opened {
  context: BrowserContext
  page: Page
  /** every URL the page asked for, and its Authorization header */
  requests: { url: string; authorization?: string }[]
  errors: string[]
}

/** A fresh context (its own sessionStorage), recording every request and every script error. */
async function open(browser: Browser, options: { width?: number; dark?: boolean } = {}): Promise<Opened> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    colorScheme: options.dark ? 'dark' : 'light',
    acceptDownloads: true,
  })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const requests: Opened['requests'] = []
  const errors: string[] = []
  context.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }))
  page.on('pageerror', (e) => errors.push(e.message))
  // a refused read (the 422 of a server without visitors, a 503 a test makes) is logged as a
  // failed load; script errors are what counts
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text())
  })
  return { context, page, requests, errors }
}

/** Requests that left the server's origin (inline data: URLs and same-origin blobs stay home). */
function elsewhere(requests: Opened['requests'], origin: string): string[] {
  return requests
    .map((r) => r.url)
    .filter((url) => !url.startsWith('data:') && new URL(url.replace(/^blob:/, '')).origin !== origin)
}

const get = async <T>(base: string, path: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })
  return { status: res.status, body: (await res.json()) as T }
}

/** Every number on the page: metric → the exact integer in its data-value. */
const shownNumbers = (page: Page) =>
  page.$$eval('[data-metric][data-value]', (els) =>
    Object.fromEntries(els.map((el) => [el.getAttribute('data-metric')!, Number(el.getAttribute('data-value'))])),
  )

/** The API's total of each metric over a range (the default period without one). */
async function apiTotals(base: string, metrics: string[], range = '') {
  const totals: Record<string, number> = {}
  for (const metric of metrics) {
    const q = metric === 'visitors' || metric === 'visits' ? `metric=${metric}` : `event_type=${metric}`
    const answer = await get<{ total: number }>(base, `/analytics/stats?${q}${range}`)
    expect({ metric, status: answer.status }).toEqual({ metric, status: 200 })
    totals[metric] = answer.body.total
  }
  return totals
}

const ready = (page: Page) => page.waitForSelector('main[data-state="ready"]')

describe.skipIf(!available)('dashboard with no data yet', () => {
  let server: ServerProcess
  let browser: Browser
  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServerProcess(), launchChromium()])
    await mkdir(ARTIFACTS, { recursive: true })
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop('SIGKILL')
  }, 60_000)

  test('shows the snippet for this server, and the check finds the first event', async () => {
    const { page, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard#token=${encodeURIComponent(ADMIN)}`)
      // the token moved from the address bar into the tab's storage
      expect(page.url()).toBe(`${server.url}/dashboard`)
      expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBe(ADMIN)
      await page.waitForSelector('[data-state="empty"]')
      expect(await page.textContent('[data-snippet]')).toContain(`<script defer src="${server.url}/t.js"></script>`)
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-empty.png') })

      await page.click('button:has-text("Check for events")')
      await page.waitForSelector('.empty .message:has-text("Nothing yet")')
      // and why a first event may not have come
      expect(await page.textContent('.empty .message')).toContain('headless browsers')
      await sendBeacons(server.url, 'page_view', 1)
      await page.click('button:has-text("Check for events")')
      await page.waitForSelector('[data-metric="page_view"][data-value="1"]')
      expect(await page.locator('[data-state="empty"]').count()).toBe(0)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe.skipIf(!available)('numbers that count today follow the live feed', () => {
  let server: ServerProcess
  let browser: Browser
  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServerProcess(), launchChromium()])
    await mkdir(ARTIFACTS, { recursive: true })
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop('SIGKILL')
  }, 60_000)

  /** Waits (bounded) until the cards and the strip both show `want` for each type. */
  const agree = (page: Page, want: Record<string, number>) =>
    page.waitForFunction(
      (want) =>
        Object.entries(want).every(
          ([type, n]) =>
            document.querySelector(`[data-metric="${type}"]`)?.getAttribute('data-value') === String(n) &&
            document.querySelector(`[data-live="${type}"]`)?.getAttribute('data-value') === String(n),
        ),
      want,
      { timeout: 15_000 },
    )

  test('from the empty state, every event in turn reaches the cards, the chart and the panels, in few reads', async () => {
    const { page, requests, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard?period=today#token=${encodeURIComponent(ADMIN)}`)
      await page.waitForSelector('[data-state="empty"]')
      await page.waitForSelector('.live[data-state="live"]')
      const started = Date.now()
      await sendBeacons(server.url, 'page_view', 1)
      await agree(page, { page_view: 1 })
      await sendBeacons(server.url, 'page_view', 1)
      await agree(page, { page_view: 2 })
      await sendBeacons(server.url, 'feature_used', 2)
      await agree(page, { page_view: 2, feature_used: 2 })
      // a burst, one beacon at a time: the cards catch up without a read per beacon
      for (let i = 0; i < 8; i++) await sendBeacons(server.url, 'page_view', 1)
      await agree(page, { page_view: 10, feature_used: 2 })
      const seconds = (Date.now() - started) / 1000
      // the chart and a panel are read again with the numbers
      expect(await page.getAttribute('.chart[role="slider"]', 'aria-label')).toContain('in all')
      await page.waitForSelector('[data-panel="pages"] li[data-name="/live-test"][data-count="10"]', {
        timeout: 10_000,
      })
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-follows-today.png') })

      // at most a round of reads every REREAD_MS (3 s), plus the one the empty state asks first;
      // a round reads today's page views once (and yesterday's until now, for the comparison)
      const rounds = requests.filter((r) => {
        const url = new URL(r.url)
        return (
          url.pathname === '/analytics/stats' &&
          url.searchParams.get('event_type') === 'page_view' &&
          !url.searchParams.has('until')
        )
      }).length
      expect(rounds).toBeLessThanOrEqual(Math.ceil(seconds / 3) + 2)
      expect(requests.filter((r) => new URL(r.url).pathname === '/analytics/live')).toHaveLength(1)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('with numbers on screen, today’s cards follow the strip within seconds', async () => {
    const { page, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard?period=today#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      await page.waitForSelector('.live[data-state="live"] [data-live="page_view"]')
      const before = await shownNumbers(page)
      await sendBeacons(server.url, 'page_view', 5)
      await sendBeacons(server.url, 'feature_used', 3)
      await agree(page, { page_view: before.page_view! + 5, feature_used: before.feature_used! + 3 })
      expect(await page.getAttribute('main', 'data-state')).toBe('ready')
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe.skipIf(!available)('a held flush batch', () => {
  test('the dashboard says how many are held, that their counts are shown, and where to look', async () => {
    const prefix = testPrefix()
    const [server, browser] = await Promise.all([startServerProcess({ REDIS_PREFIX: prefix }), launchChromium()])
    const redis = await createClient({ url: await redisUrl() }).connect()
    try {
      await sendBeacons(server.url, 'page_view', 3)
      const opened = await open(browser)
      const { page, errors, context } = opened
      const readyz = () => page.waitForResponse((r) => new URL(r.url()).pathname === '/readyz')
      try {
        // nothing held: /readyz is asked once, and no notice is shown
        let asked = readyz()
        await page.goto(`${server.url}/dashboard?period=today#token=${encodeURIComponent(ADMIN)}`)
        expect(await (await asked).json()).toMatchObject({ held_batches: 0 })
        await ready(page)
        expect(await page.locator('[data-notice="held"]').count()).toBe(0)

        // a value no index entry can hold, put into Redis by hand (as test/flush-held.test.ts does)
        const r = prng(11)
        const junk = Array.from({ length: 4000 }, () => String.fromCharCode(97 + r.int(26))).join('')
        const pending = createKeys(prefix).shards[0]!.pending('x')
        await redis.hSet(pending, `${dayOf(Date.now())}|visit|hostname|${junk}.example`, '1')
        const flushed = await fetch(`${server.url}/analytics/flush`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}` },
        })
        expect(await flushed.json()).toEqual({ flushed: 0 })

        asked = readyz()
        await page.reload()
        expect(await (await asked).json()).toMatchObject({ status: 'ready', held_batches: 1 })
        const notice = page.locator('[data-notice="held"][data-held="1"]')
        await notice.waitFor()
        const text = await notice.textContent()
        expect(text).toContain('1 flush batch is held')
        expect(text).toContain('counts are kept')
        expect(text).toContain('GET /analytics/flush/held')
        expect(text).toContain('Held flush batches')
        // and they are: the held batch's page views are in the numbers
        await ready(page)
        expect((await shownNumbers(page)).page_view).toBe(3)
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-held.png') })

        // rows the event log dropped past EVENTS_PENDING_MAX (as the group commit's script counts them)
        expect(await page.locator('[data-notice="log-dropped"]').count()).toBe(0)
        await redis.hSet(createKeys(prefix).shards[0]!.dropped, String(Math.floor(Date.now() / 86_400_000)), '250')
        asked = readyz()
        await page.reload()
        expect(await (await asked).json()).toMatchObject({ log_dropped_rows: 250 })
        const dropped = page.locator('[data-notice="log-dropped"][data-dropped="250"]')
        await dropped.waitFor()
        expect(await dropped.textContent()).toContain('The event log is missing 250 events')
        expect(errors).toEqual([])
      } finally {
        await context.close()
      }
    } finally {
      await redis.quit()
      await browser.close()
      await server.stop('SIGKILL')
    }
  })
})

describe.skipIf(!available)('dashboard in a real browser', () => {
  let server: ServerProcess
  let browser: Browser
  beforeAll(async () => {
    ;[server, browser] = await Promise.all([
      startServerProcess({ COUNTED_PROPERTIES: 'plan' }),
      launchChromium(),
      mkdir(ARTIFACTS, { recursive: true }),
    ])
    await seedThroughApi(server.url, { days: 30, visitsPerDay: 20 })
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop('SIGKILL')
  }, 60_000)

  test('signs in, shows the API’s numbers for the default period, and asks nothing of another origin', async () => {
    const { page, requests, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard`)
      await page.fill('#token', 'not-the-admin-token-0123')
      await page.click('button[type="submit"]')
      await page.waitForSelector('#signin-error:has-text("refused")')
      // with the server's reason
      expect(await page.textContent('#signin-error')).toContain('invalid token')
      expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBeNull()
      // one read tried the token; none of the others went out
      const tried = requests.filter((r) => new URL(r.url).pathname.startsWith('/analytics/'))
      expect(tried.map((r) => r.authorization)).toEqual(['Bearer not-the-admin-token-0123'])

      const refused = requests.length
      await page.fill('#token', ADMIN)
      await page.click('button[type="submit"]')
      await ready(page)
      const shown = await shownNumbers(page)
      // the seed sent every one of these; visitors appear where the server answers their union
      for (const metric of ['visits', 'page_view', 'feature_used', 'user_signup', 'generation_completed'])
        expect(Object.keys(shown)).toContain(metric)
      const visitors = await get(server.url, '/analytics/stats?metric=visitors')
      if (visitors.status !== 200) expect(shown.visitors).toBeUndefined()
      expect(shown).toEqual(await apiTotals(server.url, Object.keys(shown)))
      expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0)
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-desktop.png'), fullPage: true })

      const reads = requests.slice(refused).filter((r) => new URL(r.url).pathname.startsWith('/analytics/'))
      expect(reads.length).toBeGreaterThan(10)
      for (const r of reads) {
        expect(r.url).not.toContain(ADMIN)
        expect(r.authorization).toBe(`Bearer ${ADMIN}`)
      }
      expect(elsewhere(requests, server.url)).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('today, by hour: unique visitors are the day’s total, shown but not put on the chart', async () => {
    await sendBeacons(server.url, 'page_view', 2) // a visitor today (the seed sends server events)
    const { page, errors, context } = await open(browser)
    try {
      // even when the address asks for them on the chart
      await page.goto(`${server.url}/dashboard?period=today&type=visitors#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      const [from, to] = (await page.getAttribute('[data-range]', 'data-range'))!.split('/')
      expect(from).toBe(to)
      const day = await get<{ total: number }>(server.url, `/analytics/stats?metric=visitors&from=${from}&to=${to}`)
      expect(day.status).toBe(200)
      expect(day.body.total).toBeGreaterThan(0)
      expect((await shownNumbers(page)).visitors).toBe(day.body.total)
      expect(await page.isDisabled('[data-metric="visitors"]')).toBe(true)
      expect(await page.getAttribute('[data-metric="visits"]', 'aria-pressed')).toBe('true')
      expect(await page.textContent('#chart-title')).toContain('Visits')
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a period is in the address; back restores the view before it; the keyboard gets there', async () => {
    const { page, requests, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      const thirtyDays = await shownNumbers(page)

      // Tab to the period, then the arrow key: Last 7 days is the preset before Last 30 days
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press('Tab')
        if (await page.evaluate(() => document.activeElement?.id === 'period')) break
      }
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('period')
      await page.keyboard.press('ArrowUp')
      await page.waitForURL(/\?period=7d$/)
      await ready(page)
      const range = (await page.getAttribute('[data-range]', 'data-range'))!.split('/')
      const sevenDays = await shownNumbers(page)
      expect(sevenDays).toEqual(await apiTotals(server.url, Object.keys(sevenDays), `&from=${range[0]}&to=${range[1]}`))
      expect(sevenDays.page_view).toBeLessThan(thirtyDays.page_view!)

      // a number put on the chart by the keyboard
      await page.focus('[data-metric="user_signup"]')
      await page.keyboard.press('Enter')
      await page.waitForURL(/type=user_signup/)
      expect(await page.getAttribute('[data-metric="user_signup"]', 'aria-pressed')).toBe('true')
      expect(await page.textContent('#chart-title')).toContain('Sign-ups')

      await page.goBack()
      await page.waitForURL(/\?period=7d$/)
      await page.goBack()
      await page.waitForURL(`${server.url}/dashboard`)
      await ready(page)
      expect(await page.inputValue('#period')).toBe('30d')
      expect(await shownNumbers(page)).toEqual(thirtyDays)
      await page.goForward()
      await ready(page)
      expect(await page.inputValue('#period')).toBe('7d')
      expect(await shownNumbers(page)).toEqual(sevenDays)
      expect(elsewhere(requests, server.url)).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('an address it cannot use: the page says what was wrong and what it shows, and the address becomes that view', async () => {
    const cases = [
      ['?period=garbage&compare=1', ['"garbage" is not a period', 'showing Last 30 days'], '?period=30d&compare=1'],
      ['?period=7d&tz=Mars/Olympus', ['"Mars/Olympus" is unknown', 'showing UTC'], '?period=7d'],
      [
        '?period=custom&from=2026-03-01&to=2026-01-01',
        ['"2026-03-01" to "2026-01-01"', 'first day comes after the last', 'showing Last 30 days'],
        '?period=30d',
      ],
      [
        '?period=custom&from=2024-01-01&to=2026-01-01&type=page_view',
        ['at most 400 days', 'showing Last 30 days'],
        '?period=30d&type=page_view',
      ],
    ] as const
    const { page, errors, context } = await open(browser)
    try {
      for (const [query, said, shown] of cases) {
        await page.goto(`${server.url}/dashboard${query}#token=${encodeURIComponent(ADMIN)}`)
        await ready(page)
        const notice = await page.textContent('[data-notice]')
        for (const words of said) expect({ query, notice }).toEqual({ query, notice: expect.stringContaining(words) })
        expect(page.url()).toBe(`${server.url}/dashboard${shown}`)
        expect(await page.inputValue('#period')).toBe(new URLSearchParams(shown).get('period')!)
        if (query.includes('2024')) await page.screenshot({ path: join(ARTIFACTS, 'dashboard-bad-address.png') })
      }
      // the notice is about the address it came with: another view leaves it behind
      await page.selectOption('#period', '7d')
      await page.waitForURL(/period=7d/)
      expect(await page.locator('[data-notice]').count()).toBe(0)
      // and an address it can use has none
      await page.goto(`${server.url}/dashboard?period=7d&tz=Europe/Berlin`)
      await ready(page)
      expect(await page.locator('[data-notice]').count()).toBe(0)
      expect(page.url()).toBe(`${server.url}/dashboard?period=7d&tz=Europe/Berlin`)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a user lookup shows the user’s counts of each event type, and says so when there are none', async () => {
    const sent = await fetch(`${server.url}/analytics/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-ingest-token-0123456789' },
      body: JSON.stringify(
        ['user_signup', 'user_login', 'feature_used', 'feature_used'].map((event_type) => ({
          event_type,
          user_id: 'looked-up',
        })),
      ),
    })
    expect(sent.status).toBe(202)
    const { page, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      await page.fill('#user-id', 'looked-up')
      await page.click('.lookup button[type="submit"]')
      const table = page.locator('.user-counts[data-user="looked-up"]')
      await table.waitFor()
      const api = await get<{ events: Record<string, Record<string, number>> }>(
        server.url,
        '/analytics/users/looked-up',
      )
      const shown = await table
        .locator('tbody tr')
        .evaluateAll((rows) =>
          rows.map((row) => [
            row.getAttribute('data-type'),
            row.querySelector('th')!.textContent,
            Object.fromEntries(
              [...row.querySelectorAll('td')].map((td) => [td.getAttribute('data-field'), Number(td.dataset.value)]),
            ),
          ]),
        )
      expect(shown).toEqual(
        Object.keys(EVENT_LABELS)
          .filter((type) => api.body.events[type])
          .map((type) => [type, EVENT_LABELS[type as keyof typeof EVENT_LABELS].plural, api.body.events[type]]),
      )
      expect(shown.map(([type]) => type)).toEqual(['feature_used', 'user_signup', 'user_login'])
      expect(api.body.events.feature_used).toEqual({ today: 2, this_month: 2, total: 2 })
      await page.locator('[data-panel="users"]').screenshot({ path: join(ARTIFACTS, 'dashboard-user.png') })

      await page.fill('#user-id', 'never-existed')
      await page.click('.lookup button[type="submit"]')
      await page.waitForSelector('.user-none[data-user="never-existed"]')
      expect(await page.textContent('.user-none')).toBe('No events counted for user never-existed.')
      expect(await page.locator('.user-counts').count()).toBe(0)
      await page.locator('[data-panel="users"]').screenshot({ path: join(ARTIFACTS, 'dashboard-user-none.png') })
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('in another time zone, unique visitors are still shown: the days of TIME_ZONE, and said to be', async () => {
    await sendBeacons(server.url, 'page_view', 1) // a visitor today
    const { page, requests, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard?period=7d&tz=Asia/Tokyo#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      const card = page.locator('[data-metric="visitors"]')
      await card.waitFor()
      const asked = requests
        .map((r) => new URL(r.url))
        .filter((u) => u.pathname === '/analytics/stats' && u.searchParams.get('metric') === 'visitors')
      expect(asked.length).toBe(2) // the period and the one before
      expect(new Set(asked.map((u) => u.searchParams.get('tz')))).toEqual(new Set(['UTC']))
      const current = asked.find((u) => u.searchParams.get('to') === new Date().toISOString().slice(0, 10))!
      const api = await get<{ total: number }>(server.url, `/analytics/stats?${current.searchParams}`)
      expect(api.status).toBe(200)
      expect(api.body.total).toBeGreaterThan(0)
      expect(Number(await card.getAttribute('data-value'))).toBe(api.body.total)
      expect(await card.locator('.note').textContent()).toBe('days of UTC')
      // it cannot go on a chart of Tokyo's days, and says why
      expect(await card.isDisabled()).toBe(true)
      expect(await card.getAttribute('title')).toContain('days of UTC')
      expect(await page.getAttribute('[data-metric="visits"]', 'aria-pressed')).toBe('true')
      await page
        .getByRole('region', { name: 'Totals for the period' })
        .screenshot({ path: join(ARTIFACTS, 'dashboard-visitors-other-zone.png') })
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('comparison on adds the previous period to the numbers and the chart, and off takes it away', async () => {
    const { page, errors, context } = await open(browser, { dark: true })
    try {
      await page.goto(`${server.url}/dashboard?period=7d#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      expect(await page.locator('.metric .before').count()).toBe(0)
      expect(await page.locator('.legend').count()).toBe(0)

      await page.check('#compare')
      await page.waitForURL(/compare=1/)
      await page.waitForSelector('.legend')
      const range = (await page.getAttribute('[data-range]', 'data-range'))!.split('/')
      const previous = await get<{ from: string; to: string; total: number }>(
        server.url,
        `/analytics/stats?metric=visits&from=${addDays(range[0]!, -7)}&to=${addDays(range[0]!, -1)}`,
      )
      expect(await page.textContent('[data-metric="visits"] .before')).toBe(
        `vs ${previous.body.total.toLocaleString('en-US')}`,
      )
      // the chart walked by the keyboard reads both periods at each point
      await page.focus('.chart')
      await page.keyboard.press('Home')
      const first = await page.getAttribute('.chart', 'aria-valuetext')
      expect(first).toContain('(previous period)')
      expect(first).toContain(`${previous.body.from.slice(8).replace(/^0/, '')}, `)
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-compare-dark.png'), fullPage: true })

      await page.uncheck('#compare')
      await page.waitForURL(/\?period=7d$/)
      await page.waitForSelector('.legend', { state: 'detached' })
      expect(await page.locator('.metric .before').count()).toBe(0)
      await page.focus('.chart')
      await page.keyboard.press('Home')
      expect(await page.getAttribute('.chart', 'aria-valuetext')).not.toContain('previous period')
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a panel’s CSV is the rows it shows, as the API answers them', async () => {
    const { page, requests, errors, context } = await open(browser)
    try {
      await page.goto(`${server.url}/dashboard#token=${encodeURIComponent(ADMIN)}`)
      await ready(page)
      const panel = page.locator('[data-panel="pages"]')
      await panel.locator('[data-state="ok"] li').first().waitFor()
      const range = (await page.getAttribute('[data-range]', 'data-range'))!.split('/')
      const api = await get<{ items: { name: string; count: number }[] }>(
        server.url,
        `/analytics/top?dimension=page&from=${range[0]}&to=${range[1]}&limit=10`,
      )
      const shown = await panel
        .locator('li[data-name]')
        .evaluateAll((els) =>
          els.map((el) => ({ name: el.getAttribute('data-name'), count: Number(el.getAttribute('data-count')) })),
        )
      expect(shown).toEqual(api.body.items)

      const [download] = await Promise.all([page.waitForEvent('download'), panel.locator('button.csv').click()])
      const rows = parseCsv(await readFile((await download.path())!, 'utf8'))
      expect(rows.slice(1)).toEqual(api.body.items.map((i) => [i.name, String(i.count)]))
      // named as the API names the same read
      const named = await fetch(
        `${server.url}/analytics/top?dimension=page&from=${range[0]}&to=${range[1]}&format=csv`,
        {
          headers: { authorization: `Bearer ${ADMIN}` },
        },
      )
      expect(download.suggestedFilename()).toBe(`edge-analytics-top-page-${range[0]}-${range[1]}.csv`)
      expect(named.headers.get('content-disposition')).toBe(`attachment; filename="${download.suggestedFilename()}"`)
      expect(rows[0]!.length).toBe(2)
      const asked = requests.map((r) => new URL(r.url)).filter((u) => u.searchParams.get('format') === 'csv')
      expect(asked.map((u) => [u.pathname, u.searchParams.get('dimension'), u.searchParams.get('limit')])).toEqual([
        ['/analytics/top', 'page', '10'],
      ])

      // a tab of the same panel: entry pages, also the API's rows
      await panel.locator('[role="tab"]:has-text("Entry pages")').click()
      await panel.locator('[data-dimension="entry_page"][data-state="ok"]').waitFor()
      const entries = await get<{ items: { name: string; count: number }[] }>(
        server.url,
        `/analytics/top?dimension=entry_page&from=${range[0]}&to=${range[1]}&limit=10`,
      )
      expect(await panel.locator('li[data-name]').count()).toBe(entries.body.items.length)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('the live strip moves within a second or so of a beacon, without polling', async () => {
    const { page, requests, errors, context } = await open(browser)
    try {
      // a period without today: nothing on the page counts the beacons but the strip
      await page.goto(`${server.url}/dashboard?period=yesterday#token=${encodeURIComponent(ADMIN)}`)
      await page.waitForSelector('.live[data-state="live"] [data-live="page_view"]')
      const before = Number(await page.getAttribute('[data-live="page_view"]', 'data-value'))
      const asked = requests.length
      await sendBeacons(server.url, 'page_view', 3)
      await page.waitForSelector(`[data-live="page_view"][data-value="${before + 3}"]`, { timeout: 5000 })
      const feeds = requests.filter((r) => new URL(r.url).pathname === '/analytics/live')
      expect(feeds.length).toBe(1)
      // nothing was asked again to show it
      expect(requests.slice(asked).filter((r) => new URL(r.url).pathname.startsWith('/analytics/'))).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('375 px wide: panels stack and nothing scrolls sideways, light and dark', async () => {
    for (const dark of [false, true]) {
      const { page, errors, context } = await open(browser, { width: 375, dark })
      try {
        await page.goto(`${server.url}/dashboard?compare=1#token=${encodeURIComponent(ADMIN)}`)
        await ready(page)
        await page.locator('[data-panel="countries"] [data-state="ok"]').waitFor()
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        expect(overflow).toBeLessThanOrEqual(0)
        const lefts = await page.$$eval('.panels > .panel', (els) => els.map((el) => el.getBoundingClientRect().left))
        expect(new Set(lefts).size).toBe(1)
        await page.screenshot({
          path: join(ARTIFACTS, `dashboard-mobile-${dark ? 'dark' : 'light'}.png`),
          fullPage: true,
        })
        expect(errors).toEqual([])
      } finally {
        await context.close()
      }
    }
  })

  test('a failed read says what failed and retries; a refused token brings the sign-in back', async () => {
    const { page, requests, errors, context } = await open(browser)
    try {
      await page.route('**/analytics/top?dimension=country*', (route) =>
        route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"Postgres is unavailable"}' }),
      )
      await page.goto(`${server.url}/dashboard#token=${encodeURIComponent(ADMIN)}`)
      const failure = page.locator('[data-panel="countries"] [role="alert"]')
      await failure.waitFor()
      expect(await failure.textContent()).toContain('Postgres is unavailable')
      await page.unroute('**/analytics/top?dimension=country*')
      await failure.locator('button:has-text("Retry")').click()
      await page.locator('[data-panel="countries"] [data-state="ok"] li').first().waitFor()

      await page.evaluate((key) => sessionStorage.setItem(key, 'a-token-the-server-refuses'), TOKEN_KEY)
      const asked = requests.length
      await page.reload()
      await page.waitForSelector('#signin-error:has-text("refused")')
      expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBeNull()
      // a token that was kept and is now refused: one read finds out, as for a typed one
      const tried = requests.slice(asked).filter((r) => new URL(r.url).pathname.startsWith('/analytics/'))
      expect(tried.length).toBe(1)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe.skipIf(!available)('one set of names', () => {
  test('the dashboard’s numbers, its live strip and the live screen call every event type alike', async () => {
    const [server, browser] = await Promise.all([startServerProcess(), launchChromium()])
    try {
      // one event of every type today, so every type has a number, a figure in the strip and a card
      const sent = await fetch(`${server.url}/analytics/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer test-ingest-token-0123456789' },
        body: JSON.stringify(EVENT_TYPES.map((event_type) => ({ event_type, user_id: 'u1' }))),
      })
      expect(sent.status).toBe(202)
      const { page, errors, context } = await open(browser)
      try {
        await page.goto(`${server.url}/dashboard?period=today#token=${encodeURIComponent(ADMIN)}`)
        await ready(page)
        await page.waitForSelector('.live[data-state="live"] [data-live="asset_shared"]')
        const numbers = await page.$$eval('[data-metric] .label', (els) =>
          Object.fromEntries(
            els.map((el) => [el.closest('[data-metric]')!.getAttribute('data-metric'), el.textContent]),
          ),
        )
        const strip = await page.$$eval('[data-live]', (els) =>
          Object.fromEntries(els.map((el) => [el.getAttribute('data-live'), el.textContent])),
        )
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-every-type.png'), fullPage: true })
        await page.goto(`${server.url}/live`)
        await page.waitForSelector('body[data-state="live"]')
        const cards = await page.$$eval('section.card', (els) =>
          els.map((el) => [el.getAttribute('data-type'), el.querySelector('.name')!.textContent]),
        )
        await page.screenshot({ path: join(ARTIFACTS, 'live-every-type.png'), fullPage: true })
        // the live screen's cards in the order of the dashboard's numbers
        expect(cards.map(([type]) => type)).toEqual(Object.keys(EVENT_LABELS))
        for (const type of EVENT_TYPES) {
          const label = EVENT_LABELS[type].plural
          expect({ type, dashboard: numbers[type], live: Object.fromEntries(cards)[type] }).toEqual({
            type,
            dashboard: label,
            live: label,
          })
          expect(strip[type]).toBe(`1 ${countLabel(type, 1)}`)
        }
        expect(errors).toEqual([])
      } finally {
        await context.close()
      }
    } finally {
      await browser.close()
      await server.stop('SIGKILL')
    }
  })
})

/** A server of its own with TIME_ZONE set, a browser and a page on it, all closed after `use`. */
async function inZone(zone: string, use: (server: ServerProcess, opened: Opened) => Promise<void>): Promise<void> {
  const [server, browser] = await Promise.all([startServerProcess({ TIME_ZONE: zone }), launchChromium()])
  try {
    const opened = await open(browser)
    try {
      await use(server, opened)
      expect(opened.errors).toEqual([])
    } finally {
      await opened.context.close()
    }
  } finally {
    await browser.close()
    await server.stop('SIGKILL')
  }
}

describe.skipIf(!available)('a TIME_ZONE the browser spells otherwise', () => {
  test('Asia/Kolkata, which Chromium calls Asia/Calcutta: the reads name the server’s zone, so unique visitors show', async () => {
    await inZone('Asia/Kolkata', async (server, { page, requests }) => {
      await sendBeacons(server.url, 'page_view', 2)
      // the browser's own name for the zone in the address is the deployment's zone too
      for (const query of ['', '?period=30d&tz=Asia%2FCalcutta']) {
        await page.goto(`${server.url}/dashboard${query}#token=${encodeURIComponent(ADMIN)}`)
        await ready(page)
        expect((await shownNumbers(page)).visitors).toBe(1)
        expect(await page.textContent('#chart-title')).toContain('Asia/Kolkata')
      }
      const zones = requests
        .filter((r) => r.url.includes('/analytics/stats?'))
        .map((r) => new URL(r.url).searchParams.get('tz'))
      expect(new Set(zones)).toEqual(new Set(['Asia/Kolkata']))
      // the zone is offered once, by the server's name, even in the whole list
      await page.focus('#tz')
      await page.waitForFunction(() => document.querySelectorAll('#tz option').length > 100)
      const options = await page.$$eval('#tz option', (els) => els.map((e) => (e as HTMLOptionElement).value))
      expect(options[0]).toBe('Asia/Kolkata')
      expect(options).not.toContain('Asia/Calcutta')
    })
  })
})

describe.skipIf(!available)('the live strip in a TIME_ZONE whose day is not the UTC day', () => {
  test('its "today" is the day of TIME_ZONE, as the reads count it, not the UTC day of the live hours', async () => {
    // An event of the UTC day before today that is in the zone's today: a quarter of an hour
    // before UTC midnight, in a zone whose day began before it. No zone has one from 23:00 UTC on
    // (its day would begin less than an hour before UTC midnight): then an event of the UTC day
    // that is in the zone's day before, a quarter of an hour before the zone's midnight, in a zone
    // west of UTC whose today began since UTC midnight. Whatever the hour, one of the two is found.
    const now = Date.now()
    const midnight = Math.floor(now / 86_400_000) * 86_400_000
    const zones = [
      'Pacific/Kiritimati',
      'Asia/Kolkata',
      'Europe/Berlin',
      'America/Los_Angeles',
      'Pacific/Pago_Pago',
    ].map((z) => ({ z, calendar: createCalendar(z) }))
    const before = midnight - 15 * 60_000
    const east = zones.find(({ calendar }) => calendar.day(before) === calendar.day(now + 60_000))
    const west = zones
      .map(({ z, calendar }) => ({
        z,
        calendar,
        at: bucketsOf('day', calendar.day(now), calendar.day(now), z).bounds[0]! - 15 * 60_000,
      }))
      .find(({ at }) => at >= midnight && at < now - 60_000)
    const zone = east ?? west
    expect(zone).toBeDefined()
    const event = east ? before : west!.at
    // the zone's today and the UTC day count the event and the beacon, or only one of them counts the event
    const [zonedCount, utcCount] = east ? [2, 1] : [1, 2]
    const today = zone!.calendar.day(now)
    await inZone(zone!.z, async (server, { page }) => {
      const sent = await fetch(`${server.url}/analytics/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer test-ingest-token-0123456789' },
        body: JSON.stringify([{ event_type: 'page_view', properties: { path: '/' }, timestamp: event }]),
      })
      expect(sent.status).toBe(202)
      await sendBeacons(server.url, 'page_view', 1)
      // the reads: the zone's today and the UTC day
      const zoned = await get<{ total: number }>(
        server.url,
        `/analytics/stats?event_type=page_view&from=${today}&to=${today}`,
      )
      expect(zoned.body.total).toBe(zonedCount)
      const utcToday = new Date(now).toISOString().slice(0, 10)
      const utc = await get<{ total: number }>(
        server.url,
        `/analytics/stats?event_type=page_view&from=${utcToday}&to=${utcToday}&tz=UTC`,
      )
      expect(utc.body.total).toBe(utcCount)

      // the strip counts the zone's today, as the reads do
      await page.goto(`${server.url}/dashboard#token=${encodeURIComponent(ADMIN)}`)
      await page.waitForSelector(`.live[data-state="live"] [data-live="page_view"][data-value="${zonedCount}"]`)
      await sendBeacons(server.url, 'page_view', 1)
      await page.waitForSelector(`[data-live="page_view"][data-value="${zonedCount + 1}"]`, { timeout: 5000 })
    })
  })
})

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
}
