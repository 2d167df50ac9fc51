import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { createCalendar } from '../src/counters/calendar.ts'
import { chromiumPath, launchChromium, NO_CHROMIUM } from './browser.ts'
import { ADMIN, sendBeacons } from './live-feed.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { tcpProxy } from './tcp-proxy.ts'
import { waitFor } from './wait.ts'

const ARTIFACTS = join(import.meta.dir, 'artifacts')
const available = chromiumPath() !== undefined
if (!available) console.warn(NO_CHROMIUM)

/** The number a card shows in a field ('hour' or 'total'). */
const shown = (page: Page, type: string, field: 'hour' | 'total') =>
  page
    .locator(`[data-type="${type}"] [data-field="${field}"]`)
    .textContent()
    .then((t) => Number(t?.replace(/,/g, '')))

/** Waits until a card shows a number that passes `test` ('eq': exactly `want`; 'gte': at least). */
const until = (page: Page, type: string, want: number, op: 'eq' | 'gte' = 'eq', timeout = 5000) =>
  page.waitForFunction(
    ([type, want, op]) => {
      const text = document.querySelector(`[data-type="${type}"] [data-field="total"]`)?.textContent
      const n = Number(text?.replace(/,/g, ''))
      return op === 'eq' ? n === want : n >= Number(want)
    },
    [type, want, op] as const,
    { timeout },
  )

describe('live screen in a real browser', () => {
  test.skipIf(!available)(
    'shows the numbers, changes them on screen after beacons, and recovers from a dropped stream',
    async () => {
      const server = await startServerProcess()
      const port = Number(new URL(server.url).port)
      // the browser goes through a proxy the test can cut, to see the page lose and regain the feed
      const proxy = tcpProxy({ host: '127.0.0.1', port })
      const browser = await launchChromium()
      try {
        await sendBeacons(server.url, 'page_view', 2)
        const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } })
        const errors: string[] = []
        page.on('pageerror', (e) => errors.push(e.message))
        // failed loads are expected here (the refused token, the cut stream); script errors are not
        page.on('console', (m) => {
          if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text())
        })
        const notFound: string[] = []
        page.on('response', (r) => {
          if (r.status() === 404) notFound.push(r.url())
        })
        await page.goto(`http://127.0.0.1:${proxy.port}/live`)

        // a wrong token is refused and asked for again
        await page.fill('#token', 'not-the-admin-token')
        await page.click('#login button[type=submit]')
        await page.waitForSelector('#login-error:has-text("refused")')
        expect(await page.evaluate(() => sessionStorage.getItem('edge-analytics.live-token'))).toBeNull()

        await page.fill('#token', ADMIN)
        await page.click('#login button[type=submit]')
        await page.waitForSelector('body[data-state="live"]')
        expect(await page.evaluate(() => sessionStorage.getItem('edge-analytics.live-token'))).toBe(ADMIN)
        await until(page, 'page_view', 2, 'gte')
        // a count of one reads '1 visitor today', any other 'visitors'
        for (const id of ['visitors', 'visitors-now']) {
          const count = Number(await page.textContent(`#${id}`))
          const label = await page.textContent(`#${id}-label`)
          expect(label?.startsWith(count === 1 ? 'visitor ' : 'visitors ')).toBe(true)
        }
        const total = await shown(page, 'page_view', 'total')
        const hour = await shown(page, 'page_view', 'hour')
        expect(await page.locator('section.card').count()).toBe(11)
        expect(await page.locator('[data-type="page_view"] .chart .h').count()).toBe(24)

        await sendBeacons(server.url, 'page_view', 5)
        await sendBeacons(server.url, 'feature_used', 3)
        await until(page, 'page_view', total + 5)
        expect(await shown(page, 'page_view', 'hour')).toBe(hour + 5)
        await until(page, 'feature_used', 3, 'gte')
        await mkdir(ARTIFACTS, { recursive: true })
        await page.screenshot({ path: join(ARTIFACTS, 'live-screen.png'), fullPage: true })

        // the stream drops: a visible "reconnecting" state, then back to live by itself
        proxy.close()
        await page.waitForSelector('body[data-state="reconnecting"]', { timeout: 5000 })
        expect(await page.locator('#banner').isVisible()).toBe(true)
        await page.screenshot({ path: join(ARTIFACTS, 'live-screen-reconnecting.png') })
        await sendBeacons(server.url, 'page_view', 1)
        proxy.reopen()
        await page.waitForSelector('body[data-state="live"]', { timeout: 15_000 })
        expect(await page.locator('#banner').isVisible()).toBe(false)
        // the fresh snapshot after the reconnect carries what happened while it was away
        await until(page, 'page_view', total + 6)

        // the token survives a reload of the tab, so a wall screen is not asked again
        await page.reload()
        await page.waitForSelector('body[data-state="live"]')
        expect(await shown(page, 'page_view', 'total')).toBe(total + 6)
        expect(errors).toEqual([])
        expect(notFound).toEqual([])
      } finally {
        await browser.close()
        proxy.close()
        await server.stop('SIGKILL')
      }
    },
    60_000,
  )
})

describe.skipIf(!available)('live screen: what it cannot use', () => {
  let server: ServerProcess
  let browser: Browser

  beforeAll(async () => {
    server = await startServerProcess()
    browser = await launchChromium()
    await mkdir(ARTIFACTS, { recursive: true })
  }, 30_000)
  afterAll(async () => {
    await browser?.close()
    await server?.stop('SIGKILL')
  }, 30_000)

  /** A fresh tab (its own sessionStorage) with its script errors and its requests to the feed. */
  async function open() {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(10_000)
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    const feed: string[] = []
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/analytics/live') feed.push(r.url())
    })
    return { page, errors, feed }
  }

  /**
   * Resolves once every request the page sent before now has been seen: a request the page makes
   * after them is reported after them.
   */
  async function settled(page: Page) {
    const marker = page.waitForRequest((r) => r.url().endsWith('/healthz?marker'))
    await page.evaluate(() => fetch('/healthz?marker'))
    await marker
  }

  const signedOutWith = async (page: Page, message: string) => {
    await page.waitForSelector('#login:not([hidden])')
    expect(await page.locator('body').getAttribute('data-state')).toBe('signed-out')
    expect(await page.locator('#login-error').textContent()).toContain(message)
  }

  test('a link whose token cannot be read shows the sign-in form, leaves the address bar, and signs in', async () => {
    // a broken escape, nothing at all, only blanks, a bare name, and one no HTTP header can carry
    for (const fragment of ['token=%E0%A4%A', 'token=', 'token=%20%20', 'token', 'token=%E0%A4%A4']) {
      const { page, errors, feed } = await open()
      try {
        await page.goto(`${server.url}/live?types=page_view#${fragment}`)
        await signedOutWith(page, 'token in the link could not be read')
        expect(page.url()).toBe(`${server.url}/live?types=page_view`)
        expect(await page.evaluate(() => sessionStorage.getItem('edge-analytics.live-token'))).toBeNull()
        if (fragment === 'token=%E0%A4%A') await page.screenshot({ path: join(ARTIFACTS, 'live-bad-link.png') })
        expect(feed).toEqual([])

        await page.fill('#token', ADMIN)
        await page.click('#login button[type=submit]')
        await page.waitForSelector('body[data-state="live"]')
        expect(await page.locator('section.card').count()).toBe(1)
        expect(await page.locator('#login-error').textContent()).toBe('')
        expect(errors).toEqual([])
      } finally {
        await page.close()
      }
    }
  }, 30_000)

  test('a typed token no HTTP header can carry is refused on the spot', async () => {
    const { page, errors, feed } = await open()
    try {
      await page.goto(`${server.url}/live`)
      await page.fill('#token', 'token-\u0924-0123456789')
      await page.click('#login button[type=submit]')
      await signedOutWith(page, 'cannot be sent')
      await settled(page)
      expect(feed).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  }, 30_000)

  test('/live/ redirects to /live, query kept, so the page finds its files', async () => {
    const { page, errors } = await open()
    const notFound: string[] = []
    page.on('response', (r) => {
      if (r.status() === 404) notFound.push(r.url())
    })
    try {
      const res = await page.goto(`${server.url}/live/?types=page_view,user_signup#token=${ADMIN}`)
      expect(res?.request().redirectedFrom()?.url()).toBe(`${server.url}/live/?types=page_view,user_signup`)
      expect((await res?.request().redirectedFrom()?.response())?.status()).toBe(308)
      await page.waitForSelector('body[data-state="live"]')
      expect(page.url()).toBe(`${server.url}/live?types=page_view,user_signup`)
      expect(await page.locator('section.card').count()).toBe(2)
      // live.css applied: the status pill has the live colour
      expect(await page.locator('#status').evaluate((e) => getComputedStyle(e).backgroundColor)).toBe(
        'rgb(61, 220, 132)',
      )
      await page.screenshot({ path: join(ARTIFACTS, 'live-trailing-slash.png') })
      expect(notFound).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  }, 30_000)

  test('a request the feed refuses (400) shows the reason and is not retried', async () => {
    const { page, errors, feed } = await open()
    try {
      // the page's timers run on a clock the test moves, so minutes of retries take no time
      await page.clock.install()
      await page.goto(`${server.url}/live?types=bogus#token=${ADMIN}`)
      await page.waitForSelector('#failure:not([hidden])')
      expect(await page.locator('#failure').textContent()).toContain('unknown event type in types: bogus')
      expect(await page.locator('body').getAttribute('data-state')).toBe('stopped')
      expect(await page.locator('#banner').isVisible()).toBe(false)
      expect(await page.locator('#login').isVisible()).toBe(false)
      await page.screenshot({ path: join(ARTIFACTS, 'live-refused.png') })
      expect(feed).toHaveLength(1)

      await page.clock.runFor(10 * 60_000)
      await settled(page)
      expect(feed).toHaveLength(1)
      expect(await page.locator('#failure').isVisible()).toBe(true)
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  }, 30_000)

  test('a 5xx, 429 or 408 is retried behind the reconnecting banner until the feed answers', async () => {
    const { page, errors, feed } = await open()
    const refusals = [503, 429, 408, 500]
    await page.route('**/analytics/live*', (route) => {
      const status = refusals.shift()
      if (status === undefined) return route.continue()
      return route.fulfill({ status, headers: { 'retry-after': '5' }, json: { error: 'not now' } })
    })
    try {
      await page.clock.install()
      await page.goto(`${server.url}/live#token=${ADMIN}`)
      await page.waitForSelector('body[data-state="reconnecting"]')
      expect(await page.locator('#banner').isVisible()).toBe(true)
      // moves the page's clock on (Retry-After: 5) until the four refusals are used up
      await waitFor(
        async () => {
          if ((await page.locator('body').getAttribute('data-state')) === 'live') return true
          await page.clock.runFor(5_000)
          return false
        },
        { what: 'the page to go live after four refusals', timeoutMs: 10_000, intervalMs: 25 },
      )
      expect(feed).toHaveLength(5)
      expect(await page.locator('#failure').isVisible()).toBe(false)
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  }, 30_000)
})

describe.skipIf(!available)('live screen in a TIME_ZONE far from UTC', () => {
  test('its day, its hour and its bars are those of TIME_ZONE, as the dashboard counts them', async () => {
    // +5:30: no UTC hour is a local hour, so only the zone's own hours can be right
    const zone = 'Asia/Kolkata'
    const calendar = createCalendar(zone)
    const server = await startServerProcess({ TIME_ZONE: zone })
    const browser = await launchChromium()
    try {
      const now = Date.now()
      // an event of an earlier local hour of the same local day, when there is one
      const earlier = now - 3_600_000
      const backdated = calendar.day(earlier) === calendar.day(now)
      if (backdated) {
        const sent = await fetch(`${server.url}/analytics/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer test-ingest-token-0123456789' },
          body: JSON.stringify([{ event_type: 'page_view', properties: { path: '/' }, timestamp: earlier }]),
        })
        expect(sent.status).toBe(202)
      }
      await sendBeacons(server.url, 'page_view', 2)
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(`${server.url}/live?types=page_view#token=${ADMIN}`)
      await page.waitForSelector('body[data-state="live"]')
      const total = 2 + (backdated ? 1 : 0)
      await until(page, 'page_view', total)
      // the hour may turn while the test runs: the day and hour shown are those of one of these
      const hours = [now, Date.now()].map((t) => ({ day: calendar.day(t), hour: Number(calendar.hour(t)) }))
      const day = await page.textContent('#day')
      const range = await page.textContent('#hour-range')
      const shownNow = hours.find((h) => h.day === day && range?.startsWith(`${String(h.hour).padStart(2, '0')}:00`))
      expect({ day, range, shown: shownNow !== undefined }).toMatchObject({ shown: true })
      expect(range).toContain(zone)
      expect(await page.textContent('#updated')).toContain(zone)
      const hour = shownNow!.hour
      const bars = page.locator('[data-type="page_view"] .chart .h')
      expect(await bars.nth(hour).getAttribute('class')).toContain('now')
      if (hours[0]!.hour === hours[1]!.hour) {
        expect(await bars.nth(hour).getAttribute('title')).toBe(`${String(hour).padStart(2, '0')}:00 2`)
        expect(await shown(page, 'page_view', 'hour')).toBe(2)
        if (backdated) {
          const before = Number(calendar.hour(earlier))
          expect(await bars.nth(before).getAttribute('title')).toBe(`${String(before).padStart(2, '0')}:00 1`)
        }
      }
      await mkdir(ARTIFACTS, { recursive: true })
      await page.screenshot({ path: join(ARTIFACTS, 'live-screen-time-zone.png') })

      // and it moves with the feed, in the zone's hour
      await sendBeacons(server.url, 'page_view', 1)
      await until(page, 'page_view', total + 1)
      const current = Number(calendar.hour(Date.now()))
      expect(await bars.nth(current).getAttribute('class')).toContain('now')
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      await server.stop('SIGKILL')
    }
  }, 60_000)
})
