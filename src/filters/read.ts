/**
 * Runs one log metric as one statement and finishes it with the pending rows: the simple way to
 * read a metric whose pending rows are known exactly. A read that must also learn in the same
 * statement which snapshots Postgres has committed (src/read/exact.ts) puts `metric.sql(…)` in
 * its own SELECT beside them, then calls `metric.finish` with the rows that remain.
 *
 * @example
 * const counts = await readLog(pool, events, { filters, bounds }, pendingRows)
 */
import type { LogRow } from '../log/row.ts'
import { SqlParams } from '../read/sql.ts'
import type { Queryable } from './fold.ts'
import type { LogMetric, LogQuery } from './query.ts'

export async function readLog<Q extends LogQuery, P, S, R>(
  pool: Queryable,
  metric: LogMetric<Q, P, S, R>,
  q: Q,
  rows: readonly LogRow[] = [],
): Promise<R> {
  const p = new SqlParams(q.site)
  const sql = metric.sql(q, p, metric.pending(q, rows))
  const r = await pool.query(`SELECT ${sql} AS stored`, p.values)
  return metric.finish(q, (r.rows[0] as { stored: S }).stored, rows)
}
