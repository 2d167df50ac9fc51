/**
 * Filtered unique visitors, exact: the distinct visitors of the rows in the range that pass every
 * filter (an event of no visit has no visitor and counts for no one), per bucket and over the
 * whole range (a visitor of two days is one visitor of the range).
 *
 * Distinct counts do not add up across Postgres and the pending rows, so the SQL is sent the
 * pending rows' distinct (bucket, visitor) pairs and counts the union of both sides: its answer
 * is the whole answer. Pending rows bounded by the log's bound make the arrays small.
 *
 * With visit filters alone (or none), the dashboard's case, Postgres's part is read from the
 * range's rows of `analytics_visits` (sql/011: each holds its visitor and the times of its first
 * and last event that day), a tenth of the events (300,000 against 3M over 30 days: 0.6 s against
 * 1.2 s here, unfiltered, by day; `bench/filters.ts`). Event filters read the events: one pass
 * over the range into a HashAggregate of (bucket, visitor), then two smaller HashAggregates over
 * that materialized set (UNION, or count(DISTINCT) which sorts, took 1.2-1.5 s).
 *
 * @example
 * const { counts, total } = await readLog(pool, visitors, { filters, bounds }, pendingRows)
 */

import { WITHOUT_VISITOR } from '../log/columns.ts'
import type { LogRow } from '../log/row.ts'
import type { SqlParams } from '../read/sql.ts'
import { splitFilters } from './filter.ts'
import { matches } from './match.ts'
import {
  bucketCounts,
  bucketSql,
  filtersSql,
  foldOf,
  type LogMetric,
  type LogQuery,
  rangeOf,
  rangeSql,
  rowBucket,
  visitorKey,
} from './query.ts'
import { visitRowsInRangeSql, visitWhereSql } from './where.ts'

export interface VisitorsPending {
  /** distinct pairs: buckets[i] and visitors[i] (visitorKey) */
  buckets: number[]
  visitors: string[]
}

export interface VisitorsStored {
  n: [number, number][]
  total: number
}

export interface VisitorCounts {
  /** the distinct visitors of each bucket */
  counts: number[]
  /** of the whole range */
  total: number
}

/** Each bucket's distinct visitors (hashes) among the rows that pass. */
function visitorSets(q: LogQuery, rows: readonly LogRow[]): Set<string>[] {
  const sets = Array.from({ length: Math.max(0, q.bounds.length - 1) }, () => new Set<string>())
  const keep = matches(q.filters, foldOf(q))
  for (const row of rows) {
    if (row.visitor === null) continue
    const b = rowBucket(q, row)
    if (b >= 0 && keep(row)) sets[b]!.add(row.visitor)
  }
  return sets
}

/**
 * Whether Postgres's part is read from the visits' rows of the range's days (sql/011): with visit
 * filters alone (or none) a row passes when its visit does, and a visit's row of a day holds its
 * visitor and the times of its first and last event that day. Buckets of a day or wider (or one):
 * hours would cut most rows, and read their events.
 */
const fromVisitRows = (q: LogQuery): boolean => {
  const n = q.bounds.length - 1
  return splitFilters(q.filters).event.length === 0 && (n <= 1 || (q.bounds.at(-1)! - q.bounds[0]!) / n >= DAY_MS)
}

const DAY_MS = 86_400_000

/**
 * `SELECT b, visitor` from the range's rows of `analytics_visits` that pass the visit filters. A
 * row's visitor has an event in the bucket of its first event and in that of its last, when they
 * are in the range. When the two are a bucket apart or in the same one, that is every bucket it has
 * an event in; when they are further apart (a range inside one UTC day, whose rows may start before
 * and end after it), or when a row of its day has no visitor and its times may be that row's
 * (WITHOUT_VISITOR), the row's events in the range say, in a pass that runs only when there is
 * such a row (its condition is a one-time filter on whether one exists).
 */
/** An instant's place in the buckets as SQL: its bucket, -1 before the range, n at or after it. */
function placeSql(q: LogQuery, p: SqlParams): (t: string) => string {
  if (q.bounds.length > 2) {
    const bounds = p.add(q.bounds.map((ms) => new Date(ms).toISOString()))
    return (t) => `(width_bucket(${t}, ${bounds}::timestamptz[]) - 1)`
  }
  const [from, to] = rangeOf(q).map((ms) => `${p.add(new Date(ms).toISOString())}::timestamptz`)
  return (t) => `(CASE WHEN ${t} < ${from} THEN -1 WHEN ${t} >= ${to} THEN 1 ELSE 0 END)`
}

function visitRowsSql(q: LogQuery, p: SqlParams): { ctes: string; stored: string } {
  const range = rangeOf(q)
  const n = q.bounds.length - 1
  const place = placeSql(q, p)
  const rows = `SELECT visit_id, visitor, ${place('first_at')} AS f, ${place('last_at')} AS l,
      types & ${WITHOUT_VISITOR} <> 0 AS mixed
    FROM analytics_visits WHERE ${visitRowsInRangeSql(range, p)}
      AND visitor IS NOT NULL AND coalesce(${visitWhereSql(q.filters, p, foldOf(q))}, false)`
  const known = `NOT mixed AND l - f <= 1`
  return {
    ctes: `r AS MATERIALIZED (${rows}), `,
    stored: `SELECT f AS b, visitor FROM r WHERE ${known} AND f >= 0
      UNION ALL SELECT l, visitor FROM r WHERE ${known} AND l < ${n} AND l <> f
      UNION ALL SELECT ${bucketSql(q, p)}, visitor FROM analytics_events
        WHERE EXISTS (SELECT 1 FROM r WHERE NOT (${known}))
          AND ${rangeSql(q, p)} AND visitor IS NOT NULL AND visit_id IN (SELECT visit_id FROM r WHERE NOT (${known}))`,
  }
}

export const visitors: LogMetric<LogQuery, VisitorsPending, VisitorsStored, VisitorCounts> = {
  pending(q, rows) {
    const out: VisitorsPending = { buckets: [], visitors: [] }
    visitorSets(q, rows).forEach((set, b) => {
      for (const v of set) {
        out.buckets.push(b)
        out.visitors.push(visitorKey(v))
      }
    })
    return out
  },
  sql(q, p, pending) {
    // one pass into one HashAggregate of (bucket, visitor) pairs, the pending ones appended; then
    // each bucket's count and the range's distinct visitors, by hashing again (not a sort)
    const { ctes, stored } = fromVisitRows(q)
      ? visitRowsSql(q, p)
      : {
          ctes: '',
          stored: `SELECT ${bucketSql(q, p)} AS b, visitor FROM analytics_events
            WHERE ${rangeSql(q, p)} AND visitor IS NOT NULL AND ${filtersSql(q, p)}`,
        }
    return `(WITH ${ctes}v AS MATERIALIZED (
        SELECT b, visitor FROM (
          ${stored}
          UNION ALL
          SELECT b, v FROM unnest(${p.add(pending.buckets)}::int[], ${p.add(pending.visitors)}::bigint[]) AS u(b, v)) a
        GROUP BY 1, 2)
      SELECT json_build_object(
        'n', (SELECT coalesce(json_agg(json_build_array(b, n)), '[]') FROM (SELECT b, count(*) AS n FROM v GROUP BY 1) x),
        'total', (SELECT count(*) FROM (SELECT visitor FROM v GROUP BY 1) y)))`
  },
  // the SQL counted the pending visitors with the stored ones
  finish: (q, stored) => ({ counts: bucketCounts(q, stored.n), total: Number(stored.total) }),
  ofRows(q, rows) {
    const sets = visitorSets(q, rows)
    const all = new Set<string>()
    for (const set of sets) for (const v of set) all.add(v)
    return { counts: sets.map((s) => s.size), total: all.size }
  },
}
