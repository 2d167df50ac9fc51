/**
 * Filtered visits. A visit is counted, in the bucket of the row that began it, when that row is
 * in the range and passes the visit filters, and, if there are event filters, when the visit has
 * at least one row in the range that passes every filter ("visits from Google that saw
 * /pricing"). With no filters this is the count of rows that began a visit: what the visit
 * counters count.
 *
 * The Postgres part and the pending part add up, except that a visit may have begun on one side
 * and matched an event filter on the other. So the SQL is told the pending visits that matched
 * (it counts a stored visit that matched only among the pending rows) and which visits began
 * among the pending rows (it answers which of them matched among the stored rows: `adopted`).
 *
 * The visits are read from `analytics_visits`, by when they began, with their values there: the
 * events are read only for event filters. EXPLAIN with event filters: the matching visits are one
 * pass over the range's events (a HashAggregate into the materialized CTE), and the visits a scan
 * of the range's days of visits with a hashed semi-join on visit_id, never a subquery per row.
 *
 * @example
 * const counts = await readLog(pool, visits, { filters, bounds }, pendingRows)
 */
import type { LogRow } from '../log/row.ts'
import type { SqlParams } from '../read/sql.ts'
import { splitFilters } from './filter.ts'
import { matches } from './match.ts'
import { bucketCounts, countsByBucketSql, foldOf, type LogMetric, type LogQuery, rangeSql, rowBucket } from './query.ts'
import { eventWhereSql, type Range, visitDaysSql, visitValuesSql, visitWhereSql } from './where.ts'

/** What the SQL is told of the pending rows (visit ids, as decimal strings). */
export interface VisitsPending {
  /** visits with a pending row in the range that passes every filter */
  matched: string[]
  /** visits begun by a pending row in the range that passes the visit filters */
  began: string[]
}

const NONE: VisitsPending = { matched: [], began: [] }

/**
 * The rows that begin the visits counted, among `rows`: a visit counts when it matched among
 * these rows or is one of `adopted` (it matched among the stored rows).
 */
export function countedVisits(q: LogQuery, rows: readonly LogRow[], adopted: ReadonlySet<string>): LogRow[] {
  const { visit, event } = splitFilters(q.filters)
  const fold = foldOf(q)
  const visitTest = matches(visit, fold)
  let matched: Set<string> | undefined
  if (event.length > 0) {
    const allTest = matches(q.filters, fold)
    matched = new Set()
    for (const row of rows) if (row.visitId !== null && rowBucket(q, row) >= 0 && allTest(row)) matched.add(row.visitId)
  }
  return rows.filter(
    (row) =>
      row.began &&
      row.visitId !== null &&
      rowBucket(q, row) >= 0 &&
      visitTest(row) &&
      (matched === undefined || matched.has(row.visitId) || adopted.has(row.visitId)),
  )
}

export function visitsPending(q: LogQuery, rows: readonly LogRow[]): VisitsPending {
  const { visit, event } = splitFilters(q.filters)
  if (event.length === 0) return NONE
  const fold = foldOf(q)
  const allTest = matches(q.filters, fold)
  const visitTest = matches(visit, fold)
  const matched = new Set<string>()
  const began = new Set<string>()
  for (const row of rows) {
    if (row.visitId === null || rowBucket(q, row) < 0) continue
    if (allTest(row)) matched.add(row.visitId)
    if (row.began && visitTest(row)) began.add(row.visitId)
  }
  return { matched: [...matched], began: [...began] }
}

/** Where the visits counted are read: `analytics_visits` by the time they began. */
export const VISITS_TABLE = { name: 'analytics_visits', at: 'began_at' }

/**
 * The SQL of the stored visits counted: common table expressions to put in a WITH, the condition
 * (but the range of `began_at`) on a row of `analytics_visits` that is one, made for a range, and
 * an expression for `adopted` (a JSON array of visit ids). A visit passes the visit filters by its
 * own values; the event filters are tested on the events of the whole range (those of its rows
 * that have its values, or any when a row without passes the visit filters: where.ts).
 */
export function countedVisitsSql(
  q: LogQuery,
  p: SqlParams,
  pending: VisitsPending,
): { ctes: string[]; where: (range: Range) => string; adopted: string } {
  const { visit, event } = splitFilters(q.filters)
  const fold = foldOf(q)
  const began = (range: Range) => `${visitDaysSql(range, p)} AND ${visitWhereSql(visit, p, fold)}`
  if (event.length === 0) return { ctes: [], where: began, adopted: `'[]'::json` }
  // one pass over the range for the visits that matched; the semi-join below hashes them
  const m = `m AS MATERIALIZED (SELECT DISTINCT visit_id FROM analytics_events
      WHERE ${rangeSql(q, p)} AND visit_id IS NOT NULL AND ${visitValuesSql(visit)} AND ${eventWhereSql(q.filters, p, fold)})`
  const matched = p.add(pending.matched)
  return {
    ctes: [m],
    where: (range) =>
      `${began(range)} AND visit_id IN (SELECT visit_id FROM m UNION ALL SELECT unnest(${matched}::bigint[]))`,
    adopted: `(SELECT coalesce(json_agg(id::text), '[]') FROM unnest(${p.add(pending.began)}::bigint[]) AS id
      WHERE id IN (SELECT visit_id FROM m))`,
  }
}

export interface VisitsStored {
  /** [bucket, visits] */
  n: [number, number][]
  /** pending visits that matched among the stored rows */
  adopted: string[]
}

/** `WITH a, b ` for the CTEs given, nothing for none. */
export const withClause = (ctes: string[]): string => (ctes.length === 0 ? '' : `WITH ${ctes.join(', ')} `)

/** Per bucket: the visits that began in it. */
export const visits: LogMetric<LogQuery, VisitsPending, VisitsStored, number[]> = {
  pending: visitsPending,
  sql(q, p, pending) {
    const counted = countedVisitsSql(q, p, pending)
    // the semi-join's hash is built once in one pass, not once per bucket
    const n = countsByBucketSql(q, p, counted.where, counted.ctes.length > 0, VISITS_TABLE)
    return `(${withClause(counted.ctes)}SELECT json_build_object('n', ${n}, 'adopted', ${counted.adopted}))`
  },
  finish(q, stored, rows) {
    const counts = bucketCounts(q, stored.n)
    for (const row of countedVisits(q, rows, new Set(stored.adopted))) counts[rowBucket(q, row)]! += 1
    return counts
  },
  ofRows: (q, rows) => visits.finish(q, { n: [], adopted: [] }, rows),
}
