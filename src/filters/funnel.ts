/**
 * Funnels: of the unique visitors who complete a funnel's first step in the period, those who go
 * on to complete each later step, in order, within a window from the first.
 *
 * A visitor reaches step k when their events that pass every filter hold a chain e1, e2 … ek
 * where ei completes step i, the times never go down (t1 ≤ t2 ≤ … ≤ tk), t1 is in the period and
 * tk − t1 ≤ window. Events of equal time may be taken in any order, and one event may stand for
 * several consecutive steps it completes (as ClickHouse's `windowFunnel`, which Plausible's
 * funnels use). Later steps may fall after the period's end, up to the window.
 *
 * One pass per visitor, over the rows that complete a step, in time order, keeps for each step the
 * latest first-step time of a chain that reaches it: a later start is always at least as good, as
 * it leaves more of the window. In SQL that is one running `max` per step over the visitor's rows
 * ordered by time (its frame takes in rows of the same time, as ties may go either way); no join.
 *
 * Distinct visitors do not add up across Postgres and the pending rows, so the SQL is sent the
 * pending rows that complete a step, as (visitor, time, steps) triples, and counts the union. A
 * triple sent twice (a snapshot Postgres has committed already) changes nothing: a chain needs an
 * event at a time, not a number of them.
 *
 * @example
 * const f = await readLog(pool, funnel, { filters, bounds: [from, to], steps, windowMs: 86_400_000 }, pendingRows)
 * f.reached // visitors at each step: [120, 48, 9]
 */
import { type Goal, goalSql, goalTest } from '../goals/goal.ts'
import type { LogRow } from '../log/row.ts'
import { matches } from './match.ts'
import { foldOf, type LogMetric, type LogQuery, rangeOf, rangeSql, visitorKey } from './query.ts'
import { whereSql } from './where.ts'

export const MIN_STEPS = 2
export const MAX_STEPS = 8
export const MINUTE_MS = 60_000
export const MIN_WINDOW_MS = MINUTE_MS
export const MAX_WINDOW_MS = 30 * 1440 * MINUTE_MS
export const DEFAULT_WINDOW_MS = 1440 * MINUTE_MS

export interface FunnelQuery extends LogQuery {
  /** the steps in order ({@link MIN_STEPS} to {@link MAX_STEPS}); bounds is the period of first steps */
  steps: readonly Goal[]
  /** how long after a visitor's first step the last may come */
  windowMs: number
}

export interface FunnelCounts {
  /** per step: the unique visitors who reached it */
  reached: number[]
}

/** What a step-matching row is to the pass: its visitor, time and steps (bit i for step i). */
interface Mark {
  visitor: string
  at: number
  mask: number
}

/** The range rows are read over: first steps in the period, later ones up to the window after. */
const readRange = (q: FunnelQuery): LogQuery => ({ ...q, bounds: [q.bounds[0]!, q.bounds.at(-1)! + q.windowMs] })

/** The rows that pass, have a visitor, fall in the read range and complete a step. */
function marks(q: FunnelQuery, rows: readonly LogRow[]): Mark[] {
  const keep = matches(q.filters, foldOf(q))
  const tests = q.steps.map(goalTest)
  const [from, end] = readRange(q).bounds as [number, number]
  const out: Mark[] = []
  for (const row of rows) {
    if (row.visitor === null || row.at < from || row.at >= end) continue
    let mask = 0
    for (let i = 0; i < tests.length; i++) if (tests[i]!(row)) mask |= 1 << i
    if (mask !== 0 && keep(row)) out.push({ visitor: row.visitor, at: row.at, mask })
  }
  return out
}

/**
 * The pass over one visitor's marks, sorted by time: how many steps they reach. `best[i]` is the
 * latest start of a chain that reaches step i so far; marks of one time are taken step by step,
 * so that a step may build on any of them.
 */
export function stepsReached(q: FunnelQuery, sorted: readonly Mark[]): number {
  const periodEnd = q.bounds.at(-1)!
  const n = q.steps.length
  const best = new Array<number>(n).fill(Number.NEGATIVE_INFINITY)
  let i = 0
  while (i < sorted.length) {
    const at = sorted[i]!.at
    let mask = 0
    for (; i < sorted.length && sorted[i]!.at === at; i++) mask |= sorted[i]!.mask
    for (let s = 0; s < n; s++) {
      if ((mask & (1 << s)) === 0) continue
      const start = s === 0 ? (at < periodEnd ? at : Number.NEGATIVE_INFINITY) : best[s - 1]!
      if (at - start <= q.windowMs && start > best[s]!) best[s] = start
    }
  }
  let reached = 0
  while (reached < n && best[reached]! > Number.NEGATIVE_INFINITY) reached++
  return reached
}

/** Visitors per step from each visitor's steps reached. */
function tally(steps: number, reachedOf: Iterable<number>): FunnelCounts {
  const reached = new Array<number>(steps).fill(0)
  for (const r of reachedOf) for (let s = 0; s < r; s++) reached[s]!++
  return { reached }
}

interface Pending {
  visitors: string[]
  at: string[]
  masks: number[]
}

/** `[visitors at step 1, at step 2, …]` */
type Stored = (number | string)[]

export const funnel: LogMetric<FunnelQuery, Pending, Stored, FunnelCounts> = {
  pending(q, rows) {
    const out: Pending = { visitors: [], at: [], masks: [] }
    for (const m of marks(q, rows)) {
      out.visitors.push(visitorKey(m.visitor))
      out.at.push(new Date(m.at).toISOString())
      out.masks.push(m.mask)
    }
    return out
  },
  sql(q, p, pending) {
    const n = q.steps.length
    if (n < MIN_STEPS || n > MAX_STEPS) throw new Error(`a funnel has ${MIN_STEPS} to ${MAX_STEPS} steps`)
    const param = (v: unknown) => p.add(v)
    const conditions = q.steps.map((g) => goalSql(g, param))
    const mask = conditions.map((c, i) => `CASE WHEN ${c} THEN ${1 << i} ELSE 0 END`).join(' | ')
    const window = `${p.add(q.windowMs)}::bigint * interval '1 millisecond'`
    const periodEnd = `${p.add(new Date(q.bounds.at(-1)!).toISOString())}::timestamptz`
    // s0: the row's own time when it is a first step in the period; s(i): on a row of step i, the
    // latest s(i-1) of the visitor's rows up to its time (ties included), when within the window.
    // r(i): the visitor has a row with s(i), read on their last row (`last`), where the running
    // bool_or has seen every row of theirs. Level i needs only the rows of steps i-1 and later,
    // and the last row, which carries the r's: the first level passes over every row, the later
    // ones over few (a level is a pass over its rows, each about as costly as the sort).
    const within = (i: number) => `at - max(s${i - 1}) OVER w <= ${window}`
    const flags = (i: number) => Array.from({ length: i }, (_, j) => `, r${j}`).join('')
    let levels = `SELECT v, at, m, lead(at) OVER w IS NULL AS last, s0, bool_or(s0 IS NOT NULL) OVER w AS r0,
        CASE WHEN m & 2 <> 0 AND ${within(1)} THEN max(s0) OVER w END AS s1
      FROM (SELECT v, at, m, CASE WHEN m & 1 <> 0 AND at < ${periodEnd} THEN at END AS s0 FROM e) l0
      WINDOW w AS (PARTITION BY v ORDER BY at)`
    for (let i = 2; i < n; i++) {
      levels = `SELECT v, at, m, last${flags(i - 1)}, bool_or(s${i - 1} IS NOT NULL) OVER w AS r${i - 1},
          CASE WHEN m & ${1 << i} <> 0 AND ${within(i)} THEN max(s${i - 1}) OVER w END AS s${i}
        FROM (${levels}) l${i - 1} WHERE m >> ${i - 1} <> 0 OR last WINDOW w AS (PARTITION BY v ORDER BY at)`
    }
    const reached = `SELECT last${flags(n - 1)}, bool_or(s${n - 1} IS NOT NULL) OVER w AS r${n - 1}
      FROM (${levels}) l${n - 1} WHERE m >> ${n - 1} <> 0 OR last WINDOW w AS (PARTITION BY v ORDER BY at)`
    const counts = Array.from({ length: n }, (_, i) => `count(*) FILTER (WHERE r${i})`).join(', ')
    return `(WITH e AS (
        SELECT visitor AS v, at, ${mask} AS m FROM analytics_events
        WHERE ${rangeSql(readRange(q), p)} AND visitor IS NOT NULL AND (${conditions.join(' OR ')})
          AND ${whereSql(q.filters, p, foldOf(q), rangeOf(readRange(q)))}
        UNION ALL
        SELECT * FROM unnest(${p.add(pending.visitors)}::bigint[], ${p.add(pending.at)}::timestamptz[], ${p.add(pending.masks)}::int[]))
      SELECT json_build_array(${counts}) FROM (${reached}) f WHERE last)`
  },
  finish: (_q, stored) => ({ reached: stored.map(Number) }),
  ofRows(q, rows) {
    const byVisitor = new Map<string, Mark[]>()
    for (const m of marks(q, rows)) {
      const list = byVisitor.get(m.visitor)
      if (list) list.push(m)
      else byVisitor.set(m.visitor, [m])
    }
    const reached = [...byVisitor.values()].map((list) =>
      stepsReached(
        q,
        list.sort((a, b) => a.at - b.at),
      ),
    )
    return tally(q.steps.length, reached)
  },
}
