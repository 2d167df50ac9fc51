/**
 * Where the event log is kept, behind one small interface: the flush writes through it, retention
 * drops through it, and another store (a column store) could stand beside the Postgres one
 * (postgres.ts) without the flusher knowing. Filtered reads of the log will be added to this
 * interface by the module that answers them.
 *
 * The flush calls `prepare` before its transaction (a partition is DDL, which must not hold the
 * transaction's locks or fail it), then `write` inside it, on its client, so the rows commit or
 * roll back with the batch id that makes them exactly-once: `write` does not deduplicate.
 *
 * @example
 * await store.prepare(rows)
 * await client.query('BEGIN')
 * // … the batch id into analytics_flush_log, the counters …
 * await store.write(client, rows)
 * await client.query('COMMIT')
 * await store.dropBefore('2025-11-01') // ['2025-10-30', '2025-10-31']
 */
import type { PoolClient } from '@neondatabase/serverless'
import type { LogRow } from './row.ts'

export interface EventStore {
  /** outside the flush transaction: makes sure the rows' days can be written (partitions) */
  prepare(rows: readonly LogRow[]): Promise<void>
  /** inside the flush's transaction, on its client: writes the rows in bulk; returns how many */
  write(client: PoolClient, rows: readonly LogRow[]): Promise<number>
  /** drops whole UTC days before `day` (YYYY-MM-DD); returns the days dropped, in order */
  dropBefore(day: string): Promise<string[]>
}
