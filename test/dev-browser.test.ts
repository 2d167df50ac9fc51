import { describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { BROWSER_UA } from './app.ts'
import { chromiumPath, launchChromium, NO_CHROMIUM } from './browser.ts'
import { startDev } from './dev-process.ts'

const ARTIFACTS = join(import.meta.dir, 'artifacts')
const available = chromiumPath() !== undefined
if (!available) console.warn(NO_CHROMIUM)

/** Waits until the live screen's card for `type` shows `want` as today's total. */
const total = (page: Page, type: string, want: number) =>
  page.waitForFunction(
    ([type, want]) =>
      Number(document.querySelector(`[data-type="${type}"] [data-field="total"]`)?.textContent?.replace(/,/g, '')) ===
      want,
    [type, want] as const,
    { timeout: 10_000 },
  )

describe('the demo page of bun run dev, in a real browser', () => {
  test.skipIf(!available)(
    'clicking around /demo moves the numbers on the live screen that the banner links to',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'edge-analytics-dev-'))
      const dev = await startDev({ DATA_DIR: dataDir })
      const browser = await launchChromium()
      try {
        const link = /^ {2}live screen +(\S+)$/m.exec(dev.banner)?.[1]
        expect(link).toStartWith(`${dev.url}/live#token=`)
        // headless Chromium's own User-Agent says HeadlessChrome, whose beacons count as a bot's
        const context = await browser.newContext({ userAgent: BROWSER_UA, viewport: { width: 1280, height: 800 } })
        const live = await context.newPage()
        await live.goto(link ?? '')
        await live.waitForSelector('body[data-state="live"]')

        const demo = await context.newPage()
        const errors: string[] = []
        demo.on('pageerror', (e) => errors.push(e.message))
        demo.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text())
        })
        const beacons: number[] = []
        demo.on('response', (r) => {
          if (new URL(r.url()).pathname === '/e') beacons.push(r.status())
        })
        await demo.goto(`${dev.url}/demo`)
        // the page view, and the feature_used the page sends when it opens
        await total(live, 'page_view', 1)
        await total(live, 'feature_used', 1)
        await demo.click('button[data-feature="export_csv"]')
        await total(live, 'feature_used', 2)
        await demo.click('button:has-text("Share")')
        await total(live, 'feature_used', 3)
        await demo.click('a[href="#/pricing"]')
        await total(live, 'page_view', 2)

        const stats = await fetch(`${dev.url}/analytics/stats?event_type=feature_used`, {
          headers: { authorization: `Bearer ${dev.linkToken}` },
        })
        expect(((await stats.json()) as { total: number }).total).toBe(3)
        expect(beacons.length).toBeGreaterThan(0)
        expect(beacons.filter((status) => status !== 202)).toEqual([])
        expect(errors).toEqual([])
        await mkdir(ARTIFACTS, { recursive: true })
        await demo.screenshot({ path: join(ARTIFACTS, 'dev-demo.png'), fullPage: true })
        await live.screenshot({ path: join(ARTIFACTS, 'dev-live.png') })

        // the demo's link leads to the live screen, which a tab that had the token shows at once
        await live.goto(`${dev.url}/demo`)
        await live.click('a#live')
        await live.waitForSelector('body[data-state="live"]')
        expect(new URL(live.url()).pathname).toBe('/live')
      } finally {
        await browser.close()
        await dev.stop()
        await rm(dataDir, { recursive: true, force: true })
      }
    },
    60_000,
  )
})
