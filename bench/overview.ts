/**
 * The all-sites overview at a deployment's scale: `bun bench/overview.ts` adds 50 sites to a
 * fresh database (each in one of a few time zones), sends each site 30 days of page views through
 * the app (a few visitors a day, each with a visit of two or three pages, on a clock moved day by
 * day), flushes them into Postgres, leaves one more day of them pending in Redis, then times
 * `GET /analytics/overview` (every site's visitors, visits, page views and trend over its last
 * 30 days) as the dashboard asks for it. The goal: at most 1 s. BENCH_SITES sets the number of
 * sites, BENCH_VISITS the visits per site and day.
 */
import { cpus } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/pool.ts'
import { openRedis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import { silentLogger } from '../src/log.ts'
import { medianTime } from './filters.ts'
import { ADMIN_TOKEN, BROWSER_UA, benchServices } from './lib.ts'

const SITES = Number(process.env.BENCH_SITES ?? 50)
const VISITS = Number(process.env.BENCH_VISITS ?? 8)
const DAYS = 30
const GOAL_MS = 1000
const ZONES = ['UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata', 'Australia/Sydney']
/** Noon UTC of the last day: every zone's "today" is a day with traffic. */
const NOW = Date.parse('2026-11-30T12:00:00Z')

const services = await benchServices()
const redis = await openRedis(services.redisUrl, silentLogger)
const db = await openDatabase(services.databaseUrl, { max: 10 })
try {
  let now = NOW - DAYS * 86_400_000
  const config = {
    ...loadConfig({}),
    redisUrl: services.redisUrl,
    databaseUrl: services.databaseUrl,
    redisPrefix: services.newPrefix(),
    adminToken: ADMIN_TOKEN,
    // the load comes from one address: the rate limit is not what is measured
    rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
  }
  const deps = createDeps({ config, redis, pool: db.pool, log: silentLogger, now: () => now })
  await deps.sites.load()
  const app = createApp(deps)
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }
  for (let s = 1; s <= SITES; s++) {
    const res = await app.handle(
      new Request('http://localhost/analytics/sites', {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ domains: [`site${s}.example.com`], time_zone: ZONES[s % ZONES.length] }),
      }),
    )
    if (res.status !== 201) throw new Error(`site ${s}: ${res.status} ${await res.text()}`)
  }
  const started = performance.now()
  let sent = 0
  for (let day = 0; day <= DAYS; day++) {
    const dayStart = NOW - (DAYS - day) * 86_400_000 - 12 * 3_600_000
    const beacons: Promise<Response>[] = []
    for (let s = 1; s <= SITES; s++) {
      for (let v = 0; v < VISITS; v++) {
        for (let p = 0; p < 2 + (v % 2); p++) {
          now = dayStart + v * 3_000_000 + p * 60_000
          beacons.push(
            app.handle(
              new Request('http://localhost/e', {
                method: 'POST',
                headers: {
                  'content-type': 'text/plain',
                  origin: `https://site${s}.example.com`,
                  // a visitor per visit of the day, some coming back on later days
                  'user-agent': BROWSER_UA.replace('131.0.0.0', `131.0.${v}.${(day * 7 + v) % 11}`),
                },
                body: JSON.stringify({ event_type: 'page_view', properties: { path: `/page/${(v + p) % 9}` } }),
              }),
            ),
          )
        }
      }
    }
    for (const res of await Promise.all(beacons)) if (res.status !== 202) throw new Error(`beacon: ${res.status}`)
    sent += beacons.length
    // every day but the last reaches Postgres; the last stays pending, as today's does
    if (day < DAYS) await deps.flusher.flush()
  }
  console.log(
    `${SITES} sites, ${sent} page views over ${DAYS + 1} days, sent and flushed in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )

  now = NOW
  const read = async () => {
    const res = await app.handle(new Request('http://localhost/analytics/overview', { headers: admin }))
    if (res.status !== 200) throw new Error(`overview: ${res.status} ${await res.text()}`)
    return (await res.json()) as { sites: { page_views: number }[] }
  }
  const answer = await read()
  const views = answer.sites.reduce((n, s) => n + s.page_views, 0)
  console.log(`overview: ${answer.sites.length} sites, ${views} page views in their last 30 days`)
  const medianMs = await medianTime(read)
  const met = medianMs <= GOAL_MS
  console.log(
    `GET /analytics/overview, median of 5: ${medianMs.toFixed(0)} ms (goal ≤ ${GOAL_MS} ms: ${met ? 'met' : 'MISSED'})`,
  )
  const file = join(
    import.meta.dir,
    'results',
    `overview-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`,
  )
  await Bun.write(
    file,
    JSON.stringify(
      { sites: SITES, days: DAYS, pageViews: sent, cpus: cpus().length, medianMs, goalMs: GOAL_MS, met },
      null,
      2,
    ),
  )
  console.log(`wrote ${file}`)
  deps.liveHubs.close()
  await deps.batcher.drain()
} finally {
  redis.destroy()
  await db.close()
  await services.stop()
}
