/**
 * Filtered reads of the event log at a dashboard's scale: `bun bench/filters.ts` fills a fresh
 * database with 3,000,000 rows over 30 daily partitions (300,000 visits of ten rows, one row in
 * twenty a server event of no visit; 300 sources, 1,000 pages, 50 features, a property on 30% of
 * rows), then times each filtered metric over the 30 days by day, as a read sends it (one
 * statement through the pool). Then it adds the index proposed for visit-level reads
 * ({@link BEGAN_INDEX}) and times them all again. BENCH_LOG_ROWS sets the row count; BENCH_JIT=on
 * leaves Postgres' JIT on (it made every statement here slower); BENCH_WORK_MEM sets work_mem
 * (the service's DATABASE_WORK_MEM default when absent); BENCH_EXPLAIN=1 prints each plan.
 */

import { cpus } from 'node:os'
import { join } from 'node:path'
import type { Pool } from '@neondatabase/serverless'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/pool.ts'
import {
  bucketsOf,
  events,
  type Filter,
  type LogMetric,
  type LogQuery,
  probeCaseFold,
  top,
  visitors,
  visits,
} from '../src/filters/index.ts'
import { SqlParams } from '../src/read/sql.ts'
import { addDays, daysBetween } from '../src/time.ts'
import { benchServices } from './lib.ts'

/**
 * Rows that begin a visit, with every visit dimension: a visit-level read (visits, top of a
 * visit dimension, with visit filters only) is then an index-only scan of a tenth of the rows.
 */
const BEGAN_INDEX = `CREATE INDEX analytics_events_began ON analytics_events (at)
  INCLUDE (visit_id, source, utm_source, utm_medium, utm_campaign, entry_page, browser, os, device, country, visit_hostname)
  WHERE began`

const ROWS = Number(process.env.BENCH_LOG_ROWS ?? 3_000_000)
const RUNS = 5
export const FROM = '2026-11-01'
export const TO = '2026-11-30'

/**
 * Fills `analytics_events` with `rows` rows over the 30 days from FROM (partitions made here):
 * 300,000 visits of ten rows for 3M, one row in twenty a server event of no visit.
 */
export async function fillLog(pool: Pool, rows: number): Promise<void> {
  for (const day of daysBetween(FROM, TO)) {
    await pool.query(
      `CREATE TABLE IF NOT EXISTS analytics_events_${day.replaceAll('-', '')} PARTITION OF analytics_events
       FOR VALUES FROM ('${day}') TO ('${addDays(day, 1)}')`,
    )
  }
  // visit v has rows 10v..10v+9, spread over the 30 days; its values are hashes of v, so every row
  // of a visit carries the same ones; a row in twenty is a server event instead
  await pool.query(
    `INSERT INTO analytics_events (at, visit_id, visitor, began, event_type, path, feature, source, utm_source,
       utm_medium, utm_campaign, entry_page, browser, os, device, country, visit_hostname, props)
     SELECT at, CASE WHEN server THEN NULL ELSE v END, CASE WHEN server THEN NULL ELSE visitor END,
       i = 0 AND NOT server, type,
       CASE WHEN type = 'page_view' THEN '/page/' || ((hr % 1000) * (hr % 1000) / 1000) END,
       CASE WHEN type = 'feature_used' THEN 'feature-' || hr % 50 END,
       CASE WHEN NOT server THEN CASE WHEN hv % 3 = 0 THEN 'Google' ELSE 'source-' || hv % 300 END END,
       CASE WHEN NOT server AND hv % 10 < 3 THEN 'newsletter-' || hv % 7 END,
       CASE WHEN NOT server AND hv % 10 < 3 THEN 'email' END,
       CASE WHEN NOT server AND hv % 10 < 3 THEN 'Campaign ' || hv % 20 END,
       CASE WHEN NOT server THEN '/page/' || hv % 1000 END,
       CASE WHEN NOT server THEN 'browser-' || hv % 6 END,
       CASE WHEN NOT server THEN 'os-' || hv % 6 END,
       CASE WHEN NOT server THEN (ARRAY['desktop', 'mobile', 'tablet'])[1 + hv % 3] END,
       CASE WHEN NOT server THEN 'C' || hv % 50 END,
       CASE WHEN NOT server THEN (ARRAY['shop.example.com', 'blog.example.com', 'example.com'])[1 + hv % 3] END,
       CASE WHEN hr % 10 < 3 THEN jsonb_build_object('plan', (ARRAY['free', 'pro', 'team'])[1 + hr % 3]) END
     FROM (
       SELECT g / 10 AS v, g % 10 AS i, g % 20 = 19 AS server, hashint8(g / 10)::bigint & 2147483647 AS hv, hashint8(g)::bigint & 2147483647 AS hr,
         (hashint8(g / 10 % 150000)::bigint << 32) | (hashint8(g / 10 % 150000 + 1)::bigint & 4294967295) AS visitor,
         $1::timestamptz + make_interval(secs => (g / 10) * (30 * 86400.0 / ($2 / 10)) + g % 10 * 40) AS at,
         CASE WHEN g % 20 = 19 THEN 'user_login' WHEN g % 10 = 0 THEN 'page_view'
           WHEN (hashint8(g)::bigint & 2147483647) % 100 < 70 THEN 'page_view' WHEN (hashint8(g)::bigint & 2147483647) % 100 < 85 THEN 'feature_used'
           ELSE 'asset_downloaded' END AS type
       FROM generate_series(0, $2 - 1) g) s
     WHERE at < $3::timestamptz`,
    [`${FROM}T00:00:00Z`, rows, `${addDays(TO, 1)}T00:00:00Z`],
  )
  await pool.query('VACUUM ANALYZE analytics_events')
}

if (import.meta.main) {
  const services = await benchServices()
  const db = await openDatabase(services.databaseUrl, { max: 1 })
  const pool = db.pool
  try {
    // the migrations made it (sql/006): the first pass times the reads without it
    await pool.query('DROP INDEX IF EXISTS analytics_events_began')
    const filled = Date.now()
    await fillLog(pool, ROWS)
    console.log(`filled ${ROWS} rows in ${((Date.now() - filled) / 1000).toFixed(0)} s`)
    if (process.env.BENCH_JIT !== 'on') await pool.query('SET jit = off')

    const fold = await probeCaseFold(pool)
    const { bounds } = bucketsOf('day', FROM, TO, 'UTC')
    const is = (dimension: Filter['dimension'], ...values: string[]): Filter => ({ op: 'is', dimension, values })
    const contains = (dimension: Filter['dimension'], ...values: string[]): Filter => ({
      op: 'contains',
      dimension,
      values,
    })
    const google = is('source', 'Google')
    const page = is('page', '/page/7')
    const cases: [string, LogMetric<LogQuery, unknown, unknown, unknown>, Filter[], object?][] = [
      ['events', events, []],
      ['events', events, [google]],
      ['events', events, [contains('page', 'PAGE/1')]],
      ['events', events, [is('prop:plan', 'pro')]],
      ['events', events, [google, is('device', 'mobile'), contains('page', '/page/1')]],
      ['visits', visits, []],
      ['visits', visits, [google]],
      ['visits', visits, [page]],
      ['visits', visits, [google, contains('page', '/page/1')]],
      ['visits', visits, [{ op: 'is_not', dimension: 'page', values: ['/page/0'] }]],
      ['visitors', visitors, []],
      ['visitors', visitors, [google]],
      ['visitors', visitors, [page]],
      ['top source', top, [page], { dimension: 'source', limit: 10 }],
      ['top source', top, [], { dimension: 'source', limit: 10 }],
      ['top page', top, [google], { dimension: 'page', limit: 10 }],
      ['top prop:plan', top, [is('device', 'mobile')], { dimension: 'prop:plan', limit: 10 }],
    ]
    const results: { index: boolean; metric: string; filters: string; medianMs: number }[] = []
    // the service's DATABASE_WORK_MEM by default
    await pool.query(`SET work_mem = '${process.env.BENCH_WORK_MEM ?? loadConfig({}).databaseWorkMem}'`)
    for (const index of [false, true]) {
      if (index) {
        await pool.query(BEGAN_INDEX)
        await pool.query('VACUUM ANALYZE analytics_events')
        console.log('with the index of the rows that begin visits:')
      }
      for (const [name, metric, filters, extra] of cases) {
        const q = { filters, bounds, fold, ...extra } as LogQuery
        const p = new SqlParams()
        const sql = `SELECT ${metric.sql(q, p, metric.pending(q, []))} AS stored`
        const times: number[] = []
        for (let run = 0; run <= RUNS; run++) {
          const t = performance.now()
          await pool.query(sql, p.values)
          if (run > 0) times.push(performance.now() - t)
        }
        times.sort((a, b) => a - b)
        const medianMs = times[Math.floor(times.length / 2)]!
        const shown = filters.map((f) => `${f.dimension} ${f.op} ${f.values.join('|')}`).join(' AND ') || '(none)'
        results.push({ index, metric: name, filters: shown, medianMs })
        console.log(`${name.padEnd(14)} ${shown.padEnd(70)} ${medianMs.toFixed(1).padStart(7)} ms`)
        if (process.env.BENCH_EXPLAIN) {
          const plan = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, p.values)
          console.log((plan.rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n'))
        }
      }
    }
    const settings = await pool.query(
      `SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'jit', 'max_parallel_workers_per_gather')`,
    )
    const file = join(
      import.meta.dir,
      'results',
      `filters-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`,
    )
    await Bun.write(
      file,
      JSON.stringify({ rows: ROWS, cpus: cpus().length, settings: settings.rows, results }, null, 2),
    )
    console.log(`wrote ${file}`)
  } finally {
    await db.close()
    await services.stop()
  }
}
