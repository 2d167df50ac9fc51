/**
 * The event log's partitions: one per UTC day, `analytics_events_YYYYMMDD` holding
 * [day 00:00 UTC, next day 00:00 UTC) of events, and `analytics_visits_YYYYMMDD` the visits with
 * events that day (partitioned by a `date`). The flush makes the days it writes; retention drops whole
 * days. Which days exist is remembered in this process, so a flush whose days are known runs no
 * DDL; the catalog is read once, on first use, and again only to settle a race.
 *
 * Two instances may make the same day at once: the loser's CREATE fails (duplicate_table, a
 * unique violation on pg_type, or an overlap with the partition just made), and it then finds the
 * day covered in the catalog and goes on. Days to drop are found in the catalog (pg_inherits and
 * each partition's bounds), never by guessing names.
 *
 * @example
 * const partitions = new Partitions(pool)
 * await partitions.ensure(['2026-12-06', '2026-12-07']) // CREATE TABLE IF NOT EXISTS … twice, then never again
 * await partitions.dropBefore('2026-12-07')             // ['2026-12-06']
 */
import type { Pool } from '@neondatabase/serverless'
import { addDays } from '../time.ts'

/** A partitioned table of the log: its name and its partition key's type. */
export interface LogTable {
  parent: string
  key: 'timestamptz' | 'date'
}

export const EVENTS: LogTable = { parent: 'analytics_events', key: 'timestamptz' }
export const VISITS: LogTable = { parent: 'analytics_visits', key: 'date' }

const DAY_MS = 86_400_000
const DAY = /^\d{4}-\d{2}-\d{2}$/

/** Instants a row may have: years 0001 to 9999, whose days are written YYYY-MM-DD. */
export const FIRST_MS = Date.parse('0001-01-01T00:00:00Z')
export const END_MS = Date.parse('+010000-01-01T00:00:00Z')

/** The UTC day of an epoch ms instant, or undefined for one outside years 0001-9999 (or NaN). */
export function utcDay(ms: number): string | undefined {
  if (!(ms >= FIRST_MS && ms < END_MS)) return undefined
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10)
}

/** `analytics_events_20261206` for 2026-12-06. */
export const partitionName = (day: string, table: LogTable = EVENTS): string =>
  `${table.parent}_${day.replaceAll('-', '')}`

/**
 * A partition of the parent with the range it holds, in epoch ms (null for MINVALUE/MAXVALUE or a
 * DEFAULT partition). Timestamptz bounds are printed in the session's time zone with its offset,
 * so casting them back is exact whatever that zone is; a date's epoch is its midnight UTC.
 */
const list = (table: LogTable) => `
  SELECT c.oid::regclass::text AS name,
         (extract(epoch FROM b[1]::${table.key}) * 1000)::float8 AS from_ms,
         (extract(epoch FROM b[2]::${table.key}) * 1000)::float8 AS to_ms
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), $re$FROM \\('([^']+)'\\) TO \\('([^']+)'\\)$re$) AS b
  WHERE i.inhparent = '${table.parent}'::regclass`

interface Partition {
  name: string
  from: number
  to: number
}

/**
 * SQLSTATEs of losing a race to make the same partition: duplicate_table, unique_violation (the
 * row type's name in pg_type), invalid_object_definition (the new range overlaps the winner's).
 */
const RACES = new Set(['42P07', '23505', '42P17'])
const CREATE_ATTEMPTS = 3

export class Partitions {
  /** days known to be covered by a partition */
  private readonly known = new Set<string>()
  private loaded = false

  constructor(
    private readonly pool: Pool,
    private readonly table: LogTable = EVENTS,
  ) {}

  /** Makes sure each day has its partition; runs nothing when every day is known. */
  async ensure(days: Iterable<string>): Promise<void> {
    let missing = [...days].filter((d) => !this.known.has(d))
    if (missing.length === 0) return
    if (!this.loaded) {
      for (const p of await this.list()) this.remember(p)
      this.loaded = true
      missing = missing.filter((d) => !this.known.has(d))
    }
    for (const day of missing.sort()) await this.create(day)
  }

  /** Drops every partition whose whole range is before `day`; returns the days they held. */
  async dropBefore(day: string): Promise<string[]> {
    checkDay(day)
    const cutoff = Date.parse(`${day}T00:00:00Z`)
    const old = (await this.list()).filter((p) => p.to <= cutoff).sort((a, b) => a.from - b.from)
    const dropped: string[] = []
    for (const p of old) {
      // one statement each: dropping a partition locks the parent, and a short lock per day
      // keeps reads and the flush waiting briefly rather than for the whole cleanup
      await this.pool.query(`DROP TABLE IF EXISTS ${p.name}`)
      dropped.push(...daysOf(p))
    }
    // another instance may have dropped days this one still remembers: none before `day` is left
    for (const d of this.known) if (d < day) this.known.delete(d)
    return dropped
  }

  /** Forgets every day, so the next `ensure` reads the catalog again (a partition went missing). */
  forget(): void {
    this.known.clear()
    this.loaded = false
  }

  private async create(day: string): Promise<void> {
    checkDay(day)
    const [from, to] =
      this.table.key === 'date' ? [day, addDays(day, 1)] : [`${day} 00:00:00+00`, `${addDays(day, 1)} 00:00:00+00`]
    const ddl = `CREATE TABLE IF NOT EXISTS ${partitionName(day, this.table)} PARTITION OF ${this.table.parent}
      FOR VALUES FROM ('${from}') TO ('${to}')`
    for (let attempt = 1; ; attempt++) {
      try {
        await this.pool.query(ddl)
        break
      } catch (err) {
        const code = (err as { code?: string }).code
        if (!RACES.has(code ?? '') || attempt === CREATE_ATTEMPTS) throw err
        if (await this.covered(day)) break
      }
    }
    this.known.add(day)
  }

  /** Whether a partition in the catalog holds the whole of `day`. */
  private async covered(day: string): Promise<boolean> {
    const from = Date.parse(`${day}T00:00:00Z`)
    return (await this.list()).some((p) => p.from <= from && p.to >= from + DAY_MS)
  }

  private async list(): Promise<Partition[]> {
    const { rows } = await this.pool.query<{ name: string; from_ms: number | null; to_ms: number | null }>(
      list(this.table),
    )
    return rows.flatMap((r) =>
      r.from_ms === null || r.to_ms === null ? [] : [{ name: r.name, from: r.from_ms, to: r.to_ms }],
    )
  }

  private remember(p: Partition): void {
    for (const d of daysOf(p)) this.known.add(d)
  }
}

/** The whole UTC days a partition holds (one for the partitions made here). */
function daysOf(p: Partition): string[] {
  const days: string[] = []
  // a range made by hand may span many days; a year of them is plenty to remember
  for (let t = Math.ceil(p.from / DAY_MS) * DAY_MS; t + DAY_MS <= p.to && days.length < 366; t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10))
  }
  return days
}

function checkDay(day: string): void {
  if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
    throw new RangeError(`not a day (YYYY-MM-DD): ${JSON.stringify(day)}`)
  }
}
