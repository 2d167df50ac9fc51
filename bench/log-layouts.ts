/**
 * The event log's disk per stored event, indexes included, and a few of the dashboard's reads on
 * it: `bun bench/log-layouts.ts` fills the log as bench/filters.ts does (3M rows over 30 days,
 * BENCH_LOG_ROWS) through the service's own store and tables (sql/009_log_layout.sql), then prints
 * each table's bytes per row (heap, indexes, TOAST: pg_total_relation_size of every partition) and
 * times the reads below as the service sends them (median of 5, JIT off, work_mem as the service sets
 * it). The two filters are a source and an OS that overlap (Google and os-3: a sixth of the
 * visits).
 *
 * The layouts this one was chosen from (text copied onto every row, a dictionary with the visit's
 * values still on every row) were measured by this bench's earlier version:
 * bench/results/log-layouts-2026-12-06T16-38-11.json.
 */
import { cpus } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/pool.ts'
import {
  bucketsOf,
  eventTops,
  eventTypes,
  type Filter,
  type LogMetric,
  type LogQuery,
  probeCaseFold,
  visitors,
  visitQuality,
  visitQualityBy,
} from '../src/filters/index.ts'
import { explainIfAsked, FROM, fillLog, medianTime, storedSql, TO } from './filters.ts'
import { benchServices } from './lib.ts'
import { logSize } from './log-store.ts'

const ROWS = Number(process.env.BENCH_LOG_ROWS ?? 3_000_000)

const services = await benchServices()
const db = await openDatabase(services.databaseUrl, {
  max: 1,
  session: { workMem: loadConfig({}).databaseWorkMem },
})
const pool = db.pool
try {
  const started = Date.now()
  await fillLog(pool, ROWS)
  console.log(`wrote ${ROWS} rows through the store in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  await pool.query('SET jit = off')
  const size = await logSize(pool)
  const sizes = {
    total: size.bytes / size.events,
    ...Object.fromEntries(size.tables.map((t) => [t.name, t.bytes / size.events])),
  }
  console.log(`bytes per row, indexes included (${size.events} events, ${size.visits} visits' rows):`)
  for (const [k, v] of Object.entries(sizes)) console.log(`  ${k.padEnd(18)} ${v.toFixed(1)}`)

  const fold = await probeCaseFold(pool)
  const { bounds } = bucketsOf('day', FROM, TO, 'UTC')
  const two: Filter[] = [
    { op: 'is', dimension: 'source', values: ['Google'] },
    { op: 'is', dimension: 'os', values: ['os-3'] },
  ]
  const whole = [bounds[0]!, bounds.at(-1)!]
  const reads: [string, LogMetric<LogQuery, unknown, unknown, unknown>, LogQuery][] = [
    ['events by type, by day, 2 filters', eventTypes, { site: 0, filters: two, bounds, fold }],
    ['visitors, by day, 2 filters', visitors, { site: 0, filters: two, bounds, fold }],
    ['top pages and features, 2 filters', eventTops([]), { site: 0, filters: two, bounds: whole, fold }],
    ['events by type, by day, no filter', eventTypes, { site: 0, filters: [], bounds, fold }],
  ]
  // visit quality (src/filters/quality.ts): from the visits' rows' aggregates with visit filters
  // alone; an event filter that every row passes reads every event grouped by visit, as every
  // quality read did before sql/010; a zone's days and `until` cut days, whose visits across the
  // cut instants are measured from their events
  const google: Filter[] = [{ op: 'is', dimension: 'source', values: ['Google'] }]
  const everyRow: Filter[] = [{ op: 'is_not', dimension: 'page', values: ['/nobody'] }]
  const ny = bucketsOf('day', FROM, TO, 'America/New_York').bounds
  const until = bounds.map((b) => Math.min(b, bounds.at(-1)! - 86_400_000 / 2 - 15 * 60_000))
  const bySource = visitQualityBy('source') as LogMetric<LogQuery, unknown, unknown, unknown>
  const quality = visitQuality as LogMetric<LogQuery, unknown, unknown, unknown>
  reads.push(
    ['bounce rate, by day, no filter', quality, { site: 0, filters: [], bounds, fold }],
    ['bounce rate, by day, source filter', quality, { site: 0, filters: google, bounds, fold }],
    ['bounce rate, by day, events pass', quality, { site: 0, filters: everyRow, bounds, fold }],
    ['bounce rate, by day, New York', quality, { site: 0, filters: [], bounds: ny, fold }],
    ['bounce rate, by day, until', quality, { site: 0, filters: [], bounds: until, fold }],
    ['top source quality, no filter', bySource, { site: 0, filters: [], bounds: whole, fold }],
    ['top source quality, source filter', bySource, { site: 0, filters: google, bounds: whole, fold }],
    ['top source quality, events pass', bySource, { site: 0, filters: everyRow, bounds: whole, fold }],
  )
  const timings: { read: string; ms: number }[] = []
  for (const [read, metric, q] of reads) {
    const statement = storedSql(metric, q)
    const ms = await medianTime(() => pool.query(statement.sql, statement.values))
    timings.push({ read, ms })
    console.log(`${read.padEnd(36)} ${ms.toFixed(0).padStart(6)} ms`)
    await explainIfAsked(pool, statement)
  }
  const file = join(
    import.meta.dir,
    'results',
    `log-layouts-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`,
  )
  await Bun.write(
    file,
    JSON.stringify({ rows: ROWS, cpus: cpus().length, visits: size.visits, sizes, timings }, null, 2),
  )
  console.log(`wrote ${file}`)
} finally {
  await db.close()
  await services.stop()
}
