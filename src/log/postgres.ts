/**
 * The event log in Postgres: `analytics_events` (sql/005_event_log.sql), partitioned by UTC day.
 * `prepare` makes the rows' days (partitions.ts), `write` inserts the rows in chunks of one
 * `INSERT … SELECT … FROM unnest(…)` each (columns.ts), `dropBefore` drops whole days.
 *
 * A partition remembered by this process but dropped by another (retention run elsewhere) makes
 * the insert fail for want of a partition. That is no fault of the rows: the days are forgotten
 * and {@link PartitionMissing} is thrown, which carries no SQLSTATE, so the flush retries the
 * batch (its `prepare` then makes the day again) instead of setting it aside.
 *
 * @example
 * const store = new PostgresEventStore(pool)
 * await store.prepare(rows)
 * const written = await store.write(client, rows) // inside the flush's transaction
 */
import type { Pool, PoolClient } from '@neondatabase/serverless'
import { chunks, INSERT_EVENTS } from './columns.ts'
import { Partitions, utcDay } from './partitions.ts'
import type { LogRow } from './row.ts'
import type { EventStore } from './store.ts'

/** The insert found no partition for a row's day: the days known here were stale. Retry the flush. */
export class PartitionMissing extends Error {
  constructor(cause: unknown) {
    super(`a day of the event log has no partition (dropped by another instance?): ${(cause as Error).message}`, {
      cause,
    })
    this.name = 'PartitionMissing'
  }
}

const DAY_MS = 86_400_000

/** Postgres's check_violation for a row no partition takes. */
const noPartition = (err: unknown): boolean => {
  const e = err as { code?: string; message?: string }
  return e.code === '23514' && /^no partition of relation/.test(e.message ?? '')
}

export class PostgresEventStore implements EventStore {
  private readonly partitions: Partitions

  constructor(
    pool: Pool,
    /** the clock whose tomorrow is made ahead by every prepare (none: only the rows' days) */
    private readonly clock?: () => number,
  ) {
    this.partitions = new Partitions(pool)
  }

  /**
   * Makes the rows' days, and tomorrow (UTC) ahead of time: a partition made at midnight would
   * take its lock on the parent table while the day's first reads wait (remembered, so one
   * statement a day).
   */
  async prepare(rows: readonly LogRow[]): Promise<void> {
    const days = new Set<string>()
    const tomorrow = this.clock && utcDay(this.clock() + DAY_MS)
    if (tomorrow !== undefined) days.add(tomorrow)
    let last = Number.NaN
    for (const row of rows) {
      // rows come in time order: most share the previous row's day
      const n = Math.floor(row.at / DAY_MS)
      if (n === last) continue
      last = n
      // an instant no partition can hold is refused by write, for its data
      const day = utcDay(row.at)
      if (day !== undefined) days.add(day)
    }
    await this.partitions.ensure(days)
  }

  async write(client: PoolClient, rows: readonly LogRow[]): Promise<number> {
    let written = 0
    for (const { params } of chunks(rows)) {
      try {
        written += (await client.query(INSERT_EVENTS, params)).rowCount ?? 0
      } catch (err) {
        if (!noPartition(err)) throw err
        this.partitions.forget()
        throw new PartitionMissing(err)
      }
    }
    return written
  }

  dropBefore(day: string): Promise<string[]> {
    return this.partitions.dropBefore(day)
  }
}
