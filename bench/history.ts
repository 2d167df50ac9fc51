/**
 * A year of a site's traffic, stored as the flush stores it: the event log's rows through the
 * store (`PostgresEventStore`: `prepare`, then `write` inside the transaction of the flush's own
 * `writeBatch`) and, in the same transaction, the counters those events make, so the unfiltered
 * dashboard (the counters) and the filtered one (the log) show the same traffic. Nothing here
 * knows the log table's columns: a change of its physical layout changes nothing here.
 *
 * The traffic, from a PRNG of fixed seed (the same rows every run): 100,000 events a day over the
 * 30 days up to now (today's 100,000 fall before now), 10,000 a day over the 335 days before. One
 * event in twenty is a server event of no visit (generations, logins, sign-ups, subscriptions,
 * with a user id); the others come in visits of 1 to 19 events (10 on average), the first a page
 * view. A visit has a source (300; Google a third, direct a fifth), a campaign on 30% of visits,
 * a browser, an OS, a device (desktop, mobile, tablet), a country (50) and a host (3); pages (1,000)
 * and features (50) are drawn with Zipf's skew; a `plan` property is on 30% of rows. Visitors
 * return: 30% of visits come from 20,000 regulars. Each day is one batch: counters as the group
 * commit counts them (src/counters/increments.ts, the visit's as the script counts it), fields
 * from the one codec, rows by src/flush/rows.ts, and each day's visitors as a real HyperLogLog
 * made in Redis.
 *
 * @example
 * const seeded = await seedHistory(services) // { rows: 6_350_000, visits: …, seconds: …, … }
 */
import { RESP_TYPES } from 'redis'
import { quarterOf } from '../src/counters/calendar.ts'
import { encodeField } from '../src/counters/fields.ts'
import { openDatabase } from '../src/db/pool.ts'
import { openRedis } from '../src/db/redis.ts'
import { type EventType, propDimension, VISIT, VISIT_DIMENSIONS, type VisitDimension } from '../src/events/types.ts'
import { type SnapshotHashes, toRows } from '../src/flush/rows.ts'
import { type VisitorSet, writeBatch } from '../src/flush/write.ts'
import { PostgresEventStore } from '../src/log/postgres.ts'
import { eventRow, type LogRow } from '../src/log/row.ts'
import { silentLogger } from '../src/log.ts'
import type { BenchServices } from './lib.ts'
import { FILL } from './queries.ts'

const DAY_MS = 86_400_000
export const RECENT_DAYS = 30
export const RECENT_PER_DAY = Number(process.env.BENCH_HISTORY_RECENT ?? 100_000)
export const OLDER_DAYS = 335
export const OLDER_PER_DAY = Number(process.env.BENCH_HISTORY_OLDER ?? 10_000)
const SEED = 20261206

/** mulberry32: a small PRNG of 32-bit state, the same sequence for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Picks from `values` with the given weights (or Zipf's 1/rank when none). */
function picker<T>(values: readonly T[], weights?: readonly number[]): (r: number) => T {
  const w = weights ?? values.map((_, i) => 1 / (i + 1))
  const total = w.reduce((a, b) => a + b, 0)
  let sum = 0
  const cumulative = w.map((x) => (sum += x / total))
  return (r) => {
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < r) lo = mid + 1
      else hi = mid
    }
    return values[lo]!
  }
}

const NAMED_SOURCES = ['Bing', 'DuckDuckGo', 'Hacker News', 'Reddit', 'Twitter', 'Facebook', 'LinkedIn', 'GitHub']
/** 298 sources besides Google and direct, the named ones first (the most frequent) */
const OTHER_SOURCES = [
  ...NAMED_SOURCES,
  ...Array.from({ length: 298 - NAMED_SOURCES.length }, (_, i) => `site-${i + 1}.example`),
]
const source = picker(OTHER_SOURCES)
const SECTIONS = ['docs', 'blog', 'guides', 'changelog', 'products', 'help', 'api', 'examples']
const PAGES = ['/', '/pricing', '/signup', '/login', '/about'].concat(
  Array.from({ length: 995 }, (_, i) => `/${SECTIONS[i % SECTIONS.length]}/page-${i + 1}`),
)
const page = picker(PAGES)
const FEATURES = Array.from({ length: 50 }, (_, i) => `feature-${i + 1}`)
const feature = picker(FEATURES)
const COUNTRIES =
  'US DE GB FR IN CA NL BR ES IT PL SE JP AU CH AT BE DK FI NO IE PT CZ RO HU GR TR IL MX AR CO CL ZA NG EG KE UA RU CN KR TW SG ID VN TH PH MY NZ HK AE'.split(
    ' ',
  )
const country = picker(COUNTRIES)
const device = picker(['desktop', 'mobile', 'tablet'], [55, 40, 5])
const browser = picker(
  ['Chrome', 'Safari', 'Firefox', 'Microsoft Edge', 'Samsung Internet', 'Opera'],
  [60, 20, 8, 7, 3, 2],
)
const os = picker(['Windows', 'macOS', 'iOS', 'Android', 'Linux', 'Chrome OS'], [35, 15, 20, 22, 6, 2])
const hostname = picker(['example.com', 'shop.example.com', 'blog.example.com'], [60, 25, 15])
const utmSource = picker(Array.from({ length: 40 }, (_, i) => `newsletter-${i + 1}`))
const utmMedium = picker(['email', 'cpc', 'social', 'referral', 'affiliate'], [40, 25, 20, 10, 5])
const utmCampaign = picker(Array.from({ length: 100 }, (_, i) => `campaign-${i + 1}`))
const plan = picker(['free', 'pro', 'team'], [60, 30, 10])
const visitEventType = picker<EventType>(
  ['page_view', 'feature_used', 'asset_downloaded', 'asset_shared'],
  [70, 20, 5, 5],
)
const serverEventType = picker<EventType>(
  [
    'generation_started',
    'generation_completed',
    'generation_failed',
    'user_login',
    'user_signup',
    'subscription_started',
    'subscription_canceled',
  ],
  [30, 28, 2, 25, 8, 5, 2],
)
const user = picker(Array.from({ length: 20_000 }, (_, i) => `user-${i + 1}`))

/** The visitor hash (16 hex) of visitor n, as the service's (a 64-bit wyhash). */
const visitorHash = (n: number): string => Bun.hash.wyhash(`visitor-${n}`, 7n).toString(16).padStart(16, '0')

/** The counters a day's events make, by pending kind and field, as the group commit counts them. */
class DayCounters {
  readonly hashes = { d: new Map(), h: new Map(), u: new Map(), f: new Map(), p: new Map(), x: new Map() } as Record<
    'd' | 'h' | 'u' | 'f' | 'p' | 'x',
    Map<string, number>
  >

  add(kind: keyof DayCounters['hashes'], field: string): void {
    const hash = this.hashes[kind]
    hash.set(field, (hash.get(field) ?? 0) + 1)
  }

  /** One event, as countEvent counts it (the live hashes aside: they are Redis's, not history). */
  event(row: LogRow): void {
    const day = utcDayOf(row.at)
    const type = row.type
    this.add('d', encodeField('d', { day, type }))
    this.add('h', encodeField('h', { quarter: quarterOf(row.at), type }))
    if (row.userId !== null) this.add('u', encodeField('u', { day, type, value: row.userId }))
    if (row.feature !== null) this.add('f', encodeField('f', { day, type, value: row.feature }))
    if (row.path !== null) this.add('p', encodeField('p', { day, value: row.path }))
    for (const [key, value] of Object.entries(row.props ?? {}))
      this.add('x', encodeField('x', { day, type, dimension: propDimension(key), value }))
  }

  /** A visit, as the group commit's script counts it on its first event. */
  visit(first: LogRow): void {
    const day = utcDayOf(first.at)
    this.add('d', encodeField('d', { day, type: VISIT }))
    this.add('h', encodeField('h', { quarter: quarterOf(first.at), type: VISIT }))
    for (const dimension of VISIT_DIMENSIONS) {
      const value = first.visit?.[dimension]
      if (value) this.add('x', encodeField('x', { day, type: VISIT, dimension, value }))
    }
  }

  snapshot(visitorDay: string): SnapshotHashes {
    const out: SnapshotHashes = { v: { [visitorDay]: '1' } }
    for (const [kind, hash] of Object.entries(this.hashes))
      out[kind as keyof DayCounters['hashes']] = Object.fromEntries([...hash].map(([f, n]) => [f, String(n)]))
    return out
  }
}

/** The day the counters count in: the service's TIME_ZONE, UTC here as by default. */
const utcDayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10)

export interface SeededHistory {
  days: number
  rows: number
  /** rows in the last 30 days (the default view) */
  recentRows: number
  visits: number
  /** seconds to generate and write it all, and rows/s of that */
  seconds: number
  rowsPerSecond: number
  /** seconds of the VACUUM ANALYZE after it, as autovacuum leaves tables at rest */
  vacuumSeconds: number
}

/**
 * One day's rows (in time order) and counters: `count` events between `from` and `to` (epoch ms).
 * `next` hands out visit ids.
 */
function makeDay(random: () => number, from: number, to: number, count: number, next: { visit: bigint }) {
  const rows: LogRow[] = []
  const counters = new DayCounters()
  const visitors = new Set<string>()
  const span = to - from
  const serverEvents = Math.round(count / 20)
  let visitEvents = count - serverEvents
  let visits = 0
  while (visitEvents > 0) {
    const length = Math.min(visitEvents, 1 + Math.floor(random() * 19))
    visitEvents -= length
    visits++
    const regular = random() < 0.3
    const visitor = visitorHash(regular ? Math.floor(random() * 20_000) : 20_000 + Math.floor(random() * 2_000_000))
    visitors.add(visitor)
    const r = random()
    const utm = random() < 0.3
    const visit: Record<VisitDimension, string | null> = {
      source: r < 1 / 3 ? 'Google' : r < 1 / 3 + 0.2 ? '(direct)' : source(random()),
      utm_source: utm ? utmSource(random()) : null,
      utm_medium: utm ? utmMedium(random()) : null,
      utm_campaign: utm ? utmCampaign(random()) : null,
      entry_page: page(random()),
      browser: browser(random()),
      os: os(random()),
      device: device(random()),
      country: country(random()),
      hostname: hostname(random()),
    }
    const visitId = (next.visit++).toString()
    // the visit's events are 5 s to 2 min apart, all within the day
    const gaps = Array.from({ length }, (_, i) => (i === 0 ? 0 : 5_000 + Math.floor(random() * 115_000)))
    const duration = gaps.reduce((a, b) => a + b, 0)
    let at = from + Math.floor(random() * Math.max(1, span - duration))
    for (let i = 0; i < length; i++) {
      at = Math.min(at + gaps[i]!, to - 1)
      const type = i === 0 ? 'page_view' : visitEventType(random())
      const row: LogRow = {
        at,
        site: 0,
        type,
        path: type === 'page_view' ? (i === 0 ? visit.entry_page : page(random())) : null,
        hostname: visit.hostname,
        feature: type === 'feature_used' ? feature(random()) : null,
        userId: null,
        props: random() < 0.3 ? { plan: plan(random()) } : null,
        visitId,
        began: i === 0,
        visitor,
        visit,
      }
      rows.push(row)
      counters.event(row)
      if (i === 0) counters.visit(row)
    }
  }
  for (let i = 0; i < serverEvents; i++) {
    const row: LogRow = {
      ...eventRow(from + Math.floor(random() * span), serverEventType(random())),
      userId: user(random()),
      props: random() < 0.3 ? { plan: plan(random()) } : null,
    }
    rows.push(row)
    counters.event(row)
  }
  rows.sort((a, b) => a.at - b.at)
  return { rows, counters, visitors, visits }
}

/**
 * Empties the counters and the log of the bench database, then writes the year: one flush batch
 * per day, oldest first. `now` fixes where the year ends.
 */
export async function seedHistory(services: BenchServices, now = Date.now()): Promise<SeededHistory> {
  const db = await openDatabase(services.databaseUrl, { max: 2 })
  const redis = await openRedis(services.redisUrl, silentLogger)
  const bytes = redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
  const hllKey = `${services.newPrefix()}:seed-visitors`
  const store = new PostgresEventStore(db.pool)
  const random = prng(SEED)
  const next = { visit: 1_000_000_000_000n }
  const out = { days: 0, rows: 0, recentRows: 0, visits: 0 }
  try {
    // what earlier scenarios of the run flushed: the counters' tables (FILL's first statement)
    // and every day of the log, dropped through the store
    await db.pool.query(FILL[0]!)
    await store.dropBefore('9999-01-01')
    const started = performance.now()
    const today = Math.floor(now / DAY_MS) * DAY_MS
    const days = RECENT_DAYS + OLDER_DAYS
    for (let back = days - 1; back >= 0; back--) {
      const from = today - back * DAY_MS
      // today's events all fall before now
      const to = back === 0 ? Math.max(from + 60_000, now - 60_000) : from + DAY_MS
      const count = back < RECENT_DAYS ? RECENT_PER_DAY : OLDER_PER_DAY
      const day = makeDay(random, from, to, count, next)
      const dayName = utcDayOf(from)
      await redis.del(hllKey)
      const members = [...day.visitors]
      for (let i = 0; i < members.length; i += 10_000) await redis.pfAdd(hllKey, members.slice(i, i + 10_000))
      const set: VisitorSet = {
        hll: (await bytes.get(hllKey)) as unknown as Buffer,
        estimate: await redis.pfCount(hllKey),
      }
      await store.prepare(day.rows)
      const result = await writeBatch(
        db.pool,
        {
          batchId: `bench-history-${dayName}`,
          site: 0,
          seq: days - back,
          rows: toRows(day.counters.snapshot(dayName)),
          visitors: new Map([[dayName, set]]),
          events: day.rows,
        },
        { eventStore: store, statementTimeoutMs: 600_000 },
      )
      if (result !== 'applied') throw new Error(`the history's batch of ${dayName} was not applied (${result})`)
      out.days++
      out.rows += day.rows.length
      out.visits += day.visits
      if (back < RECENT_DAYS) out.recentRows += day.rows.length
    }
    const seconds = (performance.now() - started) / 1000
    const vacuumStarted = performance.now()
    await db.pool.query('VACUUM ANALYZE')
    return {
      ...out,
      seconds,
      rowsPerSecond: out.rows / seconds,
      vacuumSeconds: (performance.now() - vacuumStarted) / 1000,
    }
  } finally {
    await redis.del(hllKey)
    await redis.close()
    await db.close()
  }
}
