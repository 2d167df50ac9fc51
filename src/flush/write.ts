/**
 * Writes one snapshot to Postgres in one transaction, together with its batch id in
 * `analytics_flush_log`. The batch id is unique, so a snapshot that was already written (by a
 * flusher that died before deleting it from Redis, or by a concurrent flusher) is detected
 * inside the transaction and nothing is applied twice. Every table gets multi-row upserts of at
 * most UPSERT_CHUNK_ROWS rows each, in key order.
 */
import type { Pool, PoolClient } from '@neondatabase/serverless'
import { mergeSets } from '../counters/hll.ts'
import type { LogRow } from '../log/row.ts'
import type { EventStore } from '../log/store.ts'
import type { Rows } from './rows.ts'

export type WriteResult = 'applied' | 'duplicate'

/**
 * A day's visitors: the bytes of its HyperLogLog (null once it has expired from Redis) and its
 * estimate. Both are the whole day, not a delta: the stored ones are replaced only by a set at
 * least as large (the set only grows while it lives, and an expired one must not erase it).
 */
export interface VisitorSet {
  hll: Buffer | null
  estimate: number
}

/** Test-only pause points, so a crash can be injected between the steps of a flush. */
export type FlushStep = 'moved' | 'in-transaction' | 'committed'
export type StepHook = (step: FlushStep, batchId: string) => void | Promise<void>

const UPSERTS = {
  daily: `INSERT INTO analytics_daily AS t (site, event_type, date, count)
    SELECT $4::smallint, * FROM unnest($1::text[], $2::date[], $3::bigint[])
    ON CONFLICT (site, event_type, date) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  quarters: `INSERT INTO analytics_quarters AS t (site, event_type, at, count)
    SELECT $4::smallint, * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[])
    ON CONFLICT (site, event_type, at) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  user: `INSERT INTO analytics_user_daily AS t (site, user_id, event_type, date, count)
    SELECT $5::smallint, * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[])
    ON CONFLICT (site, user_id, event_type, date) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  // One row per user, its earliest day already taken in rows.ts: a statement may not touch a row
  // twice, and a user's days can fall into different chunks of the per-user rows.
  users: `INSERT INTO analytics_users AS t (site, user_id, first_seen)
    SELECT $3::smallint, * FROM unnest($1::text[], $2::date[])
    ON CONFLICT (site, user_id) DO UPDATE SET first_seen = least(t.first_seen, EXCLUDED.first_seen)
    WHERE EXCLUDED.first_seen < t.first_seen`,
  feature: `INSERT INTO analytics_feature_daily AS t (site, event_type, feature_name, date, count)
    SELECT $5::smallint, * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[])
    ON CONFLICT (site, event_type, feature_name, date) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  page: `INSERT INTO analytics_page_daily AS t (site, path, date, count)
    SELECT $4::smallint, * FROM unnest($1::text[], $2::date[], $3::bigint[])
    ON CONFLICT (site, path, date) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  dimension: `INSERT INTO analytics_dimension_daily AS t (site, dimension, event_type, date, value, count)
    SELECT $6::smallint, * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::bigint[])
    ON CONFLICT (site, dimension, event_type, date, value) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  // The month's total of the same rows, in the same transaction. Rows of one month are summed
  // first: one statement may not update the same row twice.
  dimensionMonthly: `INSERT INTO analytics_dimension_monthly AS t (site, dimension, event_type, month, value, count)
    SELECT $6::smallint, dimension, event_type, date_trunc('month', date)::date, value, sum(count)
    FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::bigint[]) AS u(dimension, event_type, date, value, count)
    GROUP BY 2, 3, 4, 5 ORDER BY 2, 3, 4, 5
    ON CONFLICT (site, dimension, event_type, month, value) DO UPDATE SET count = t.count + EXCLUDED.count, updated_at = now()`,
  // An estimate of the whole day, not a delta: keep the larger one (the HyperLogLog only grows,
  // and once it has expired a re-read must not overwrite the stored value with 0).
  visitors: `INSERT INTO analytics_visitors_daily AS t (site, date, visitors, hll)
    SELECT $4::smallint, * FROM unnest($1::date[], $2::bigint[], $3::bytea[])
    ON CONFLICT (site, date) DO UPDATE SET
      visitors = greatest(t.visitors, EXCLUDED.visitors),
      hll = CASE WHEN EXCLUDED.hll IS NOT NULL AND EXCLUDED.visitors >= t.visitors THEN EXCLUDED.hll
                 ELSE coalesce(t.hll, EXCLUDED.hll) END,
      updated_at = now()`,
}

/**
 * Rows per statement. The driver sends a statement's parameters in one Bind message, one
 * WebSocket frame, so a whole snapshot in one statement would make a frame as large as the
 * snapshot. The widest row is a page's: a 512-character path is at most 1,539 bytes as a quoted
 * UTF-8 array element, plus its day and count about 1,570; 5,000 such rows make under 8 MB, half
 * of the bridge's MAX_FRAME_BYTES (src/db/bridge.ts).
 */
export const UPSERT_CHUNK_ROWS = 5_000

/**
 * Runs `sql` over `columns` (parallel arrays) in consecutive slices, keeping the rows' order; the
 * site is the statement's last parameter.
 */
async function upsert(c: PoolClient, sql: string, columns: unknown[][], site: number): Promise<void> {
  const rows = columns[0]!.length
  for (let from = 0; from < rows; from += UPSERT_CHUNK_ROWS) {
    const chunk = columns.map((column) => column.slice(from, from + UPSERT_CHUNK_ROWS))
    await c.query(sql, [...chunk, site])
  }
}

async function upserts(c: PoolClient, site: number, rows: Rows, visitors: Map<string, VisitorSet>): Promise<void> {
  const { daily, quarters, user, users, feature, page, dimension } = rows
  await upsert(c, UPSERTS.daily, [daily.type, daily.day, daily.count], site)
  await upsert(c, UPSERTS.quarters, [quarters.type, quarters.at, quarters.count], site)
  await upsert(c, UPSERTS.user, [user.user, user.type, user.day, user.count], site)
  await upsert(c, UPSERTS.users, [users.user, users.firstSeen], site)
  await upsert(c, UPSERTS.feature, [feature.type, feature.feature, feature.day, feature.count], site)
  await upsert(c, UPSERTS.page, [page.path, page.day, page.count], site)
  const dimensions = [dimension.dimension, dimension.type, dimension.day, dimension.value, dimension.count]
  await upsert(c, UPSERTS.dimension, dimensions, site)
  await upsert(c, UPSERTS.dimensionMonthly, dimensions, site)
  const sets = [...visitors.values()]
  await upsert(c, UPSERTS.visitors, [[...visitors.keys()], sets.map((s) => s.estimate), sets.map((s) => s.hll)], site)
  await mergeMonths(c, site, visitors)
}

/**
 * Adds each day's set to its month's: the month's stored set, locked, merged with the days' and
 * written back. A union only grows and adding a set twice changes nothing, so a batch replayed or
 * a day flushed again never counts a visitor twice; the row lock keeps two flushers from each
 * overwriting the other's days. Months are locked in ascending order, so two never deadlock.
 */
async function mergeMonths(c: PoolClient, site: number, visitors: Map<string, VisitorSet>): Promise<void> {
  const byMonth = new Map<string, Buffer[]>()
  for (const [day, set] of visitors) {
    if (!set.hll) continue
    const month = `${day.slice(0, 7)}-01`
    byMonth.set(month, [...(byMonth.get(month) ?? []), set.hll])
  }
  if (byMonth.size === 0) return
  const months = [...byMonth.keys()].sort()
  // a month nobody has stored yet takes the days' union as it is; when two flushers both insert
  // one, the second waits for the first and then merges into its row below
  const inserted = await c.query(
    `INSERT INTO analytics_visitors_monthly (site, month, hll)
     SELECT $3::smallint, * FROM unnest($1::date[], $2::bytea[])
     ON CONFLICT (site, month) DO NOTHING RETURNING to_char(month, 'YYYY-MM-DD') AS month`,
    [months, months.map((month) => mergeSets(byMonth.get(month)!)!), site],
  )
  const fresh = new Set((inserted.rows as { month: string }[]).map((r) => r.month))
  const existing = months.filter((month) => !fresh.has(month))
  if (existing.length === 0) return
  const stored = await c.query(
    `SELECT to_char(month, 'YYYY-MM-DD') AS month, hll FROM analytics_visitors_monthly
     WHERE site = $2 AND month = ANY($1::date[]) ORDER BY month FOR UPDATE`,
    [existing, site],
  )
  const rows = stored.rows as { month: string; hll: Buffer }[]
  await c.query(
    `UPDATE analytics_visitors_monthly AS t SET hll = u.hll, updated_at = now()
     FROM unnest($1::date[], $2::bytea[]) AS u(month, hll) WHERE t.site = $3 AND t.month = u.month`,
    [rows.map((r) => r.month), rows.map((r) => mergeSets([r.hll, ...byMonth.get(r.month)!])!), site],
  )
}

export interface BatchToWrite {
  batchId: string
  /** the site whose snapshot it is: every row written is its */
  site: number
  seq: number
  rows: Rows
  /** each day of rows.visitorDays: its visitors as they are now in Redis */
  visitors: Map<string, VisitorSet>
  /** the event log's rows of the snapshot */
  events?: readonly LogRow[]
}

export async function writeBatch(
  pool: Pool,
  batch: BatchToWrite,
  options: { statementTimeoutMs?: number; onStep?: StepHook; eventStore?: EventStore } = {},
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
    await upserts(c, batch.site, batch.rows, batch.visitors)
    if (options.eventStore && batch.events && batch.events.length > 0) await options.eventStore.write(c, batch.events)
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
