/**
 * Reads under filters: the same answers as the unfiltered reads (stats.ts, top.ts), counted from
 * the event log, exactly: the rows Postgres holds plus the rows not yet flushed, read against one
 * atomic view of Redis as every exact read is (exact.ts), so a flush never makes a row count
 * twice or not at all. A filter that matches everything gives the counters' numbers.
 *
 * @example
 * const result = await filteredStats(deps, params, filters) // a StatsResult, as stats() answers it
 */

import type { CaseFold } from '../filters/fold.ts'
import {
  bucketsOf,
  events,
  type Filter,
  type LogMetric,
  type LogQuery,
  probeCaseFold,
  top as topMetric,
  visitors as visitorsMetric,
  visits as visitsMetric,
} from '../filters/index.ts'
import { committedSql, exactRead, type ReadDeps } from './exact.ts'
import type { StatsParams, TopParams } from './params.ts'
import { SqlParams } from './sql.ts'
import type { StatsResult } from './stats.ts'
import type { TopResult } from './top.ts'

/** How the database folds case, asked once per pool (it changes only with its locale or ICU). */
const folds = new WeakMap<object, Promise<CaseFold>>()
function foldOf(deps: ReadDeps): Promise<CaseFold> {
  let fold = folds.get(deps.pool)
  if (!fold) {
    fold = probeCaseFold(deps.pool)
    folds.set(deps.pool, fold)
    fold.catch(() => folds.delete(deps.pool))
  }
  return fold
}

/**
 * One metric of the log, exactly: the SQL over the stored rows is told of every unflushed row
 * seen (pending or in a snapshot), and runs in the same statement as the check of which of those
 * snapshots are committed; the answer is finished with the rows not committed.
 */
export async function exactLogRead<Q extends LogQuery, P, S, R>(
  deps: ReadDeps,
  metric: LogMetric<Q, P, S, R>,
  q: Q,
): Promise<R> {
  const query = { ...q, fold: q.fold ?? (await foldOf(deps)) }
  const { history, rows } = await exactRead(deps.redis, deps.keys, { rows: true }, async (view) => {
    const p = new SqlParams()
    const sql = metric.sql(query, p, metric.pending(query, view.rows()))
    const r = await deps.pool.query(`SELECT ${sql} AS stored, ${committedSql(p, view.batchIds)} AS committed`, p.values)
    const row = r.rows[0] as { stored: S; committed: string[] }
    return { result: row.stored, committed: row.committed }
  })
  return metric.finish(query, history, rows)
}

/** `GET /analytics/stats` under filters: the same series, buckets and total as stats() gives. */
export async function filteredStats(deps: ReadDeps, q: StatsParams, filters: readonly Filter[]): Promise<StatsResult> {
  const buckets = bucketsOf(q.granularity, q.from, q.to, q.tz)
  // `until`: buckets after it count nothing, the one it falls in counts up to it
  const until = q.until
  const bounds = until === undefined ? buckets.bounds : buckets.bounds.map((b) => Math.min(b, until))
  let counts: number[]
  let total: number
  if (q.metric === 'visitors') {
    const answer = await exactLogRead(deps, visitorsMetric, { filters, bounds })
    counts = answer.counts
    total = answer.total
  } else {
    counts =
      q.metric === 'visits'
        ? await exactLogRead(deps, visitsMetric, { filters, bounds })
        : await exactLogRead(deps, events, { filters, bounds, eventType: q.eventType })
    total = counts.reduce((a, b) => a + b, 0)
  }
  return {
    metric: q.metric,
    event_type: q.eventType ?? null,
    granularity: q.granularity,
    tz: q.tz,
    from: q.from,
    to: q.to,
    ...(until === undefined ? {} : { until: new Date(until).toISOString() }),
    series: buckets.labels.map((t, i) => ({ t, count: counts[i] ?? 0 })),
    total,
  }
}

/** `GET /analytics/top` under filters: the same ranking and total as top() gives. */
export async function filteredTop(deps: ReadDeps, q: TopParams, filters: readonly Filter[]): Promise<TopResult> {
  const { bounds } = bucketsOf('day', q.from, q.to, q.tz)
  return exactLogRead(deps, topMetric, {
    filters,
    bounds: [bounds[0]!, bounds.at(-1)!],
    dimension: q.dimension,
    eventType: q.eventType,
    limit: q.limit,
  })
}
