/**
 * The dashboard on a large history, in real Chromium: fills the tables with the queries bench's
 * 400 days (over 2 million rows), starts the service in production mode, and opens the page cold
 * (a fresh browser context each time) for a few periods, measuring from navigation to the numbers
 * and chart on screen (the page's `dashboard-ready` mark) and to every breakdown shown.
 *
 * `bun bench/dashboard.ts` (or import {@link dashboardScenario} from bench/run.ts).
 */

import { openDatabase } from '../src/db/pool.ts'
import { launchChromium } from '../test/browser.ts'
import { ADMIN_TOKEN, type BenchServices, benchServices, fmt, startChild } from './lib.ts'
import { FILL } from './queries.ts'

const LOADS = Number(process.env.BENCH_DASHBOARD_LOADS ?? 5)
/** the default view, a year (two reads per metric), and today by hour */
const VIEWS = ['', '?period=12mo&compare=1', '?period=today']

export interface DashboardLoad {
  view: string
  /** navigation → numbers and chart on screen, ms, one per load */
  readyMs: number[]
  /** navigation → every breakdown's rows on screen, ms */
  panelsMs: number[]
  /** requests the page made */
  requests: number
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export async function dashboardScenario(services: BenchServices): Promise<DashboardLoad[]> {
  const db = await openDatabase(services.databaseUrl, { max: 1 })
  try {
    for (const sql of FILL) await db.pool.query(sql)
  } finally {
    await db.close()
  }
  const server = await startChild('src/index.ts', {
    REDIS_URL: services.redisUrl,
    DATABASE_URL: services.databaseUrl,
    REDIS_PREFIX: services.newPrefix(),
    ADMIN_TOKEN,
    COUNTED_PROPERTIES: 'plan',
    MIGRATE_ON_START: 'false',
  })
  const browser = await launchChromium()
  const out: DashboardLoad[] = []
  try {
    for (const view of VIEWS) {
      const load: DashboardLoad = { view: view || '(default: last 30 days)', readyMs: [], panelsMs: [], requests: 0 }
      // one load to warm the server's and Postgres's caches, as a dashboard open all day has them
      for (let i = 0; i <= LOADS; i++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
        const page = await context.newPage()
        let requests = 0
        page.on('request', () => requests++)
        await page.goto(`${server.url}/dashboard${view}#token=${encodeURIComponent(ADMIN_TOKEN)}`)
        await page.waitForSelector('main[data-state="ready"]', { timeout: 30_000 })
        await page.waitForFunction(
          () =>
            document.querySelectorAll('.rows[data-state="ok"]').length === document.querySelectorAll('.rows').length,
          undefined,
          { timeout: 30_000, polling: 10 },
        )
        const panelsAt = await page.evaluate(() => performance.now())
        const readyAt = await page.evaluate(() => performance.getEntriesByName('dashboard-ready')[0]?.startTime)
        if (readyAt === undefined) throw new Error('the page set no dashboard-ready mark')
        if (i > 0) {
          load.readyMs.push(readyAt)
          load.panelsMs.push(panelsAt)
          load.requests = requests
        }
        await context.close()
      }
      console.log(
        `  dashboard ${load.view}: numbers and chart ${load.readyMs.map((ms) => fmt(ms)).join(', ')} ms ` +
          `(median ${fmt(median(load.readyMs))}); every breakdown by ${fmt(median(load.panelsMs))} ms; ${load.requests} requests`,
      )
      out.push(load)
    }
  } finally {
    await browser.close()
    await server.stop()
  }
  return out
}

export { median }

if (import.meta.main) {
  const services = await benchServices()
  try {
    await dashboardScenario(services)
  } finally {
    await services.stop()
  }
}
