/**
 * Where the event log's rows are stored, behind one small interface, so that another store (a
 * column store) can be added without touching ingest, the flush's guarantees or the reads.
 */
import type { PoolClient } from '@neondatabase/serverless'
import type { LogRow } from './row.ts'

export interface EventStore {
  /** outside the flush transaction: makes sure the rows' days can be written (partitions) */
  prepare(rows: readonly LogRow[]): Promise<void>
  /** inside the flush's transaction, on its client: writes the rows in bulk */
  write(client: PoolClient, rows: readonly LogRow[]): Promise<number>
  /** drops whole UTC days before `day` (YYYY-MM-DD); returns the days dropped */
  dropBefore(day: string): Promise<string[]>
}
