/**
 * The event log in Postgres (sql/009_log_layout.sql): `analytics_events` and `analytics_visits`,
 * both partitioned by UTC day, and the dictionary of their strings, `analytics_values`.
 * `prepare` makes the rows' days (partitions.ts) and gives the rows' strings their ids, committed
 * (values.ts); `write` inserts the rows and their visits' rows in chunks of one
 * `INSERT … SELECT … FROM unnest(…)` each (columns.ts); `dropBefore` drops whole days of both.
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
import { chunks, INSERT_EVENTS, INSERT_VISITS, logStrings, visitChunks, visitRows } from './columns.ts'
import { EVENTS, Partitions, utcDay, VISITS } from './partitions.ts'
import type { LogRow } from './row.ts'
import type { EventStore } from './store.ts'
import { LogValues } from './values.ts'

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
  private readonly visitPartitions: Partitions
  private readonly values = new LogValues()

  constructor(
    private readonly pool: Pool,
    /** the clock whose tomorrow is made ahead by every prepare (none: only the rows' days) */
    private readonly clock?: () => number,
  ) {
    this.partitions = new Partitions(pool, EVENTS)
    this.visitPartitions = new Partitions(pool, VISITS)
  }

  /**
   * Makes the rows' days, and tomorrow (UTC) ahead of time: a partition made at midnight would
   * take its lock on the parent table while the day's first reads wait (remembered, so one
   * statement a day). A visit's rows go to the days of its events, so both tables get the same
   * days. Then the rows' strings are added to the dictionary, committed before the flush's
   * transaction begins.
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
    await this.visitPartitions.ensure(days)
    await this.values.ids(this.pool, logStrings(rows))
  }

  /**
   * The rows, then their visits' rows. Every string's id was committed by `prepare`; one that is
   * not remembered any more is read again here (ids never change), and one `prepare` was not
   * given is added in this transaction, without being remembered.
   */
  async write(client: PoolClient, rows: readonly LogRow[]): Promise<number> {
    const ids = await this.values.ids(client, logStrings(rows), false)
    let written = 0
    try {
      for (const { params } of chunks(rows, ids)) written += (await client.query(INSERT_EVENTS, params)).rowCount ?? 0
      for (const { params } of visitChunks(visitRows(rows), ids)) await client.query(INSERT_VISITS, params)
    } catch (err) {
      if (!noPartition(err)) throw err
      this.partitions.forget()
      this.visitPartitions.forget()
      throw new PartitionMissing(err)
    }
    return written
  }

  /**
   * Drops the days before `day` of both tables, the events' first: a visit's row of a day is only
   * ever read with that day's events. The dictionary keeps its strings (ids are never reused).
   */
  async dropBefore(day: string): Promise<string[]> {
    const dropped = await this.partitions.dropBefore(day)
    await this.visitPartitions.dropBefore(day)
    return dropped
  }
}
