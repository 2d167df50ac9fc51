/**
 * Filtered events: the rows in the range that pass every filter (of one event type, or of all),
 * per bucket. Events add up: the stored count plus the pending rows' count.
 *
 * EXPLAIN (3M rows, 30 daily partitions): by day, a scan of each day's partition (and a BRIN
 * bitmap scan of the hour of the next one a zone's day reaches into) with the filters as its
 * Filter, no aggregate but the count; by hour, one Append of the range's partitions only under a
 * HashAggregate by bucket (countsByBucketSql).
 *
 * @example
 * const counts = await readLog(pool, events, { filters, bounds, eventType: 'page_view' }, pendingRows)
 */
import { EVENT_TYPES, type EventType } from '../events/types.ts'
import type { LogRow } from '../log/row.ts'
import type { SqlParams } from '../read/sql.ts'
import { typeCode } from './filter.ts'
import { matches } from './match.ts'
import {
  bucketCounts,
  bucketSql,
  countsByBucketSql,
  filtersSql,
  foldOf,
  type LogMetric,
  type LogQuery,
  rangeSql,
  rowBucket,
  splitsByBucket,
} from './query.ts'

export interface EventsQuery extends LogQuery {
  /** only events of this type (all types when absent) */
  eventType?: EventType
}

function ofRows(q: EventsQuery, rows: readonly LogRow[]): number[] {
  const counts = new Array<number>(Math.max(0, q.bounds.length - 1)).fill(0)
  const keep = matches(q.filters, foldOf(q))
  for (const row of rows) {
    if (q.eventType !== undefined && row.type !== q.eventType) continue
    const b = rowBucket(q, row)
    if (b >= 0 && keep(row)) counts[b]! += 1
  }
  return counts
}

/** Per bucket: the count of events in it. The total is their sum. */
export const events: LogMetric<EventsQuery, null, [number, number][], number[]> = {
  pending: () => null,
  sql(q: EventsQuery, p: SqlParams): string {
    const type = q.eventType === undefined ? '' : `event_type = ${p.add(typeCode(q.eventType))} AND `
    return countsByBucketSql(q, p, (range) => `${type}${filtersSql(q, p, range)}`)
  },
  finish(q, stored, rows) {
    const counts = bucketCounts(q, stored)
    ofRows(q, rows).forEach((n, i) => {
      counts[i]! += n
    })
    return counts
  },
  ofRows,
}

/** Per event type, per bucket: what {@link events} counts, for every type in one pass. */
export type TypeCounts = Map<EventType, number[]>

function typeCountsOfRows(q: LogQuery, rows: readonly LogRow[], into: TypeCounts = new Map()): TypeCounts {
  const keep = matches(q.filters, foldOf(q))
  const n = Math.max(0, q.bounds.length - 1)
  for (const row of rows) {
    const b = rowBucket(q, row)
    if (b < 0 || !keep(row)) continue
    let counts = into.get(row.type)
    if (!counts) {
      counts = new Array<number>(n).fill(0)
      into.set(row.type, counts)
    }
    counts[b]! += 1
  }
  return into
}

/**
 * Every event type's counts per bucket in one statement: a dashboard asks for each type's
 * series under the same filters, and one pass over the range answers them all (each by itself
 * is a pass). Split by bucket as {@link countsByBucketSql} is; the value is `[bucket, type, n]`.
 */
export const eventTypes: LogMetric<LogQuery, null, [number, string, number][], TypeCounts> = {
  pending: () => null,
  sql(q, p) {
    const triples = (range: string, bucket: string, where: string) =>
      `SELECT ${bucket} AS b, event_type, count(*) AS n FROM analytics_events WHERE ${range} AND ${where} GROUP BY 1, 2`
    let select: string
    if (splitsByBucket(q)) {
      const at = q.bounds.map((ms) => `${p.add(new Date(ms).toISOString())}::timestamptz`)
      select = at
        .slice(1)
        .map((end, i) =>
          triples(
            `${p.site()} AND at >= ${at[i]} AND at < ${end}`,
            String(i),
            filtersSql(q, p, [q.bounds[i]!, q.bounds[i + 1]!]),
          ),
        )
        .join(' UNION ALL ')
    } else select = triples(rangeSql(q, p), bucketSql(q, p), filtersSql(q, p))
    // the type's name from its code, once per group
    return `(SELECT coalesce(json_agg(json_build_array(b, (${p.add(EVENT_TYPES)}::text[])[event_type + 1], n)), '[]') FROM (${select}) t)`
  },
  finish(q, stored, rows) {
    const out: TypeCounts = new Map()
    const n = Math.max(0, q.bounds.length - 1)
    for (const [b, type, count] of stored) {
      if (b < 0 || b >= n) continue
      let counts = out.get(type as EventType)
      if (!counts) {
        counts = new Array<number>(n).fill(0)
        out.set(type as EventType, counts)
      }
      counts[b]! += Number(count)
    }
    return typeCountsOfRows(q, rows, out)
  },
  ofRows: (q, rows) => typeCountsOfRows(q, rows),
}
