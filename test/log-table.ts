/**
 * Test helpers for the event log's table: make the daily partitions a test needs (the flush
 * makes them in production; a test may want days with no rows) and insert rows as the flush
 * stores them, through its store.
 *
 * @example
 * await logPartitions(pool, '2026-11-27', '2026-11-29')
 * await insertLogRows(pool, rows)
 */
import type { Pool } from '@neondatabase/serverless'
import { PostgresEventStore } from '../src/log/postgres.ts'
import type { LogRow } from '../src/log/row.ts'
import { addDays, daysBetween } from '../src/time.ts'

/** A partition of the events and of the visits for each UTC day from `from` to `to`. */
export async function logPartitions(pool: Pool, from: string, to: string): Promise<void> {
  for (const day of daysBetween(from, to)) {
    const d = day.replaceAll('-', '')
    await pool.query(
      `CREATE TABLE IF NOT EXISTS analytics_events_${d} PARTITION OF analytics_events
       FOR VALUES FROM ('${day} 00:00:00+00') TO ('${addDays(day, 1)} 00:00:00+00')`,
    )
    await pool.query(
      `CREATE TABLE IF NOT EXISTS analytics_visits_${d} PARTITION OF analytics_visits
       FOR VALUES FROM ('${day}') TO ('${addDays(day, 1)}')`,
    )
  }
}

/** Inserts rows as the flush stores them: through the store, in a transaction of their own. */
export async function insertLogRows(pool: Pool, rows: readonly LogRow[]): Promise<void> {
  const store = new PostgresEventStore(pool)
  await store.prepare(rows)
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await store.write(client, rows)
    await client.query('COMMIT')
  } finally {
    client.release()
  }
}
