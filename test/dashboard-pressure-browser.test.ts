/**
 * The dashboard under pressure, in Chromium against a real server process: a Postgres that stops
 * answering (a proxy in front of it, cut and reopened) gets a notice naming it, the numbers shown
 * are kept, the page tries again by itself without piling up requests, and comes back current;
 * a Redis past 90% of its maxmemory gets a notice that says what happens when it is full.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { createClient } from 'redis'
import { REREAD_GAP_MS } from '../src/dashboard/readiness.ts'
import { chromiumPath, launchChromium, NO_CHROMIUM } from './browser.ts'
import { ADMIN, sendBeacons } from './live-feed.ts'
import { startRedisServer } from './redis-server.ts'
import { type ServerProcess, startServerProcess } from './server-process.ts'
import { freshDatabaseUrl, redisUrl } from './services.ts'
import { proxyFor, type TcpProxy } from './tcp-proxy.ts'
import { waitFor } from './wait.ts'

setDefaultTimeout(120_000)

const ARTIFACTS = join(import.meta.dir, 'artifacts')
const available = chromiumPath() !== undefined
if (!available) console.warn(NO_CHROMIUM)

/** A read of the page (the live feed, a stream, left out). */
const isRead = (url: string) => {
  const path = new URL(url).pathname
  return path.startsWith('/analytics/') && path !== '/analytics/live'
}

const pageViews = (page: Page) => page.getAttribute('[data-metric="page_view"]', 'data-value')

describe.skipIf(!available)('a Postgres that stops answering', () => {
  let server: ServerProcess
  let browser: Browser
  let proxy: TcpProxy
  beforeAll(async () => {
    const through = proxyFor(await freshDatabaseUrl(), 5432)
    proxy = through.proxy
    ;[server, browser] = await Promise.all([
      startServerProcess({ DATABASE_URL: through.url }),
      launchChromium(),
      mkdir(ARTIFACTS, { recursive: true }),
    ])
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop('SIGKILL')
    proxy?.close()
  }, 60_000)

  test('the page says so and keeps its numbers, tries again without piling up requests, and comes back by itself', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    const reads: { url: string; at: number }[] = []
    const errors: string[] = []
    context.on('request', (r) => {
      if (isRead(r.url())) reads.push({ url: r.url(), at: Date.now() })
    })
    page.on('pageerror', (e) => errors.push(e.message))
    try {
      let sent = await sendBeacons(server.url, 'page_view', 3).then(() => 3)
      await page.goto(`${server.url}/dashboard?period=today#token=${encodeURIComponent(ADMIN)}`)
      await page.waitForSelector('main[data-state="ready"]')
      await page.waitForSelector('.live[data-state="live"] [data-live="page_view"][data-value="3"]')
      expect(await pageViews(page)).toBe('3')

      // Postgres stops answering; a beacon (counted in Redis) moves the live feed, whose change
      // reads the view again: the reads answer 503 naming Postgres
      proxy.close()
      await sendBeacons(server.url, 'page_view', 1)
      sent++
      const notice = page.locator('[data-notice="outage"][data-service="postgres"]')
      await notice.waitFor()
      const noticed = Date.now()
      expect(await notice.textContent()).toContain('History is unavailable: Postgres does not answer')
      expect(await notice.textContent()).toContain('Numbers already on the page are kept')
      expect(await notice.textContent()).toContain('Retrying')
      // what was shown is kept, nothing is shown as broken, and the strip stays live (Redis)
      expect(await pageViews(page)).toBe('3')
      expect(await page.locator('[role="alert"]').count()).toBe(0)
      await page.waitForSelector(`.live[data-state="live"] [data-live="page_view"][data-value="${sent}"]`)
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-postgres-down.png'), fullPage: true })

      // the live feed keeps reporting changes while it is down; the page reads again only by its
      // own tries, the first no sooner than Retry-After (5 s)
      const before = reads.length
      const tried = page.waitForResponse((r) => isRead(r.url()) && r.status() === 503, { timeout: 20_000 })
      let triedAt = 0
      void tried.then(() => {
        triedAt = Date.now()
      })
      await waitFor(
        async () => {
          if (triedAt) return true
          await sendBeacons(server.url, 'page_view', 1)
          sent++
          return false
        },
        { what: 'the page to try a read again', timeoutMs: 20_000, intervalMs: 1000 },
      )
      await tried
      expect(triedAt - noticed).toBeGreaterThanOrEqual(4_500)
      // one read, the try: not a round of reads per change of the feed
      expect(reads.length - before).toBe(1)
      expect(await notice.count()).toBe(1)

      // a page opened while it is down says so too, and shows no failure
      await page.reload()
      await notice.waitFor()
      expect(await notice.textContent()).toContain('History is unavailable: Postgres does not answer')
      await page.waitForSelector('main[data-state="ready"]')
      expect(await page.locator('[role="alert"]').count()).toBe(0)
      expect(await page.locator('[data-waiting="postgres"]').count()).toBeGreaterThan(0)
      // the breakdowns' reads of the log go out once the numbers are in: their notices come after
      await page
        .locator('[data-waiting="postgres"] strong', { hasText: /^Sources/ })
        .first()
        .waitFor()
      // each part named once: a panel whose tab has its own title is 'Sources', not 'Sources: Sources'
      const waiting = await page.locator('[data-waiting="postgres"] strong').allTextContents()
      expect(waiting).toContain('Sources')
      for (const what of waiting) expect(what).not.toMatch(/^(.+): \1$/)
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-postgres-down-first.png'), fullPage: true })

      // Postgres answers again: the notice goes by itself and the numbers are current
      proxy.reopen()
      await notice.waitFor({ state: 'detached', timeout: 20_000 })
      await page.waitForSelector(`[data-metric="page_view"][data-value="${sent}"]`)
      const api = await fetch(`${server.url}/analytics/stats?event_type=page_view`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      expect((await api.json()).total).toBe(sent)
      // every part read again, the breakdowns too
      await page.waitForFunction(() => document.querySelector('[data-waiting]') === null)
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-postgres-back.png'), fullPage: true })
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })
})

describe.skipIf(!available)('a Redis that stops answering', () => {
  test('the page names it, the live strip says its numbers are paused, and both come back by themselves', async () => {
    const { proxy, url } = proxyFor(await redisUrl(), 6379)
    const [server, browser] = await Promise.all([startServerProcess({ REDIS_URL: url }), launchChromium()])
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    try {
      await sendBeacons(server.url, 'page_view', 2)
      await page.goto(`${server.url}/dashboard?period=today#token=${encodeURIComponent(ADMIN)}`)
      await page.waitForSelector('main[data-state="ready"]')
      await page.waitForSelector('.live[data-state="live"] [data-live="page_view"][data-value="2"]')

      // Redis stops answering; the next view's reads answer 503 naming it
      proxy.close()
      await page.selectOption('#period', '7d')
      const notice = page.locator('[data-notice="outage"][data-service="redis"]')
      await notice.waitFor()
      expect(await notice.textContent()).toContain('Live counts are unavailable: Redis does not answer')
      expect(await page.locator('[role="alert"]').count()).toBe(0)
      await page.waitForSelector('.live[data-state="paused"]:has-text("Paused: Redis does not answer")')
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-redis-down.png') })

      // back: the notice goes, the strip is live, the numbers are read
      proxy.reopen()
      await notice.waitFor({ state: 'detached', timeout: 30_000 })
      await page.waitForSelector('.live[data-state="live"]')
      await page.waitForSelector('[data-metric="page_view"][data-value="2"]')
      expect(errors).toEqual([])
    } finally {
      await context.close()
      await browser.close()
      await server.stop('SIGKILL')
      proxy.close()
    }
  })
})

describe.skipIf(!available)('a Redis past 90% of its maxmemory', () => {
  test('the dashboard says how full, what happens when it is full and what to do, re-reading /readyz as the feed moves', async () => {
    const redis = await startRedisServer(['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction'])
    const client = await createClient({ url: redis.url }).connect()
    const [server, browser] = await Promise.all([
      startServerProcess({ REDIS_URL: redis.url }),
      launchChromium(),
      mkdir(ARTIFACTS, { recursive: true }),
    ])
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    const readyz: number[] = []
    const errors: string[] = []
    context.on('request', (r) => {
      if (new URL(r.url()).pathname === '/readyz') readyz.push(Date.now())
    })
    page.on('pageerror', (e) => errors.push(e.message))
    const notice = page.locator('[data-notice="redis-memory"]')
    try {
      await sendBeacons(server.url, 'page_view', 1)
      const first = page.waitForResponse((r) => new URL(r.url()).pathname === '/readyz')
      await page.goto(`${server.url}/dashboard?period=today#token=${encodeURIComponent(ADMIN)}`)
      expect((await (await first).json()).redis_config.memory_ratio).toBeLessThan(0.9)
      await page.waitForSelector('main[data-state="ready"]')
      await page.waitForSelector('.live[data-state="live"] [data-live="page_view"][data-value="1"]')
      expect(await notice.count()).toBe(0)

      // a key of the test's own (none of the service's) fills Redis past 93% of its maxmemory
      const memory = async () => {
        const info = await client.info('memory')
        const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)![1])
        return { used: field('used_memory'), max: field('maxmemory') }
      }
      // in small keys: a command's own bytes count as used while Redis reads it, and a string
      // grown by APPEND takes room ahead
      const piece = 'x'.repeat(30_000)
      let pieces = 0
      for (let m = await memory(); m.used < m.max * 0.93; m = await memory())
        await client.set(`dashboard-test:filler:${pieces++}`, piece)
      const filled = await memory()
      expect(filled.used / filled.max).toBeGreaterThan(0.9)
      expect(filled.used / filled.max).toBeLessThan(1)

      // the live feed moves (a beacon a second): /readyz is read again, but not once per change
      const since = Date.now()
      let beacons = 1
      await waitFor(
        async () => {
          if ((await notice.count()) > 0) return true
          await sendBeacons(server.url, 'page_view', 1)
          beacons++
          return false
        },
        { what: 'the memory notice', timeoutMs: REREAD_GAP_MS + 15_000, intervalMs: 1000 },
      )
      expect(beacons).toBeGreaterThan(5)
      expect(readyz.length).toBe(2)
      // timed here, when each request is seen, not when the page sent it: a few ms either way
      expect(readyz[1]! - readyz[0]!).toBeGreaterThanOrEqual(REREAD_GAP_MS - 250)
      expect(readyz[1]!).toBeGreaterThan(since)
      const text = (await notice.textContent()) ?? ''
      expect(text).toMatch(/Redis is 9\d% full/)
      expect(text).toContain('of its 4 MB maxmemory')
      expect(text).toContain('answered 503')
      expect(text).toContain('nothing already acknowledged is lost')
      expect(text).toContain('The next flush writes the counts to Postgres and frees the memory')
      expect(text).toContain('raise Redis')
      expect(text).toContain('FLUSH_INTERVAL_MS')
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-redis-memory.png') })

      // room again: a page loaded now has no notice
      await client.del(Array.from({ length: pieces }, (_, i) => `dashboard-test:filler:${i}`))
      const again = page.waitForResponse((r) => new URL(r.url()).pathname === '/readyz')
      await page.reload()
      expect((await (await again).json()).redis_config.memory_ratio).toBeLessThan(0.9)
      await page.waitForSelector('main[data-state="ready"]')
      expect(await notice.count()).toBe(0)
      expect(errors).toEqual([])
    } finally {
      await context.close()
      await browser.close()
      await server.stop('SIGKILL')
      await client.quit()
      await redis.stop()
    }
  })
})
