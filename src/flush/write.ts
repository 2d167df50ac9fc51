/**
 * Writes one snapshot to Postgres in one transaction, together with its batch id in
 * `analytics_flush_log`. The batch id is unique, so a snapshot that was already written (by a
 * flusher that died before deleting it from Redis, or by a concurrent flusher) is detected
 * inside the transaction and nothing is applied twice. Every table gets one multi-row upsert.
 */
import type { Pool, PoolClient } from '@neondatabase/serverless'
import type { Rows } from './rows.ts'

export type WriteResult = 'applied' | 'duplicate'

/** Test-only pause points, so a crash can be injected between the steps of a flush. */
export type FlushStep = 'moved' | 'in-transaction' | 'committed'
export type StepHook = (step: FlushStep, batchId: string) => void | Promise<void>

const UPSERTS = {
  daily: `INSERT INTO analytics_daily AS t (event_type, date, count)
    SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[])
    ON CONFLICT (event_type, date) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  hourly: `INSERT INTO analytics_hourly AS t (event_type, hour, count)
    SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[])
    ON CONFLICT (event_type, hour) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  user: `INSERT INTO analytics_user_daily AS t (user_id, event_type, date, count)
    SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[])
    ON CONFLICT (user_id, event_type, date) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  users: `INSERT INTO analytics_users AS t (user_id, first_seen)
    SELECT user_id, min(date) FROM unnest($1::text[], $2::date[]) AS u(user_id, date)
    GROUP BY user_id ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET first_seen = least(t.first_seen, EXCLUDED.first_seen)
    WHERE EXCLUDED.first_seen < t.first_seen`,
  feature: `INSERT INTO analytics_feature_daily AS t (event_type, feature_name, date, count)
    SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[])
    ON CONFLICT (event_type, feature_name, date) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  page: `INSERT INTO analytics_page_daily AS t (path, date, count)
    SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[])
    ON CONFLICT (path, date) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  // An estimate of the whole day, not a delta: keep the larger one (the HyperLogLog only grows,
  // and once it has expired a re-read must not overwrite the stored value with 0).
  visitors: `INSERT INTO analytics_visitors_daily AS t (date, visitors)
    SELECT * FROM unnest($1::date[], $2::bigint[])
    ON CONFLICT (date) DO UPDATE SET visitors = greatest(t.visitors, EXCLUDED.visitors), updated_at = now()`,
}

async function upserts(c: PoolClient, rows: Rows, visitors: Map<string, number>): Promise<void> {
  const { daily, hourly, user, feature, page } = rows
  if (daily.day.length) await c.query(UPSERTS.daily, [daily.type, daily.day, daily.count])
  if (hourly.hour.length) await c.query(UPSERTS.hourly, [hourly.type, hourly.hour, hourly.count])
  if (user.user.length) {
    await c.query(UPSERTS.user, [user.user, user.type, user.day, user.count])
    await c.query(UPSERTS.users, [user.user, user.day])
  }
  if (feature.feature.length)
    await c.query(UPSERTS.feature, [feature.type, feature.feature, feature.day, feature.count])
  if (page.path.length) await c.query(UPSERTS.page, [page.path, page.day, page.count])
  if (visitors.size) await c.query(UPSERTS.visitors, [[...visitors.keys()], [...visitors.values()]])
}

export interface BatchToWrite {
  batchId: string
  seq: number
  rows: Rows
  /** the day's current unique-visitor estimate for each day in rows.visitorDays */
  visitors: Map<string, number>
}

export async function writeBatch(
  pool: Pool,
  batch: BatchToWrite,
  options: { statementTimeoutMs?: number; onStep?: StepHook } = {},
): Promise<WriteResult> {
  const started = performance.now()
  const c = await pool.connect()
  let failed: Error | undefined
  try {
    await c.query('BEGIN')
    await c.query(`SET LOCAL statement_timeout = ${Math.trunc(options.statementTimeoutMs ?? 60_000)}`)
    // Taken first: a concurrent writer of the same batch waits here on the unique key, then
    // sees the committed row and applies nothing.
    const logged = await c.query(
      `INSERT INTO analytics_flush_log (batch_id, seq, counters_flushed, duration_ms)
       VALUES ($1, $2, $3, 0) ON CONFLICT (batch_id) DO NOTHING RETURNING id`,
      [batch.batchId, batch.seq, batch.rows.counters],
    )
    if (logged.rowCount === 0) {
      await c.query('ROLLBACK')
      return 'duplicate'
    }
    await upserts(c, batch.rows, batch.visitors)
    await c.query('UPDATE analytics_flush_log SET duration_ms = $2 WHERE batch_id = $1', [
      batch.batchId,
      Math.round(performance.now() - started),
    ])
    await options.onStep?.('in-transaction', batch.batchId)
    await c.query('COMMIT')
    return 'applied'
  } catch (err) {
    failed = err instanceof Error ? err : new Error(String(err))
    throw err
  } finally {
    // A connection that failed mid-transaction is discarded, not reused: Postgres rolls the
    // transaction back when it goes away.
    c.release(failed)
  }
}
