/**
 * `bun run screenshot:dashboard`: makes the README's pictures of the dashboard from a seeded,
 * realistic dataset (dashboard-dataset.ts): docs/dashboard.png, all traffic with a day's tooltip,
 * docs/dashboard-filtered.png, the same period with the filter chip "Source is Google", and
 * docs/dashboard-goals.png, with two goals made through the API and one of them chosen, its
 * conversion rate in every breakdown of visits.
 *
 * The dataset goes through the service's own write path (validation, the group commit, the flush
 * into the counters and the event log), so the unfiltered view reads the counters and the filtered
 * one the log, as in production. Time is fixed: the server runs in this process on a clock stopped
 * at the dataset's end, and the page's clock is set to the same moment, so the pictures change
 * only when the page or the data does. Redis and Postgres come as for the benchmarks (a database
 * of its own, dropped after).
 *
 * `--filters='[["is","country",["DE"]]]'` takes the second picture under other filters.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Browser } from 'playwright-core'
import { benchServices } from '../bench/lib.ts'
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/pool.ts'
import { closeRedis, openRedis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import { silentLogger } from '../src/log.ts'
import { launchChromium } from '../test/browser.ts'
import { generateDataset, SCREENSHOT_DATASET, seedDataset } from './dashboard-dataset.ts'

const DOCS = join(import.meta.dir, '..', 'docs')
const ADMIN = 'screenshot-admin-token-0123456789'
const { values: args } = parseArgs({ options: { filters: { type: 'string' } } })
const FILTERS = args.filters ?? JSON.stringify([['is', 'source', ['Google']]])
const NOW = SCREENSHOT_DATASET.now

/** Opens the dashboard at `query`, waits for every number and panel, and saves the page. */
async function shoot(browser: Browser, base: string, query: string, out: string): Promise<void> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
    timezoneId: 'UTC',
    locale: 'en-US',
  })
  try {
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.clock.setFixedTime(NOW)
    await page.goto(`${base}/dashboard?${query}#token=${ADMIN}`)
    await page.waitForSelector('main[data-state="ready"]')
    await page.waitForSelector('.live[data-state="live"]')
    await page.waitForFunction(
      () => document.querySelectorAll('.rows[data-state="ok"]').length === document.querySelectorAll('.rows').length,
    )
    // the tooltip of one day, as a hover shows it
    const box = (await page.locator('.chart .u-over').boundingBox())!
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2)
    await page.mouse.move(box.x + box.width * 0.72, box.y + box.height / 2, { steps: 5 })
    await page.waitForSelector('.tip:not([hidden])')
    if (errors.length > 0) throw new Error(`the page failed: ${errors.join('; ')}`)
    await page.screenshot({ path: out, fullPage: true })
    console.log(`written ${out}`)
  } finally {
    await context.close()
  }
}

/** Adds a goal through the API; answers its id. */
async function addGoal(base: string, goal: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${base}/analytics/goals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(goal),
  })
  if (res.status !== 201) throw new Error(`POST /analytics/goals answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { id: string }).id
}

const services = await benchServices()
try {
  const config = {
    ...loadConfig({}),
    redisUrl: services.redisUrl,
    databaseUrl: services.databaseUrl,
    redisPrefix: services.newPrefix(),
    adminToken: ADMIN,
    countedProperties: ['plan'],
    // the dataset's days are fixed, retention counts from today's: keep them all
    eventsRetentionDays: 0,
  }
  const redis = await openRedis(config.redisUrl, silentLogger)
  const db = await openDatabase(config.databaseUrl, { max: 4 })
  const deps = createDeps({ config, redis, pool: db.pool, log: silentLogger, now: () => NOW })
  const app = createApp(deps)
  try {
    const started = performance.now()
    const dataset = generateDataset(SCREENSHOT_DATASET)
    await seedDataset(deps, dataset)
    const { visits, events } = dataset.expected
    console.log(
      `seeded ${dataset.from} to ${dataset.to}: ${visits} visits, ${Object.values(events).reduce((a, b) => a + b, 0)} events ` +
        `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    )
    const server = app.listen({ port: 0, hostname: '127.0.0.1' })
    const base = `http://127.0.0.1:${server.port}`
    const browser = await launchChromium()
    try {
      await shoot(browser, base, 'compare=1', join(DOCS, 'dashboard.png'))
      await shoot(
        browser,
        base,
        `compare=1&filters=${encodeURIComponent(FILTERS)}`,
        join(DOCS, 'dashboard-filtered.png'),
      )
      const pricing = await addGoal(base, { name: 'Saw pricing', page: '/pricing' })
      await addGoal(base, { name: 'Read the docs', page: '/docs/*' })
      await shoot(browser, base, `compare=1&goal=${pricing}`, join(DOCS, 'dashboard-goals.png'))
    } finally {
      await browser.close()
    }
  } finally {
    deps.live.close()
    await app.stop(true)
    await deps.batcher.drain()
    await closeRedis(redis)
    await db.close()
  }
} finally {
  await services.stop()
}
