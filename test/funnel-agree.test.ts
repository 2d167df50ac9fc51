/**
 * Funnels against an oracle written the obvious way: for each visitor, every chain of their
 * events that pass the filters is enumerated (each event completing the next step, times never
 * going down, the first in the period, the last within the window of the first), and a visitor
 * reaches the longest such chain. Random histories of many visitors (pages, features, sign-ups,
 * times often equal to the minute or the millisecond, events of no visitor) are stored; for random
 * funnels, windows, periods and filters, the SQL over every row, the JavaScript over every row,
 * and Postgres part + pending part (with some stored rows sent again, as a committed snapshot's
 * are) all equal the oracle.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import type { Pool } from '@neondatabase/serverless'
import { openDatabase } from '../src/db/pool.ts'
import type { EventType } from '../src/events/types.ts'
import type { Filter } from '../src/filters/filter.ts'
import { type FunnelCounts, type FunnelQuery, funnel } from '../src/filters/funnel.ts'
import { readLog } from '../src/filters/read.ts'
import { BUILT_IN_GOALS, configuredGoal, type Goal } from '../src/goals/goal.ts'
import { eventRow, type LogRow } from '../src/log/row.ts'
import { SqlParams } from '../src/read/sql.ts'
import { visitOf } from './log-rows.ts'
import { insertLogRows, logPartitions } from './log-table.ts'
import { prng } from './prng.ts'
import { freshDatabaseUrl, testContext } from './services.ts'

const SEED = 20261207
const r = prng(SEED)
const START = Date.parse('2026-11-25T00:00:00Z')
const END = Date.parse('2026-11-30T00:00:00Z')
const MIN = 60_000
const H = 60 * MIN

const PAGES = ['/', '/pricing', '/docs/a', '/docs/b', '/signup']
const SOURCES = ['Google', '(direct)', 'Twitter']
const TYPES: EventType[] = ['page_view', 'page_view', 'page_view', 'feature_used', 'user_signup', 'asset_downloaded']

const hex16 = () => Array.from({ length: 16 }, () => r.int(16).toString(16)).join('')

function makeRows(): LogRow[] {
  const rows: LogRow[] = []
  for (let v = 0; v < 220; v++) {
    const visitor = hex16()
    const visit = visitOf({ source: r.pick(SOURCES) })
    const visitId = String(1 + r.int(1e9))
    // a visitor's events: bursts close together (ties to the minute or the ms) over a few days
    let at = START + r.int(END - START)
    for (let i = 1 + r.int(14); i > 0; i--) {
      const gap = r.pick([0, 0, 1, MIN, 5 * MIN, 40 * MIN, 3 * H, 20 * H, 30 * H])
      at = Math.min(END + 2 * 24 * H, at + (r.next() < 0.15 ? -gap : gap))
      const type = r.pick(TYPES)
      const row: LogRow = { ...eventRow(at, type), visitor, visitId, visit }
      if (type === 'page_view') row.path = r.pick(PAGES)
      if (type === 'feature_used') row.feature = r.pick(['Export', 'Share'])
      if (type === 'user_signup' && r.next() < 0.5) row.props = { plan: r.pick(['pro', 'free']) }
      rows.push(row)
    }
  }
  // events of no visitor: they never count
  for (let i = 0; i < 150; i++) rows.push(eventRow(START + r.int(END - START), r.pick(TYPES)))
  return rows
}

const ROWS = makeRows()
const STORED = ROWS.filter(() => r.next() < 0.55)
const PENDING = ROWS.filter((row) => !STORED.includes(row))
/** Another site's rows, in both databases: the reads are of site 0, which none of them may reach. */
const OTHER_SITE = makeRows().map((row) => ({ ...row, site: 7 }))

const configured = (id: string, fields: Partial<Goal>): Goal => configuredGoal(id, { name: `goal ${id}`, ...fields })

const GOALS: Goal[] = [
  ...BUILT_IN_GOALS.filter((g) => TYPES.includes(g.eventType)),
  configured('1', { page: '/pricing' }),
  configured('2', { page: '/docs/*' }),
  configured('3', { page: '/signup' }),
  configured('4', { eventType: 'feature_used', property: { key: 'feature_name', value: 'Export' } }),
  configured('5', { eventType: 'user_signup', property: { key: 'plan', value: 'pro' } }),
]

function glob(pattern: string, s: string): boolean {
  const parts = pattern.split('*')
  return new RegExp(`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`, 's').test(s)
}

/** Written from the goal's description, not from goalTest. */
function completes(g: Goal, row: LogRow): boolean {
  if (row.type !== g.eventType) return false
  if (g.page !== null && (row.path === null || !glob(g.page, row.path))) return false
  if (g.property?.key === 'feature_name') return row.feature === g.property.value
  if (g.property) return row.props?.[g.property.key] === g.property.value
  return true
}

function drawFilters(): Filter[] {
  const k = r.int(5)
  if (k === 0) return [{ op: 'is', dimension: 'source', values: [r.pick(SOURCES)] }]
  if (k === 1) return [{ op: 'is_not', dimension: 'page', values: [r.pick(PAGES)] }]
  if (k === 2) return [{ op: 'is', dimension: 'event_type', values: ['page_view', 'user_signup'] }]
  return []
}

function passes(f: Filter, row: LogRow): boolean {
  const value = f.dimension === 'source' ? (row.visit?.source ?? null) : f.dimension === 'page' ? row.path : row.type
  const hit = value !== null && f.values.includes(value)
  return f.op === 'is' ? hit : !hit
}

/** The oracle: every chain enumerated, from each first step in the period. */
function oracle(q: FunnelQuery): FunnelCounts {
  const [from, to] = [q.bounds[0]!, q.bounds.at(-1)!]
  const byVisitor = new Map<string, LogRow[]>()
  for (const row of ROWS) {
    if (row.visitor === null || !q.filters.every((f) => passes(f, row))) continue
    byVisitor.set(row.visitor, [...(byVisitor.get(row.visitor) ?? []), row])
  }
  const reached = new Array<number>(q.steps.length).fill(0)
  for (const events of byVisitor.values()) {
    let best = 0
    const extend = (start: number, prev: number, step: number) => {
      best = Math.max(best, step)
      if (step === q.steps.length) return
      for (const e of events) {
        if (e.at >= prev && e.at - start <= q.windowMs && completes(q.steps[step]!, e)) extend(start, e.at, step + 1)
      }
    }
    for (const e of events) if (e.at >= from && e.at < to && completes(q.steps[0]!, e)) extend(e.at, e.at, 1)
    for (let s = 0; s < best; s++) reached[s]!++
  }
  return { reached }
}

function drawQuery(): FunnelQuery {
  const n = 2 + r.int(4)
  const steps = Array.from({ length: n }, () => r.pick(GOALS))
  const from = START + r.int(END - START)
  const to = from + r.pick([MIN, H, 24 * H, 3 * 24 * H, 6 * 24 * H])
  const windowMs = r.pick([MIN, 10 * MIN, H, 24 * H, 3 * 24 * H])
  return { site: 0, steps, bounds: [from, to], windowMs, filters: drawFilters() }
}

let all: Pool
let split: Pool

beforeAll(async () => {
  const { db } = await testContext()
  all = db.pool
  split = (await openDatabase(await freshDatabaseUrl(), { max: 4 })).pool
  for (const [pool, rows] of [
    [all, ROWS],
    [split, STORED],
  ] as const) {
    await logPartitions(pool, '2026-11-24', '2026-12-03')
    await insertLogRows(pool, rows)
    await insertLogRows(pool, OTHER_SITE)
  }
}, 60_000)

async function splitRead(q: FunnelQuery): Promise<FunnelCounts> {
  const extra = STORED.filter(() => r.next() < 0.2)
  const p = new SqlParams(0)
  const sql = funnel.sql(q, p, funnel.pending(q, [...PENDING, ...extra]))
  const res = await split.query(`SELECT ${sql} AS stored`, p.values)
  return funnel.finish(q, (res.rows[0] as { stored: (number | string)[] }).stored, PENDING)
}

describe('funnels', () => {
  test(`agree with every chain enumerated, stored, pending or both (seed ${SEED})`, async () => {
    let reachedLast = 0
    for (let i = 0; i < 120; i++) {
      const q = drawQuery()
      const what = { i, steps: q.steps.map((s) => s.id), bounds: q.bounds, window: q.windowMs, filters: q.filters }
      const expected = oracle(q)
      expect({ what, js: funnel.ofRows(q, ROWS) }).toEqual({ what, js: expected })
      expect({ what, sql: await readLog(all, funnel, q) }).toEqual({ what, sql: expected })
      expect({ what, parts: await splitRead(q) }).toEqual({ what, parts: expected })
      if (expected.reached.at(-1)! > 0) reachedLast++
    }
    // the draws were not all empty: many funnels were completed by someone
    expect(reachedLast).toBeGreaterThan(20)
  }, 120_000)

  test('a later first step can complete a chain an earlier one could not', async () => {
    const [pricing, signup] = [GOALS.find((g) => g.id === '1')!, GOALS.find((g) => g.id === 'user_signup')!]
    const at = Date.parse('2026-12-20T10:00:00Z')
    const row = (dt: number, over: Partial<LogRow>): LogRow => ({
      ...eventRow(at + dt, 'page_view'),
      visitor: 'aaaaaaaaaaaaaaaa',
      visitId: '1',
      visit: visitOf(),
      ...over,
    })
    const rows = [
      row(0, { path: '/pricing' }),
      row(20 * H, { path: '/pricing' }),
      row(30 * H, { type: 'user_signup' }),
      // a tie: the sign-up at the very time of the second visitor's pricing page still follows it
      row(0, { visitor: 'bbbbbbbbbbbbbbbb', type: 'user_signup' }),
      row(0, { visitor: 'bbbbbbbbbbbbbbbb', path: '/pricing' }),
    ]
    const q: FunnelQuery = {
      site: 0,
      steps: [pricing, signup],
      bounds: [at, at + 24 * H],
      windowMs: 24 * H,
      filters: [],
    }
    expect(funnel.ofRows(q, rows)).toEqual({ reached: [2, 2] })
    expect(await readLog(all, funnel, { ...q, bounds: [at - 48 * H, at - 24 * H] }, rows)).toEqual({ reached: [0, 0] })
    expect(await readLog(all, funnel, q, rows)).toEqual({ reached: [2, 2] })
    // with a window of 9 hours, the second pricing page is 10 hours before the sign-up: too far
    expect(await readLog(all, funnel, { ...q, windowMs: 9 * H }, rows)).toEqual({ reached: [2, 1] })
  })
})
