/**
 * The funnels panel in real Chromium against the app on a stopped clock: visits sent as beacons
 * at chosen instants, so every figure is worked out by hand here. A funnel saved through the
 * form (its steps chosen from the goals) shows its visitors per step, the drop-off and the
 * overall conversion; under a filter of the address, only the filtered visitors' events count;
 * its CSV is the API's; deleted, it goes. The viewer token sees it and no form.
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
const GOOGLE = 'https://www.google.com/'
const BING = 'https://www.bing.com/'
const NOW = Date.parse('2026-12-06T18:00:00Z')
const H = 3_600_000

/** A visitor: address, referrer of the first page, and pages (path, hours after Dec 3 10:00 UTC). */
type Visitor = [ip: string, referrer: string | undefined, pages: [path: string, hours: number][]]

// Pricing then sign-up within 24 hours: 1 and 3 (and 1 is from Google); 2 stops at pricing;
// 4 signs up without pricing; 5 signs up two days after pricing, past the window.
// Step 1: 4 visitors (1, 2, 3, 5); step 2: 2 (1, 3): half dropped off. From Google: 1 and 2.
const VISITORS: Visitor[] = [
  [
    '198.51.100.1',
    GOOGLE,
    [
      ['/pricing', 0],
      ['/signup', 0.02],
    ],
  ],
  ['198.51.100.2', GOOGLE, [['/pricing', 1]]],
  [
    '198.51.100.3',
    BING,
    [
      ['/pricing', 2],
      ['/docs', 2.1],
      ['/signup', 5],
    ],
  ],
  [
    '198.51.100.4',
    undefined,
    [
      ['/docs', 3],
      ['/signup', 3.2],
    ],
  ],
  [
    '198.51.100.5',
    BING,
    [
      ['/pricing', 4],
      ['/signup', 52],
    ],
  ],
]

const ready = (page: Page) => page.waitForSelector('main[data-state="ready"]')

/** The funnel's steps once read: [visitors, drop-off rate] each. */
const steps = (page: Page) =>
  page
    .locator('[data-panel="funnels"] [data-state="ok"] li[data-step]')
    .evaluateAll((els) => els.map((el) => [el.getAttribute('data-visitors'), el.getAttribute('data-dropoff_rate')]))

describe.skipIf(!available)('funnels on the dashboard', () => {
  let browser: Browser
  let base: string
  let stop: () => Promise<void>
  let pricing: string
  let signup: string
  beforeAll(async () => {
    let now = NOW
    const { app, deps } = await testApp({ trustProxy: { hops: 1 }, viewerToken: VIEWER }, { now: () => now })
    const start = Date.parse('2026-12-03T10:00:00Z')
    for (const [v, [ip, referrer, pages]] of VISITORS.entries()) {
      // the first two visitors stored, the others pending: the panel reads both
      if (v === 2) await deps.flusher.flush()
      for (const [p, [path, hours]] of pages.entries()) {
        now = start + hours * H
        const properties = p === 0 && referrer ? { path, referrer } : { path }
        const res = await app.handle(
          beaconRequest([{ event_type: 'page_view', properties }], { ip, headers: { 'user-agent': BROWSER_UA } }),
        )
        expect(res.status).toBe(202)
      }
    }
    now = NOW
    const goal = async (body: unknown) => {
      const res = await app.handle(
        new Request('http://localhost/analytics/goals', {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      )
      expect(res.status).toBe(201)
      return ((await res.json()) as { id: string }).id
    }
    pricing = await goal({ name: 'Pricing', page: '/pricing' })
    signup = await goal({ name: 'Signed up', page: '/signup' })
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

  test('a funnel saved through the form: visitors per step, drop-off, conversion, filtered, CSV, deleted', async () => {
    const { context, page, errors } = await open(ADMIN)
    try {
      const panel = page.locator('[data-panel="funnels"]')
      await panel.locator('[data-note="no-funnel"]').waitFor()
      await panel.locator('input[name="funnel-name"]').fill('Sign-up')
      await panel.locator('select[name="funnel-step-0"]').selectOption(pricing)
      await panel.locator('select[name="funnel-step-1"]').selectOption(signup)
      await panel.locator('button[type="submit"]').click()
      await panel.locator('[data-state="ok"] li[data-step="2"]').waitFor()
      expect(await steps(page)).toEqual([
        ['4', 'null'],
        ['2', '50'],
      ])
      expect(await panel.locator('.funnel-total').getAttribute('data-conversion_rate')).toBe('50')
      expect(await panel.locator('.funnel-total').textContent()).toContain('50%')
      expect(await panel.locator('li[data-step="2"] .drop').textContent()).toBe('−50%')
      // the picture of the README: the funnel saved, the form ready for the next
      await panel.scrollIntoViewIfNeeded()
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-funnels.png'), fullPage: true })
      // the form is ready for the next: its first choices again, not every select's first option
      expect(await panel.locator('select[name="funnel-window"]').inputValue()).toBe('24h')
      expect(await panel.locator('select[name="funnel-step-0"]').inputValue()).not.toBe(
        await panel.locator('select[name="funnel-step-1"]').inputValue(),
      )

      // the same name again: the server's reason beside the form
      await panel.locator('input[name="funnel-name"]').fill('Sign-up')
      await panel.locator('select[name="funnel-step-0"]').selectOption(signup)
      await panel.locator('select[name="funnel-step-1"]').selectOption(pricing)
      await panel.locator('button[type="submit"]').click()
      expect(await panel.locator('[data-problem="funnel"]').textContent()).toMatch(/^Not saved: .*Sign-up/)

      // the CSV is the API's
      const id = (await panel.locator('select[name="funnel"]').inputValue())!
      const [download] = await Promise.all([page.waitForEvent('download'), panel.locator('button.csv').click()])
      const csv = await fetch(`${base}/analytics/funnel?funnel=${id}&from=2026-11-30&to=2026-12-06&format=csv`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      expect(parseCsv(await readFile((await download.path())!, 'utf8'))).toEqual(parseCsv(await csv.text()))

      // under a filter of the address: only the events of visits from Google
      const filtered = await context.newPage()
      await filtered.clock.setFixedTime(NOW)
      const google = encodeURIComponent(JSON.stringify([['is', 'source', ['Google']]]))
      await filtered.goto(`${base}/dashboard?period=7d&filters=${google}#token=${encodeURIComponent(ADMIN)}`)
      await filtered.locator('[data-panel="funnels"] [data-state="ok"] li[data-step="2"]').waitFor()
      expect(await steps(filtered)).toEqual([
        ['2', 'null'],
        ['1', '50'],
      ])
      await filtered.close()

      // deleted: gone from the panel and from the server
      await panel.locator(`button[aria-label="Delete the funnel Sign-up"]`).click()
      await panel.locator('[data-note="no-funnel"]').waitFor()
      const listed = await fetch(`${base}/analytics/funnels`, { headers: { authorization: `Bearer ${ADMIN}` } })
      expect(((await listed.json()) as { funnels: unknown[] }).funnels).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('the viewer token sees a saved funnel and its figures, and no form or delete button', async () => {
    const made = await fetch(`${base}/analytics/funnels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Slow sign-up', steps: [pricing, signup], window: '3d' }),
    })
    expect(made.status).toBe(201)
    const { context, page, errors } = await open(VIEWER)
    try {
      const panel = page.locator('[data-panel="funnels"]')
      await panel.locator('[data-state="ok"] li[data-step="2"]').waitFor()
      // within 3 days, 5's sign-up two days after pricing counts too
      expect(await steps(page)).toEqual([
        ['4', 'null'],
        ['3', '25'],
      ])
      expect(await panel.locator('form').count()).toBe(0)
      expect(await panel.locator('button.delete').count()).toBe(0)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })
})
