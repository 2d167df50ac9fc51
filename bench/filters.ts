/**
 * Filtered reads of the event log at a dashboard's scale: `bun bench/filters.ts` fills a fresh
 * database, through the log's store, with 3,000,000 rows over 30 daily partitions (300,000 visits of ten rows, one row in
 * twenty a server event of no visit; 300 sources, 1,000 pages, 50 features, a property on 30% of
 * rows), then times each filtered metric over the 30 days by day, as a read sends it (one
 * statement through the pool). BENCH_LOG_ROWS sets the row count; BENCH_JIT=on
 * leaves Postgres' JIT on (it made every statement here slower); BENCH_WORK_MEM sets work_mem
 * (the service's DATABASE_WORK_MEM default when absent); BENCH_EXPLAIN=1 prints each plan.
 */

import { cpus } from 'node:os'
import { join } from 'node:path'
import type { Pool } from '@neondatabase/serverless'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/pool.ts'
import type { EventType } from '../src/events/types.ts'
import { conversions, conversionsBy } from '../src/filters/conversions.ts'
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
import { BUILT_IN_GOALS, configuredGoal } from '../src/goals/goal.ts'
import { PostgresEventStore } from '../src/log/postgres.ts'
import { eventRow, type LogRow } from '../src/log/row.ts'
import { SqlParams } from '../src/read/sql.ts'
import { addDays } from '../src/time.ts'
import { benchServices } from './lib.ts'

const ROWS = Number(process.env.BENCH_LOG_ROWS ?? 3_000_000)
const RUNS = 5
/** A log metric's statement over the stored rows alone (no pending rows), as a read sends it. */
export function storedSql(metric: LogMetric<LogQuery, unknown, unknown, unknown>, q: LogQuery) {
  const p = new SqlParams(0)
  return { sql: `SELECT ${metric.sql(q, p, metric.pending(q, []))} AS stored`, values: p.values }
}

/** The median of `runs` times of `run`, ms, after one more that is not counted (a warm-up). */
export async function medianTime(run: () => Promise<unknown>, runs = RUNS): Promise<number> {
  const times: number[] = []
  for (let i = 0; i <= runs; i++) {
    const t = performance.now()
    await run()
    if (i > 0) times.push(performance.now() - t)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!
}

/** With BENCH_EXPLAIN set, prints the plan of `statement` as it ran (EXPLAIN ANALYZE, BUFFERS). */
export async function explainIfAsked(pool: Pool, statement: { sql: string; values: unknown[] }): Promise<void> {
  if (!process.env.BENCH_EXPLAIN) return
  const plan = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`, statement.values)
  console.log((plan.rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n'))
}

export const FROM = '2026-11-01'
export const TO = '2026-11-30'

/** A 31-bit hash of an integer (splitmix32's finalizer): the bench's values are hashes of row and visit numbers. */
function hash(n: number): number {
  let h = (n ^ 0x9e3779b9) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) & 0x7fffffff
}

/** Rows given to the store per flush-like transaction. */
const FILL_BATCH = 50_000

/**
 * Fills the event log with `rows` rows over the 30 days from FROM, through the service's own
 * store (PostgresEventStore: partitions, dictionary, events and visits, each batch in its own
 * transaction as the flush writes it): 300,000 visits of ten rows for 3M, one row in twenty a
 * server event of no visit; 300 sources (a third Google), 1,000 pages, 50 features, a property on
 * 30% of rows. Visit v's rows are 10v..10v+9, 40 s apart, and carry its values.
 */
export async function fillLog(pool: Pool, rows: number): Promise<void> {
  const store = new PostgresEventStore(pool)
  const start = Date.parse(`${FROM}T00:00:00Z`)
  const end = Date.parse(`${addDays(TO, 1)}T00:00:00Z`)
  const visits = Math.ceil(rows / 10)
  const spacing = (30 * 86_400_000) / visits
  let batch: LogRow[] = []
  const write = async () => {
    await store.prepare(batch)
    const c = await pool.connect()
    try {
      await c.query('BEGIN')
      await store.write(c, batch)
      await c.query('COMMIT')
    } finally {
      c.release()
    }
    batch = []
  }
  let visit: LogRow['visit'] = null
  for (let g = 0; g < rows; g++) {
    const v = Math.floor(g / 10)
    const i = g % 10
    const at = start + Math.floor(v * spacing) + i * 40_000
    if (at >= end) break
    const hv = hash(v)
    const hr = hash(g + 1_000_000_007)
    if (i === 0) {
      const campaign = hv % 10 < 3
      visit = {
        source: hv % 3 === 0 ? 'Google' : `source-${hv % 300}`,
        utm_source: campaign ? `newsletter-${hv % 7}` : null,
        utm_medium: campaign ? 'email' : null,
        utm_campaign: campaign ? `Campaign ${hv % 20}` : null,
        entry_page: `/page/${hv % 1000}`,
        browser: `browser-${hv % 6}`,
        os: `os-${hv % 6}`,
        device: ['desktop', 'mobile', 'tablet'][hv % 3]!,
        country: `C${hv % 50}`,
        hostname: ['shop.example.com', 'blog.example.com', 'example.com'][hv % 3]!,
      }
    }
    const server = g % 20 === 19
    const type: EventType = server
      ? 'user_login'
      : i === 0 || hr % 100 < 70
        ? 'page_view'
        : hr % 100 < 85
          ? 'feature_used'
          : 'asset_downloaded'
    const visitor =
      hash(v % 150_000)
        .toString(16)
        .padStart(8, '0') +
      hash((v % 150_000) + 1)
        .toString(16)
        .padStart(8, '0')
    batch.push({
      ...eventRow(at, type),
      path: type === 'page_view' ? `/page/${Math.floor(((hr % 1000) * (hr % 1000)) / 1000)}` : null,
      hostname: server ? null : visit!.hostname,
      feature: type === 'feature_used' ? `feature-${hr % 50}` : null,
      props: hr % 10 < 3 ? { plan: ['free', 'pro', 'team'][hr % 3]! } : null,
      visitId: server ? null : String(v + 1),
      began: i === 0 && !server,
      visitor: server ? null : visitor,
      visit: server ? null : visit,
    })
    if (batch.length === FILL_BATCH) await write()
  }
  if (batch.length > 0) await write()
  await pool.query('VACUUM ANALYZE analytics_events, analytics_visits, analytics_values')
}

if (import.meta.main) {
  const services = await benchServices()
  const db = await openDatabase(services.databaseUrl, { max: 1 })
  const pool = db.pool
  try {
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
    const whole = [bounds[0]!, bounds.at(-1)!]
    // the goals of the queries bench (bench/queries.ts)
    const CONFIGURED = [
      configuredGoal('1', { name: 'Docs', page: '/page/1*' }),
      configuredGoal('2', { name: 'Page 7', page: '/page/7' }),
      configuredGoal('3', { name: 'Pro', property: { key: 'plan', value: 'pro' } }),
    ]
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
      // the goals panel: one bucket over the 30 days; built-in goals from the visits' rows, a
      // page or property goal from the events that complete it (src/filters/conversions.ts)
      ['conversions', conversions, [], { bounds: whole, goals: BUILT_IN_GOALS }],
      ['conversions', conversions, [google], { bounds: whole, goals: BUILT_IN_GOALS }],
      ['conversions', conversions, [], { bounds: whole, goals: [...BUILT_IN_GOALS, ...CONFIGURED] }],
      ['conv. by source', conversionsBy, [], { goals: [CONFIGURED[0]!], by: 'source' }],
    ]
    const results: { metric: string; filters: string; medianMs: number }[] = []
    // the service's DATABASE_WORK_MEM by default
    await pool.query(`SET work_mem = '${process.env.BENCH_WORK_MEM ?? loadConfig({}).databaseWorkMem}'`)
    for (const [name, metric, filters, extra] of cases) {
      const statement = storedSql(metric, { site: 0, filters, bounds, fold, ...extra } as LogQuery)
      const medianMs = await medianTime(() => pool.query(statement.sql, statement.values))
      const shown = filters.map((f) => `${f.dimension} ${f.op} ${f.values.join('|')}`).join(' AND ') || '(none)'
      results.push({ metric: name, filters: shown, medianMs })
      console.log(`${name.padEnd(14)} ${shown.padEnd(70)} ${medianMs.toFixed(1).padStart(7)} ms`)
      await explainIfAsked(pool, statement)
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
