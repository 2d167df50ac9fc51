/**
 * `bun run screenshot:dashboard`: makes docs/dashboard.png, the README's picture of the dashboard,
 * from a seeded, realistic dataset. Three months of a small SaaS site are written straight into
 * the counters' tables (as the flush would have written them: daily, hourly, per page, feature,
 * dimension and month), since history older than 30 days and the countries and browsers of visits
 * cannot be sent through the API; today's last visits arrive as real beacons, so the live strip
 * moves. Redis and Postgres come as for the benchmarks (a database of its own, dropped after).
 *
 * Every figure comes from one seeded generator, so the picture changes only when the page does.
 */
import { join } from 'node:path'
import { BROWSER_UA, benchServices, startChild } from '../bench/lib.ts'
import { openDatabase } from '../src/db/pool.ts'
import { launchChromium } from '../test/browser.ts'
import { prng } from '../test/prng.ts'

const OUT = join(import.meta.dir, '..', 'docs', 'dashboard.png')
const ADMIN = 'screenshot-admin-token-0123456789'
const DAYS = 90
const r = prng(20261128)

type Table = readonly (readonly [string, number])[]
const SOURCES: Table = [
  ['Google', 38],
  ['(direct)', 24],
  ['Hacker News', 9],
  ['DuckDuckGo', 6],
  ['Reddit', 5],
  ['GitHub', 4],
  ['Bing', 3],
  ['LinkedIn', 3],
  ['X', 2],
  ['ChatGPT', 2],
  ['news.example.org', 1.5],
  ['Mastodon', 1],
]
const PAGES: Table = [
  ['/', 30],
  ['/pricing', 14],
  ['/docs', 12],
  ['/docs/getting-started', 9],
  ['/blog/privacy-first-analytics', 8],
  ['/features', 6],
  ['/changelog', 4],
  ['/signup', 4],
  ['/blog/why-we-left-cookies', 3],
  ['/about', 2],
  ['/docs/api', 2],
]
const COUNTRIES: Table = [
  ['US', 31],
  ['DE', 12],
  ['GB', 9],
  ['FR', 7],
  ['IN', 6],
  ['NL', 5],
  ['CA', 4],
  ['BR', 3],
  ['SE', 3],
  ['JP', 3],
  ['ES', 2],
  ['PL', 2],
  ['AU', 2],
]
const DEVICES: Table = [
  ['desktop', 64],
  ['mobile', 33],
  ['tablet', 3],
]
const BROWSERS: Table = [
  ['Chrome', 58],
  ['Safari', 19],
  ['Firefox', 11],
  ['Edge', 8],
  ['Samsung Internet', 2],
  ['Opera', 2],
]
const OSES: Table = [
  ['Windows', 34],
  ['macOS', 27],
  ['iOS', 17],
  ['Android', 16],
  ['Linux', 6],
]
const CAMPAIGNS: Table = [
  ['launch-week', 5],
  ['newsletter-nov', 3],
  ['brand', 2],
]
const FEATURES: Table = [
  ['export_csv', 30],
  ['share_link', 22],
  ['dark_mode', 14],
  ['invite_sent', 9],
  ['api_key_created', 6],
  ['webhook_added', 3],
]
const PLANS: Table = [
  ['free', 70],
  ['pro', 24],
  ['team', 6],
]
/** visits by hour of the day (UTC), a European and American audience */
const HOURS = [2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8, 7.5, 7, 7, 7.5, 8, 8.5, 8, 7, 6, 5, 4.5, 4, 3]

/** `total` split by `weights`, whole numbers that add up to it, with a little noise per day. */
function split(total: number, weights: readonly number[], noise = 0.15): number[] {
  const w = weights.map((x) => x * (1 - noise + 2 * noise * r.next()))
  const sum = w.reduce((a, b) => a + b, 0)
  const exact = w.map((x) => (x / sum) * total)
  const out = exact.map(Math.floor)
  let left = total - out.reduce((a, b) => a + b, 0)
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0])
  for (const [, i] of order) {
    if (left-- <= 0) break
    out[i]!++
  }
  return out
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10)

interface Rows {
  daily: [string, string, number][]
  hourly: [string, string, number][]
  pages: [string, string, number][]
  features: [string, string, string, number][]
  visitors: [string, number][]
  dimensions: [string, string, string, string, number][]
}

function generate(now: number): Rows {
  const rows: Rows = { daily: [], hourly: [], pages: [], features: [], visitors: [], dimensions: [] }
  const today = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate())
  const hoursToday = new Date(now).getUTCHours()
  for (let d = DAYS - 1; d >= 0; d--) {
    const start = today - d * 86_400_000
    const day = dayOf(start)
    const weekday = new Date(start).getUTCDay()
    // growth over the quarter, quieter weekends, a launch spike three weeks ago
    const trend = 520 * (1 + (DAYS - d) / DAYS) * (weekday === 0 || weekday === 6 ? 0.62 : 1)
    const spike = d >= 19 && d <= 21 ? 2.4 - Math.abs(d - 20) * 0.6 : 1
    const hours = d === 0 ? hoursToday : 24
    const share = HOURS.slice(0, hours).reduce((a, b) => a + b, 0) / HOURS.reduce((a, b) => a + b, 0)
    const visits = Math.round(trend * spike * (0.9 + 0.2 * r.next()) * share)
    const counts: Record<string, number> = {
      visit: visits,
      page_view: Math.round(visits * (2.2 + 0.4 * r.next())),
      feature_used: Math.round(visits * 0.42 * (0.9 + 0.2 * r.next())),
      user_signup: Math.round(visits * 0.031 * (0.8 + 0.4 * r.next())),
      user_login: Math.round(visits * 0.12),
      generation_started: Math.round(visits * 0.35),
    }
    counts.generation_failed = Math.round(counts.generation_started! * 0.045 * (0.6 + 0.8 * r.next()))
    counts.generation_completed = counts.generation_started! - counts.generation_failed
    counts.subscription_started = Math.round(counts.user_signup! * 0.22 * (0.6 + 0.8 * r.next()))
    counts.subscription_canceled = Math.round(counts.subscription_started! * 0.3 * r.next())
    for (const [type, n] of Object.entries(counts)) {
      rows.daily.push([type, day, n])
      split(n, HOURS.slice(0, hours), 0.1).forEach((c, h) => {
        rows.hourly.push([type, new Date(start + h * 3_600_000).toISOString(), c])
      })
    }
    rows.visitors.push([day, Math.round(visits * 0.86)])
    const names = (t: Table) => t.map(([name]) => name)
    const weights = (t: Table) => t.map(([, w]) => w)
    split(counts.page_view!, weights(PAGES)).forEach((c, i) => {
      rows.pages.push([names(PAGES)[i]!, day, c])
    })
    split(counts.feature_used!, weights(FEATURES)).forEach((c, i) => {
      rows.features.push(['feature_used', names(FEATURES)[i]!, day, c])
    })
    const dims: [string, Table, number][] = [
      ['source', SOURCES, visits],
      ['entry_page', PAGES, visits],
      ['country', COUNTRIES, visits],
      ['device', DEVICES, visits],
      ['browser', BROWSERS, visits],
      ['os', OSES, visits],
      [
        'hostname',
        [
          ['example.com', 88],
          ['docs.example.com', 12],
        ],
        visits,
      ],
      ['utm_campaign', CAMPAIGNS, Math.round(visits * 0.09)],
      [
        'utm_source',
        [
          ['newsletter', 3],
          ['mastodon', 4],
          ['google', 3],
        ],
        Math.round(visits * 0.09),
      ],
      [
        'utm_medium',
        [
          ['email', 3],
          ['social', 4],
          ['cpc', 3],
        ],
        Math.round(visits * 0.09),
      ],
    ]
    for (const [dimension, table, total] of dims) {
      split(total, weights(table)).forEach((c, i) => {
        if (c > 0) rows.dimensions.push([dimension, 'visit', day, names(table)[i]!, c])
      })
    }
    split(counts.user_signup!, weights(PLANS)).forEach((c, i) => {
      if (c > 0) rows.dimensions.push(['prop:plan', 'user_signup', day, names(PLANS)[i]!, c])
    })
  }
  return rows
}

async function fill(databaseUrl: string, rows: Rows): Promise<void> {
  const db = await openDatabase(databaseUrl, { max: 1 })
  const columns = <T extends unknown[]>(list: T[], i: number) => list.map((row) => row[i])
  try {
    await db.pool.query(
      'INSERT INTO analytics_daily (event_type, date, count) SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[])',
      [columns(rows.daily, 0), columns(rows.daily, 1), columns(rows.daily, 2)],
    )
    await db.pool.query(
      'INSERT INTO analytics_hourly (event_type, hour, count) SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[])',
      [columns(rows.hourly, 0), columns(rows.hourly, 1), columns(rows.hourly, 2)],
    )
    await db.pool.query(
      'INSERT INTO analytics_page_daily (path, date, count) SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[])',
      [columns(rows.pages, 0), columns(rows.pages, 1), columns(rows.pages, 2)],
    )
    const features = rows.features
    await db.pool.query(
      `INSERT INTO analytics_feature_daily (event_type, feature_name, date, count)
       SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[])`,
      [columns(features, 0), columns(features, 1), columns(features, 2), columns(features, 3)],
    )
    await db.pool.query(
      'INSERT INTO analytics_visitors_daily (date, visitors) SELECT * FROM unnest($1::date[], $2::bigint[])',
      [columns(rows.visitors, 0), columns(rows.visitors, 1)],
    )
    const d = rows.dimensions
    await db.pool.query(
      `INSERT INTO analytics_dimension_daily (dimension, event_type, date, value, count)
       SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::bigint[])`,
      [columns(d, 0), columns(d, 1), columns(d, 2), columns(d, 3), columns(d, 4)],
    )
    await db.pool.query(`INSERT INTO analytics_dimension_monthly (dimension, event_type, month, value, count)
      SELECT dimension, event_type, date_trunc('month', date)::date, value, sum(count) FROM analytics_dimension_daily
      GROUP BY 1, 2, 3, 4`)
  } finally {
    await db.close()
  }
}

const services = await benchServices()
try {
  await fill(services.databaseUrl, generate(Date.now()))
  const server = await startChild('src/index.ts', {
    REDIS_URL: services.redisUrl,
    DATABASE_URL: services.databaseUrl,
    REDIS_PREFIX: services.newPrefix(),
    ADMIN_TOKEN: ADMIN,
    COUNTED_PROPERTIES: 'plan',
    MIGRATE_ON_START: 'false',
    // the beacons below come from documentation addresses behind a "proxy", for their countries
    TRUST_PROXY: 'true',
  })
  const browser = await launchChromium()
  try {
    // a few visitors right now, for the live strip
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${server.url}/e`, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain;charset=UTF-8',
          'user-agent': BROWSER_UA,
          origin: 'https://example.com',
          'x-forwarded-for': `198.51.100.${10 + i}`,
        },
        body: JSON.stringify({ event_type: 'page_view', properties: { path: '/pricing', referrer: '' } }),
      })
      if (res.status !== 202) throw new Error(`beacon answered ${res.status}`)
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' })
    await page.goto(`${server.url}/dashboard?compare=1#token=${ADMIN}`)
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
    await page.screenshot({ path: OUT, fullPage: true })
    console.log(`written ${OUT}`)
  } finally {
    await browser.close()
    await server.stop()
  }
} finally {
  await services.stop()
}
