/**
 * Other layouts of the event log, measured against today's on the same rows: `bun
 * bench/log-layouts.ts` fills `analytics_events` as bench/filters.ts does (3M rows over 30 days,
 * BENCH_LOG_ROWS), then copies them into
 *
 * - **dictionary**: every repeated string (event type, path, host, feature and the visit's
 *   values) an integer id into one table of values; the visit's values still on every row;
 * - **normalized**: the same ids, with the visit's values kept once per visit in a table of
 *   visits, and the rows keeping their visit id and visitor only.
 *
 * and prints each layout's bytes per row (heap, indexes, TOAST: pg_total_relation_size) and a few
 * of the dashboard's reads timed on each (median of 5, JIT off, work_mem as the service sets it).
 * The two filters are a source and an OS that overlap (Google and os-3: a sixth of the visits).
 */
import { cpus } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/pool.ts'
import { VISIT_DIMENSIONS } from '../src/events/types.ts'
import { daysBetween } from '../src/time.ts'
import { FROM, fillLog, TO } from './filters.ts'
import { benchServices } from './lib.ts'

const ROWS = Number(process.env.BENCH_LOG_ROWS ?? 3_000_000)
const RUNS = 5
/** The log's columns of the visit's values (the visit's host is `visit_hostname`), and of every string. */
const VISIT_COLUMNS = VISIT_DIMENSIONS.map((d) => (d === 'hostname' ? 'visit_hostname' : d))
const TEXT_COLUMNS = ['event_type', 'path', 'hostname', 'feature', ...VISIT_COLUMNS]

const services = await benchServices()
const db = await openDatabase(services.databaseUrl, {
  max: 1,
  session: { workMem: loadConfig({}).databaseWorkMem },
})
const pool = db.pool
const sizeOf = async (table: string) => {
  const r = await pool.query(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_class c
     JOIN pg_inherits i ON i.inhrelid = c.oid WHERE i.inhparent = '${table}'::regclass`,
  )
  return Number((r.rows[0] as { bytes: string }).bytes)
}
const partitions = async (table: string, column: string) => {
  for (const day of daysBetween(FROM, TO)) {
    const d = day.replaceAll('-', '')
    await pool.query(
      `CREATE TABLE ${table}_${d} PARTITION OF ${table} FOR VALUES FROM ('${day}') TO ('${day}'::date + 1)`,
    )
  }
  await pool.query(`CREATE INDEX ON ${table} USING brin (${column})`)
}
const median = async (sql: string) => {
  const times: number[] = []
  for (let run = 0; run <= RUNS; run++) {
    const t = performance.now()
    await pool.query(sql)
    if (run > 0) times.push(performance.now() - t)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!
}
try {
  const started = Date.now()
  await fillLog(pool, ROWS)
  await pool.query('VACUUM ANALYZE analytics_events')
  // one table of values for every layout but today's
  await pool.query(
    `CREATE TABLE layout_values (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, value text NOT NULL UNIQUE)`,
  )
  await pool.query(
    `INSERT INTO layout_values (value) SELECT v FROM (${TEXT_COLUMNS.map((c) => `SELECT ${c} AS v FROM analytics_events`).join(' UNION ')}) s WHERE v IS NOT NULL`,
  )
  const id = (c: string) => `(SELECT id FROM layout_values WHERE value = e.${c})`
  await pool.query(
    `CREATE TABLE layout_dictionary (at timestamptz NOT NULL, visit_id bigint, visitor bigint,
      ${TEXT_COLUMNS.map((c) => `${c} integer`).join(', ')},
      site smallint NOT NULL DEFAULT 0, began boolean NOT NULL DEFAULT false, user_id text, props jsonb) PARTITION BY RANGE (at)`,
  )
  await partitions('layout_dictionary', 'at')
  await pool.query(`CREATE INDEX ON layout_dictionary (at) INCLUDE (visit_id, ${VISIT_COLUMNS.join(', ')}) WHERE began`)
  await pool.query(
    `INSERT INTO layout_dictionary SELECT e.at, e.visit_id, e.visitor, ${TEXT_COLUMNS.map(id).join(', ')},
      e.site, e.began, e.user_id, e.props FROM analytics_events e ORDER BY e.at`,
  )
  await pool.query(
    `CREATE TABLE layout_events (at timestamptz NOT NULL, visit_id bigint, visitor bigint,
      event_type integer NOT NULL, path integer, hostname integer, feature integer,
      site smallint NOT NULL DEFAULT 0, user_id text, props jsonb) PARTITION BY RANGE (at)`,
  )
  await partitions('layout_events', 'at')
  await pool.query(
    `CREATE TABLE layout_visits (began_at timestamptz NOT NULL, visit_id bigint NOT NULL, visitor bigint NOT NULL,
      ${VISIT_COLUMNS.map((c) => `${c} integer`).join(', ')}, site smallint NOT NULL DEFAULT 0) PARTITION BY RANGE (began_at)`,
  )
  await partitions('layout_visits', 'began_at')
  await pool.query(
    `INSERT INTO layout_events SELECT at, visit_id, visitor, event_type, path, hostname, feature, site, user_id, props
     FROM layout_dictionary ORDER BY at`,
  )
  await pool.query(
    `INSERT INTO layout_visits SELECT at, visit_id, visitor, ${VISIT_COLUMNS.join(', ')}, site
     FROM layout_dictionary WHERE began ORDER BY at`,
  )
  for (const t of ['layout_dictionary', 'layout_events', 'layout_visits']) await pool.query(`VACUUM ANALYZE ${t}`)
  console.log(`filled and copied ${ROWS} rows in ${((Date.now() - started) / 1000).toFixed(0)} s`)

  const today = (await sizeOf('analytics_events')) / ROWS
  const dictionary = (await sizeOf('layout_dictionary')) / ROWS
  const events = (await sizeOf('layout_events')) / ROWS
  const visits = (await sizeOf('layout_visits')) / ROWS
  const sizes = { today, dictionary, normalized: events + visits, normalizedEvents: events, normalizedVisits: visits }
  console.log('bytes per row, indexes included:')
  for (const [k, v] of Object.entries(sizes)) console.log(`  ${k.padEnd(18)} ${v.toFixed(1)}`)

  const range = `at >= '${FROM}' AND at < '${TO}'::date + 1`
  const ids = (column: string, value: string) =>
    `${column} = ANY(ARRAY(SELECT id FROM layout_values WHERE value = '${value}'))`
  const dictWhere = `${ids('source', 'Google')} AND ${ids('os', 'os-3')}`
  // a visit's rows come after it began: a day before the range holds every visit reaching into it here
  const visitsOf = `visit_id IN (SELECT visit_id FROM layout_visits WHERE began_at >= '${FROM}'::date - 1
    AND began_at < '${TO}'::date + 1 AND ${dictWhere})`
  const reads: [string, string, string, string][] = [
    [
      'events by type, 2 filters',
      `SELECT event_type, count(*) FROM analytics_events WHERE ${range} AND source = 'Google' AND os = 'os-3' GROUP BY 1`,
      `SELECT event_type, count(*) FROM layout_dictionary WHERE ${range} AND ${dictWhere} GROUP BY 1`,
      `SELECT event_type, count(*) FROM layout_events WHERE ${range} AND ${visitsOf} GROUP BY 1`,
    ],
    [
      'visitors, 2 filters',
      `SELECT count(DISTINCT visitor) FROM analytics_events WHERE ${range} AND source = 'Google' AND os = 'os-3'`,
      `SELECT count(*) FROM (SELECT visitor FROM layout_dictionary WHERE ${range} AND ${dictWhere} GROUP BY 1) v`,
      `SELECT count(*) FROM (SELECT visitor FROM layout_events WHERE ${range} AND ${visitsOf} GROUP BY 1) v`,
    ],
    [
      'top pages, 2 filters',
      `SELECT path, count(*) FROM analytics_events WHERE ${range} AND event_type = 'page_view' AND source = 'Google' AND os = 'os-3' GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
      `SELECT path, count(*) FROM layout_dictionary WHERE ${range} AND event_type = (SELECT id FROM layout_values WHERE value = 'page_view') AND ${dictWhere} GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
      `SELECT path, count(*) FROM layout_events WHERE ${range} AND event_type = (SELECT id FROM layout_values WHERE value = 'page_view') AND ${visitsOf} GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
    ],
    [
      'events by type, no filter',
      `SELECT event_type, count(*) FROM analytics_events WHERE ${range} GROUP BY 1`,
      `SELECT event_type, count(*) FROM layout_dictionary WHERE ${range} GROUP BY 1`,
      `SELECT event_type, count(*) FROM layout_events WHERE ${range} GROUP BY 1`,
    ],
  ]
  const timings: { read: string; todayMs: number; dictionaryMs: number; normalizedMs: number }[] = []
  console.log(`\n${'read'.padEnd(28)} ${'today'.padStart(9)} ${'dictionary'.padStart(11)} ${'normalized'.padStart(11)}`)
  for (const [read, a, b, c] of reads) {
    const t = { read, todayMs: await median(a), dictionaryMs: await median(b), normalizedMs: await median(c) }
    timings.push(t)
    console.log(
      `${read.padEnd(28)} ${t.todayMs.toFixed(0).padStart(6)} ms ${t.dictionaryMs.toFixed(0).padStart(8)} ms ${t.normalizedMs.toFixed(0).padStart(8)} ms`,
    )
  }
  const file = join(
    import.meta.dir,
    'results',
    `log-layouts-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`,
  )
  await Bun.write(file, JSON.stringify({ rows: ROWS, cpus: cpus().length, sizes, timings }, null, 2))
  console.log(`wrote ${file}`)
} finally {
  await db.close()
  await services.stop()
}
