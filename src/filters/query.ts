/**
 * What every read of the log is given, and the pieces of SQL and JavaScript each metric is built
 * from: the range (the partition key, so Postgres reads only the range's days), the bucket a row
 * falls in, and the shape a metric takes to be read as Postgres part + pending part.
 *
 * @example
 * const q: LogQuery = { filters, bounds: bucketsOf('day', from, to, tz).bounds, fold }
 * const counts = await readLog(pool, events, q, pendingRows)
 */
import type { LogRow } from '../log/row.ts'
import type { SqlParams } from '../read/sql.ts'
import { bucketOf } from './buckets.ts'
import type { Filter } from './filter.ts'
import { type CaseFold, ICU_FOLD } from './fold.ts'
import { type Range, whereSql } from './where.ts'

export interface LogQuery {
  /** the site whose rows are read */
  site: number
  filters: readonly Filter[]
  /** bucket starts then the end of the last, epoch ms ascending (buckets.ts); the range is [first, last) */
  bounds: readonly number[]
  /** how `contains` folds case: the database's (probeCaseFold), ICU_FOLD when absent */
  fold?: CaseFold
}

export const foldOf = (q: LogQuery): CaseFold => q.fold ?? ICU_FOLD

/** The whole range, [first bound, last bound). */
export const rangeOf = (q: LogQuery): Range => [q.bounds[0]!, q.bounds.at(-1)!]

/** Every filter of the query on a row of `analytics_events` in its range (where.ts). */
export const filtersSql = (q: LogQuery, p: SqlParams, range: Range = rangeOf(q)): string =>
  whereSql(q.filters, p, foldOf(q), range)

/**
 * The range as a condition on the partition key, and the read's site (of the table `at` names, if
 * it names one). With the bounds as parameters of an unnamed
 * statement (every pool.query with values), Postgres plans with their values and prunes the
 * partitions outside at plan time: EXPLAIN shows only the range's days under the Append.
 */
export function rangeSql(q: LogQuery, p: SqlParams, at = 'at'): string {
  const from = new Date(q.bounds[0]!).toISOString()
  const to = new Date(q.bounds.at(-1)!).toISOString()
  const dot = at.lastIndexOf('.')
  const site = p.site(dot < 0 ? undefined : at.slice(0, dot))
  return `${at} >= ${p.add(from)}::timestamptz AND ${at} < ${p.add(to)}::timestamptz AND ${site}`
}

/** The bucket (0-based) of a row in the range: `width_bucket` finds the last bound at or before it. */
export function bucketSql(q: LogQuery, p: SqlParams, at = 'at'): string {
  if (q.bounds.length <= 2) return '0'
  return `(width_bucket(${at}, ${p.add(q.bounds.map((ms) => new Date(ms).toISOString()))}::timestamptz[]) - 1)`
}

/** Buckets counted by a statement each at most (two months of days); past it, width_bucket. */
export const MAX_SPLIT_BUCKETS = 62
/** Buckets at least this wide on average (local days, weeks, months) are worth one statement each. */
const SPLIT_MIN_WIDTH_MS = 20 * 3_600_000

/**
 * A JSON array of `[bucket, n]`: the rows of `table` (`analytics_events`, or `analytics_visits`
 * by the time `at` names) in each bucket that satisfy `where` (a condition without the range,
 * made for the range it is given: a visit filter reads the visits of those days only). Days, weeks and months are counted by a subquery each,
 * over just that bucket's range: each prunes to its one or two partitions, and a day of another
 * zone reads its hour in the next partition through the BRIN index on `at`. That costs about half
 * of one pass that computes width_bucket and hashes every row (EXPLAIN ANALYZE, 3M rows over 30
 * days: 237 ms against 452 ms). Hours are too many and too narrow for that: one pass. So is a
 * condition with a hashed subquery (`onePass`), which each bucket's statement would hash again.
 */
export function countsByBucketSql(
  q: LogQuery,
  p: SqlParams,
  where: (range: Range) => string,
  onePass = false,
  table: { name: string; at: string } = EVENTS_TABLE,
): string {
  const n = q.bounds.length - 1
  const { name, at } = table
  if (!onePass && splitsByBucket(q)) {
    const bound = q.bounds.map((ms) => p.add(new Date(ms).toISOString()))
    const counts = Array.from(
      { length: n },
      (_, i) =>
        `json_build_array(${i}, (SELECT count(*) FROM ${name}
          WHERE ${p.site()} AND ${at} >= ${bound[i]}::timestamptz AND ${at} < ${bound[i + 1]}::timestamptz
          AND ${where([q.bounds[i]!, q.bounds[i + 1]!])}))`,
    )
    return `json_build_array(${counts.join(', ')})`
  }
  return `(SELECT coalesce(json_agg(json_build_array(b, n)), '[]') FROM (
    SELECT ${bucketSql(q, p, at)} AS b, count(*) AS n FROM ${name}
    WHERE ${rangeSql(q, p, at)} AND ${where(rangeOf(q))} GROUP BY 1) x)`
}

const EVENTS_TABLE = { name: 'analytics_events', at: 'at' }

/** Whether each bucket is worth a statement of its own (see {@link countsByBucketSql}). */
export function splitsByBucket(q: LogQuery): boolean {
  const n = q.bounds.length - 1
  return n >= 1 && n <= MAX_SPLIT_BUCKETS && (q.bounds.at(-1)! - q.bounds[0]!) / n >= SPLIT_MIN_WIDTH_MS
}

/** The row's bucket, or -1 outside the range. */
export const rowBucket = (q: LogQuery, row: LogRow): number => bucketOf(q.bounds, row.at)

/**
 * A visitor hash (16 hex digits, as rows carry it) as the `visitor` column stores it: the 64
 * bits as a signed bigint, in decimal (as visit ids are). The flush stores it this way; the reads
 * compare pending visitors with stored ones in this form.
 *
 * @example
 * visitorKey('ffffffffffffffff') // '-1'
 */
export const visitorKey = (hex: string): string => BigInt.asIntN(64, BigInt(`0x${hex}`)).toString()

/** Counts per bucket from a SQL `json_agg` of `[bucket, n]` pairs. */
export function bucketCounts(q: LogQuery, pairs: readonly [number, number | string][]): number[] {
  const counts = new Array<number>(Math.max(0, q.bounds.length - 1)).fill(0)
  for (const [b, n] of pairs) if (b >= 0 && b < counts.length) counts[b]! += Number(n)
  return counts
}

/**
 * A metric over the log, read as the part Postgres holds plus the rows not in it yet:
 *
 * 1. `pending(q, rows)`: what the SQL needs to know of those rows (visit ids, visitor keys,
 *    names), so that sets that span the two parts are counted once;
 * 2. `sql(q, p, pending)`: one scalar SQL expression (its value JSON), to run alone or beside
 *    other expressions in one statement (the read's committed batch ids, say);
 * 3. `finish(q, stored, rows)`: the answer, from the expression's value and the rows.
 *
 * `pending` may be given more rows than `finish` when the extra ones are stored already (a
 * snapshot the statement saw committed): every set sent to the SQL is unioned there, never added.
 * `ofRows(q, rows)` is the answer over rows alone: what the JavaScript side means by the metric.
 */
export interface LogMetric<Q extends LogQuery, P, S, R> {
  pending(q: Q, rows: readonly LogRow[]): P
  sql(q: Q, p: SqlParams, pending: P): string
  finish(q: Q, stored: S, rows: readonly LogRow[]): R
  ofRows(q: Q, rows: readonly LogRow[]): R
}
