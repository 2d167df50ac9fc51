/**
 * The two executions of a filter agree: a few thousand random rows (visits with their dimensions,
 * events with pages, features and properties, server events of no visit) are stored, random
 * filters are drawn (every operator, visit and event dimensions, properties present and absent,
 * mixed case and Unicode for contains), and for each the SQL over the stored rows equals the
 * JavaScript over the same rows, for events (also of every type at once), visits, visitors and top. Then the rows are split at
 * random between Postgres and "pending" (a visit's rows on both sides), and Postgres part +
 * pending part equals the whole again, also when the SQL is told of rows it has already.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import type { Pool } from '@neondatabase/serverless'
import { openDatabase } from '../src/db/pool.ts'
import { type EventType, VISIT_DIMENSIONS, type VisitDimension } from '../src/events/types.ts'
import { type ConversionCounts, conversions, conversionsBy } from '../src/filters/conversions.ts'
import {
  bucketsOf,
  type CaseFold,
  type Dimension,
  type EventTopsStored,
  events,
  eventTopDimensions,
  eventTops,
  eventTypes,
  type Filter,
  type LogMetric,
  type LogQuery,
  OPERATORS,
  probeCaseFold,
  readLog,
  splitFilters,
  type TopQuery,
  top,
  topOfEventTops,
  visitors,
  visitQuality,
  visitQualityBy,
  visits,
} from '../src/filters/index.ts'
import { matches } from '../src/filters/match.ts'
import { BUILT_IN_GOALS, configuredGoal, fromMicros, type Goal } from '../src/goals/goal.ts'
import { eventRow, type LogRow } from '../src/log/row.ts'
import { SqlParams } from '../src/read/sql.ts'
import type { TopDimension } from '../src/read/top.ts'
import { insertLogRows, logPartitions } from './log-table.ts'
import { prng } from './prng.ts'
import { freshDatabaseUrl, testContext } from './services.ts'

const SEED = 20261206
const r = prng(SEED)

const START = Date.parse('2026-11-25T18:00:00Z')
const END = Date.parse('2026-11-29T23:00:00Z')
const H = 3_600_000

/** U+A7CB, a capital letter since Unicode 16: Bun lowers it, a database of an older ICU does not */
const RAMS_HORN = '\ua7cb'
const POOLS: Record<VisitDimension, (string | null)[]> = {
  source: [
    'Google',
    'google',
    'Bing',
    'DuckDuckGo',
    '(direct)',
    'Straße',
    'ΟΔΟΣ',
    'İstanbul',
    '50%_off\\x',
    '(other)',
    RAMS_HORN,
  ],
  utm_source: [null, null, 'newsletter', 'Newsletter', 'twitter'],
  utm_medium: [null, null, 'email', 'cpc', 'SOCIAL'],
  utm_campaign: [null, 'Winter Sale', 'winter-sale', 'Ünïcode', 'Σ campaign', '(other)'],
  entry_page: ['/', '/pricing', '/Pricing', '/blog/ΟΔΟΣ', '/docs/a_b', '/50%', '/über'],
  browser: ['Chrome', 'Firefox', 'Safari', '(unknown)'],
  os: ['Linux', 'Windows', 'macOS', 'iOS', 'Android'],
  device: ['desktop', 'mobile', 'tablet'],
  country: ['DE', 'US', 'FR', 'TR', 'GR', '(unknown)'],
  hostname: ['shop.example.com', 'blog.example.com', '(invalid)'],
}
const PAGES = ['/', '/pricing', '/Pricing', '/blog/ΟΔΟΣ', '/docs/a_b', '/50%', '/über', '(other)', '/İndex']
const FEATURES = ['Export', 'export', 'Share PDF', 'İmport', 'σύνδεση', '(other)']
const PROP_KEYS = ['plan', 'color', 'constructor', 'Ключ']
const PROP_VALUES = ['Pro', 'pro', 'Free', 'Ünïcode', 'ΣΑΣ', 'a%b', 'a_b', `${RAMS_HORN}x`]
const BROWSER_EVENTS: EventType[] = ['page_view', 'page_view', 'page_view', 'feature_used', 'asset_downloaded']
const SERVER_EVENTS: EventType[] = [
  'generation_started',
  'generation_completed',
  'user_signup',
  'user_login',
  'feature_used',
]
const ALL_TYPES: EventType[] = [...new Set([...BROWSER_EVENTS, ...SERVER_EVENTS, 'asset_shared' as const])]

const hex16 = () => Array.from({ length: 16 }, () => r.int(16).toString(16)).join('')
const VISITORS = Array.from({ length: 250 }, hex16)
const bigintId = () => BigInt.asIntN(64, BigInt(`0x${hex16()}`)).toString()

/** What a goal's value may be given: amounts, and text that is not one */
const AMOUNTS = ['12.5', '3', '-1.25', '0.000001', '19.99', '7.005', 'abc', '1e3', '', '1.2345678', '+4']

function props(): Record<string, string> | null {
  if (r.next() < 0.4) return null
  const out: Record<string, string> = {}
  for (const key of PROP_KEYS) if (r.next() < 0.4) out[key] = r.pick(PROP_VALUES)
  if (r.next() < 0.3) out.amount = r.pick(AMOUNTS)
  if (r.next() < 0.2) out.currency = r.pick(['EUR', 'USD', 'eur'])
  return Object.keys(out).length === 0 ? null : out
}

const base = (at: number, type: EventType): LogRow => ({ ...eventRow(at, type), props: props() })

function makeRows(): LogRow[] {
  const rows: LogRow[] = []
  for (let v = 0; v < 700; v++) {
    const visit = Object.fromEntries(VISIT_DIMENSIONS.map((d) => [d, r.pick(POOLS[d])])) as Record<
      VisitDimension,
      string | null
    >
    const id = bigintId()
    const visitor = r.pick(VISITORS)
    const began = START + r.int(END - START)
    // a visit may begin with an event other than a page view (a bounce is a single page view)
    const opening: EventType = r.next() < 0.15 ? 'feature_used' : 'page_view'
    const first = {
      ...base(began, opening),
      path: opening === 'page_view' ? visit.entry_page : null,
      visitId: id,
      began: true,
      visitor,
      visit,
    }
    rows.push(first)
    for (let i = r.int(9); i > 0; i--) {
      const type = r.pick(BROWSER_EVENTS)
      const row: LogRow = { ...base(began + r.int(3 * H), type), visitId: id, visitor, visit }
      if (type === 'page_view') row.path = r.pick(PAGES)
      if (type === 'feature_used' || r.next() < 0.05) row.feature = r.pick(FEATURES)
      // a row whose visit's dimensions were dropped past the log's bound
      if (r.next() < 0.03) {
        row.visit = null
        row.visitor = null
      }
      rows.push(row)
    }
  }
  for (let i = 0; i < 900; i++) {
    const type = r.pick(SERVER_EVENTS)
    const row: LogRow = { ...base(START + r.int(END - START), type), userId: `u${r.int(50)}` }
    if (type === 'feature_used') row.feature = r.pick(FEATURES)
    rows.push(row)
  }
  return rows
}

const ROWS = makeRows()
/** Per row: stored in the split database, or pending. */
const STORED = ROWS.filter(() => r.next() < 0.6)
const PENDING = ROWS.filter((row) => !STORED.includes(row))
/**
 * Another site's rows, stored in both databases: every read is of site 0, so none of these may
 * count (a read that forgot the site would count them, and disagree with JavaScript over ROWS).
 */
const OTHER_SITE = makeRows().map((row) => ({ ...row, site: 7 }))

const FILTER_DIMENSIONS: Dimension[] = [
  ...VISIT_DIMENSIONS,
  'page',
  'feature',
  'event_type',
  'prop:plan',
  'prop:color',
  'prop:constructor',
  'prop:Ключ',
  'prop:nope',
]

function valuesOf(d: Dimension): string[] {
  if (d === 'page') return PAGES
  if (d === 'feature') return FEATURES
  if (d === 'event_type') return ALL_TYPES
  if (d.startsWith('prop:')) return PROP_VALUES
  return POOLS[d as VisitDimension].filter((v): v is string => v !== null)
}

/** A value to test: one that occurs, in another case, cut to a part of it (contains), or none. */
function drawValue(d: Dimension, op: Filter['op']): string {
  if (d === 'event_type' && (op === 'is' || op === 'is_not')) return r.pick(ALL_TYPES)
  if (r.next() < 0.1) return r.pick(['zzz', 'Σ', 'ß', 'İ', '%', '_', '\\'])
  let v = r.pick(valuesOf(d))
  if (op === 'contains' || op === 'contains_not') {
    const from = r.int(v.length)
    v = v.slice(from, from + 1 + r.int(v.length - from))
  }
  const c = r.int(4)
  if (c === 1) v = v.toUpperCase()
  if (c === 2) v = v.toLowerCase()
  return v
}

function drawFilters(): Filter[] {
  return Array.from({ length: r.int(4) }, () => {
    if (r.next() < 0.12) {
      // the events that complete one of some goals
      const goals = GOALS.filter(() => r.next() < 0.3)
      if (goals.length === 0) goals.push(r.pick(GOALS))
      return { op: 'is', dimension: 'goal', values: goals.map((g) => g.id), goals }
    }
    const op = r.pick(OPERATORS)
    const dimension = r.pick(FILTER_DIMENSIONS)
    return { op, dimension, values: Array.from({ length: 1 + r.int(3) }, () => drawValue(dimension, op)) }
  })
}

const ZONES = ['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/New_York']

/** Buckets of local days, hours or weeks, or one bucket between two instants to the ms. */
function drawBounds(): number[] {
  const kind = r.int(4)
  if (kind === 0) {
    const a = START + r.int(END - START)
    return [a, a + 1 + r.int(END - a + 2 * H)]
  }
  const tz = r.pick(ZONES)
  const first = 25 + r.int(4)
  const last = first + r.int(30 - first)
  const day = (n: number) => `2026-11-${String(n).padStart(2, '0')}`
  const granularity = kind === 1 ? 'day' : kind === 2 ? 'week' : 'hour'
  const bounds = bucketsOf(
    granularity,
    day(first),
    day(granularity === 'hour' ? Math.min(last, first + 1) : last),
    tz,
  ).bounds
  if (r.next() < 0.6) return bounds
  // cut at `until`, a quarter-hour inside the range, as the reads cut it (src/read/filtered.ts)
  const quarters = Math.floor((bounds.at(-1)! - bounds[0]!) / (H / 4))
  const until = bounds[0]! + (1 + r.int(Math.max(1, quarters - 1))) * (H / 4)
  return bounds.map((b) => Math.min(b, until))
}

const TOP_DIMENSIONS: TopDimension[] = ['source', 'utm_campaign', 'country', 'hostname', 'page', 'feature', 'prop:plan']

/** Rows in a few batches at random, each in the rows' order. */
function batches(rows: readonly LogRow[]): LogRow[][] {
  const out: LogRow[][] = Array.from({ length: 4 }, () => [])
  for (const row of rows) out[r.int(out.length)]!.push(row)
  return out.filter((b) => b.length > 0)
}

let all: Pool
let split: Pool
let fold: CaseFold

beforeAll(async () => {
  const { db } = await testContext()
  all = db.pool
  const second = await openDatabase(await freshDatabaseUrl(), { max: 4 })
  split = second.pool
  for (const [pool, rows] of [
    [all, ROWS],
    [split, STORED],
  ] as const) {
    await logPartitions(pool, '2026-11-25', '2026-11-30')
    // in batches, as flushes store them: a visit's row of a day adds up several batches' rows
    for (const batch of batches(rows)) await insertLogRows(pool, batch)
    for (const batch of batches(OTHER_SITE)) await insertLogRows(pool, batch)
  }
  fold = await probeCaseFold(all)
  return () => second.close()
}, 60_000)

/**
 * The metric with the split database's rows stored and the rest pending; the SQL is also told of
 * some stored rows, as a read is of a snapshot Postgres has already committed.
 */
async function splitRead<Q extends LogQuery, P, S, R>(metric: LogMetric<Q, P, S, R>, q: Q): Promise<R> {
  const extra = STORED.filter(() => r.next() < 0.1)
  const p = new SqlParams(0)
  const sql = metric.sql(q, p, metric.pending(q, [...PENDING, ...extra]))
  const res = await split.query(`SELECT ${sql} AS stored`, p.values)
  return metric.finish(q, (res.rows[0] as { stored: S }).stored, PENDING)
}

/** The metric three ways: JavaScript over every row, SQL over every row, stored + pending. */
async function threeWays<Q extends LogQuery, P, S, R>(metric: LogMetric<Q, P, S, R>, q: Q, what: unknown) {
  const js: R = metric.ofRows(q, ROWS)
  const sql: R = await readLog(all, metric, q)
  const parts: R = await splitRead(metric, q)
  expect({ what, sql }).toEqual({ what, sql: js })
  expect({ what, parts }).toEqual({ what, parts: js })
  return js
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

const goal = configuredGoal
const GOALS: Goal[] = [
  BUILT_IN_GOALS.find((g) => g.id === 'feature_used')!,
  BUILT_IN_GOALS.find((g) => g.id === 'asset_downloaded')!,
  goal('docs', { page: '/docs/*' }),
  goal('pricing', { page: '/pricing' }),
  goal('percent', { page: '/50%' }),
  goal('any b', { page: '/*b*' }),
  goal('pro', {
    eventType: 'feature_used',
    property: { key: 'plan', value: 'Pro' },
    value: { property: 'amount', currency: 'EUR' },
  }),
  goal('downloads', { eventType: 'asset_downloaded', value: { property: 'amount', currency: null } }),
  goal('euros', { eventType: 'asset_downloaded', value: { property: 'amount', currency: 'EUR' } }),
  // case matters: /Pricing, not /pricing
  goal('capital', { page: '/P*' }),
]

/** `*` any characters, the rest itself: the obvious recursive match. */
function glob(pattern: string, s: string): boolean {
  if (pattern === '') return s === ''
  if (pattern[0] === '*') return glob(pattern.slice(1), s) || (s !== '' && glob(pattern, s.slice(1)))
  return s !== '' && s[0] === pattern[0] && glob(pattern.slice(1), s.slice(1))
}

/** Whether a row completes a goal, and its value, written the obvious way. */
function completes(g: Goal, row: LogRow): boolean {
  if (row.type !== g.eventType) return false
  if (g.page !== null && (row.path === null || !glob(g.page, row.path))) return false
  return g.property === null || row.props?.[g.property.key] === g.property.value
}
function amount(g: Goal, row: LogRow): number {
  const text = row.props?.[g.value?.property ?? '']
  if (!g.value || text === undefined || !/^-?\d{1,15}(\.\d{1,6})?$/.test(text)) return 0
  const currency = row.props?.currency
  // in millionths, whole numbers, so the sum is exact
  return g.value.currency !== null && currency !== undefined && currency !== g.value.currency
    ? 0
    : Math.round(Number(text) * 1e6)
}

/**
 * Conversions the obvious way: each group's visitors, and each goal's converting ones, as sets
 * of the passing rows; values as sums in cents.
 */
function conversionsOracle(q: LogQuery, by: VisitDimension | undefined): Map<string, unknown> {
  const keep = matches(q.filters, fold)
  const groups = new Map<string, { visitors: Set<string>; converted: Set<string>[]; value: number[] }>()
  const group = (k: string) => {
    let g = groups.get(k)
    if (!g) {
      g = { visitors: new Set(), converted: GOALS.map(() => new Set()), value: GOALS.map(() => 0) }
      groups.set(k, g)
    }
    return g
  }
  for (const row of ROWS) {
    if (row.visitor === null || row.at < q.bounds[0]! || row.at >= q.bounds.at(-1)! || !keep(row)) continue
    // grouped by a visit dimension, the total is of the rows in some group
    const keys = ['total']
    if (by === undefined) {
      let b = 0
      while (q.bounds[b + 1]! <= row.at) b++
      keys.push(String(b))
    } else if (row.visit?.[by] != null) keys.push(row.visit[by]!)
    else continue
    for (const k of keys) {
      const g = group(k)
      g.visitors.add(row.visitor)
      GOALS.forEach((goal, i) => {
        if (!completes(goal, row)) return
        g.converted[i]!.add(row.visitor!)
        g.value[i]! += amount(goal, row)
      })
    }
  }
  return new Map(
    [...groups].map(([k, g]) => [
      k,
      {
        visitors: g.visitors.size,
        converted: g.converted.map((s) => s.size),
        value: g.value.map((v) => (Math.sign(v) * Math.round(Math.abs(v) / 1e4)) / 100 || 0),
      },
    ]),
  )
}

/** The metric's answer in the oracle's shape. */
function asOracle(c: ConversionCounts<number | string>): Map<string, unknown> {
  const shape = (x: { visitors: number; converted: number[]; value: bigint[] }) => ({
    visitors: x.visitors,
    converted: x.converted,
    value: x.value.map(fromMicros),
  })
  const out = new Map<string, unknown>()
  if (c.total.visitors > 0) out.set('total', shape(c.total))
  for (const [k, g] of c.groups) out.set(String(k), shape(g))
  return out
}

describe('filters in SQL and in JavaScript', () => {
  test(`agree on random rows and filters (seed ${SEED})`, async () => {
    let nonEmpty = 0
    let filtered = 0
    let converting = 0
    let currencies = 0
    let fromVisitRows = 0
    const QUERIES = 150
    for (let i = 0; i < QUERIES; i++) {
      const filters = drawFilters()
      const bounds = drawBounds()
      const q: LogQuery = { site: 0, filters, bounds, fold }
      const what = { i, filters, from: new Date(bounds[0]!), buckets: bounds.length - 1 }
      const eventType = r.next() < 0.3 ? r.pick(ALL_TYPES) : undefined
      const counted = await threeWays(events, { ...q, eventType }, what)
      await threeWays(events, q, what)
      const byType = await threeWays(eventTypes, q, what)
      // every type's counts are those events gives for the type
      for (const [type, counts] of byType) expect(counts).toEqual(events.ofRows({ ...q, eventType: type }, ROWS))
      const visitCounts = await threeWays(visits, q, what)
      // visit quality counts the visits visits counts
      expect((await threeWays(visitQuality, q, what)).map((b) => b.visits)).toEqual(visitCounts)
      await threeWays(visitors, q, what)
      // conversions of every goal, by bucket and by a visit dimension's value, against the oracle
      const converted = await threeWays(conversions, { ...q, goals: GOALS }, what)
      expect({ what, converted: asOracle(converted) }).toEqual({ what, converted: conversionsOracle(q, undefined) })
      const groupBy = r.pick(VISIT_DIMENSIONS)
      const convertedBy = await threeWays(conversionsBy, { ...q, goals: GOALS, by: groupBy }, { ...what, groupBy })
      expect({ what, groupBy, convertedBy: asOracle(convertedBy) }).toEqual({
        what,
        groupBy,
        convertedBy: conversionsOracle(q, groupBy),
      })
      if (converted.total.converted.some((n) => n > 0)) converting++
      // conversions by a visit dimension with visit filters alone read the visits' rows
      if (splitFilters(filters).event.length === 0 && convertedBy.total.converted.some((n) => n > 0)) fromVisitRows++
      if (converted.total.value[GOALS.length - 2] !== converted.total.value[GOALS.length - 3]) currencies++
      // visit quality by the value of a visit dimension: its visits are the top's counts of that value
      const by = r.pick(VISIT_DIMENSIONS)
      const byValue = await threeWays(visitQualityBy(by), q, { ...what, by })
      const ranks = top.ofRows({ ...q, dimension: by, limit: 1000 }, ROWS).items
      expect(new Map([...byValue].map(([k, v]) => [k, v.visits]))).toEqual(new Map(ranks.map((i) => [i.name, i.count])))
      const dimension = r.pick(TOP_DIMENSIONS)
      const topQuery: TopQuery = {
        ...q,
        dimension,
        limit: 1 + r.int(8),
        ...(dimension.startsWith('prop:') && r.next() < 0.5 ? { eventType: r.pick(ALL_TYPES) } : {}),
      }
      const ranked = await threeWays(top, topQuery, { ...what, dimension, limit: topQuery.limit })
      if (eventTopDimensions(PROP_KEYS).includes(dimension)) {
        // the one pass of every event dimension gives the same top, whole and split
        const whole = await readLog(all, eventTops(PROP_KEYS), q)
        expect({ what, shared: topOfEventTops(topQuery, PROP_KEYS, whole) }).toEqual({ what, shared: ranked })
        const p = new SqlParams(0)
        const res = await split.query(`SELECT ${eventTops(PROP_KEYS).sql(q, p, null)} AS stored`, p.values)
        const stored = (res.rows[0] as { stored: EventTopsStored }).stored
        expect({ what, split: topOfEventTops(topQuery, PROP_KEYS, { stored, rows: PENDING }) }).toEqual({
          what,
          split: ranked,
        })
      }
      if (sum(counted) > 0 && ranked.items.length > 0) nonEmpty++
      if (filters.length > 0 && sum(events.ofRows(q, ROWS)) < sum(events.ofRows({ ...q, filters: [] }, ROWS)))
        filtered++
    }
    // the draws are not vacuous: many answers are non-empty, and many filters take rows out
    expect(nonEmpty).toBeGreaterThan(QUERIES / 4)
    expect(filtered).toBeGreaterThan(QUERIES / 4)
    expect(converting).toBeGreaterThan(QUERIES / 4)
    expect(fromVisitRows).toBeGreaterThan(QUERIES / 8)
    // and the currency of a value is tested: the euros differ from all downloads' value
    expect(currencies).toBeGreaterThan(QUERIES / 10)
  }, 120_000)

  test('a filter that matches everything gives what no filter gives: the counters’ numbers', async () => {
    const bounds = bucketsOf('day', '2026-11-25', '2026-11-30', 'Europe/Berlin').bounds
    const none: LogQuery = { site: 0, filters: [], bounds, fold }
    const inRange = ROWS.filter((row) => row.at >= bounds[0]! && row.at < bounds.at(-1)!)
    const expected = {
      events: sum(await readLog(all, events, none)),
      visits: sum(await readLog(all, visits, none)),
      visitors: (await readLog(all, visitors, none)).total,
      top: await readLog(all, top, { ...none, dimension: 'source', limit: 5 }),
      pages: await readLog(all, top, { ...none, dimension: 'page', limit: 5 }),
    }
    // with no filter: every row, every row that began a visit, every visitor
    expect(expected.events).toBe(inRange.length)
    expect(expected.visits).toBe(inRange.filter((row) => row.began).length)
    expect(expected.visitors).toBe(new Set(inRange.flatMap((row) => (row.visitor ? [row.visitor] : []))).size)
    expect(expected.top.total).toBe(expected.visits)
    for (const dimension of FILTER_DIMENSIONS) {
      for (const f of [
        { op: 'is_not', dimension, values: [dimension === 'event_type' ? 'subscription_canceled' : 'nobody has this'] },
        { op: 'contains_not', dimension, values: ['nobody has this'] },
      ] as Filter[]) {
        const q: LogQuery = { site: 0, filters: [f], bounds, fold }
        const got = {
          events: sum(await threeWays(events, q, f)),
          visits: sum(await threeWays(visits, q, f)),
          visitors: (await threeWays(visitors, q, f)).total,
          top: await threeWays(top, { ...q, dimension: 'source', limit: 5 }, f),
          pages: await threeWays(top, { ...q, dimension: 'page', limit: 5 }, f),
        }
        expect({ f, got }).toEqual({ f, got: expected })
      }
    }
  }, 60_000)
})
