/**
 * Goals at a dashboard's scale: `bun bench/goals.ts` fills a fresh database's event log as
 * bench/filters.ts does (3,000,000 rows over 30 days, BENCH_LOG_ROWS), then times, over the 30
 * days (median of 5, as a read sends each statement, JIT off, work_mem as the service sets it):
 *
 * - the goals panel: every goal (the 11 event types and three configured ones: a page goal with a
 *   wildcard, an exact page goal and an event goal with a property condition and a value)
 *   converted in one pass, without and with a filter;
 * - the group conversion rate of one goal by source (a top's column), without and with a filter;
 * - the panel and the per-source rates together, as the dashboard sends them at once.
 *
 * Results go to bench/results/goals-<time>.json.
 */
import { cpus } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/pool.ts'
import { conversions, conversionsBy } from '../src/filters/conversions.ts'
import { bucketsOf, type Filter, type LogQuery, probeCaseFold } from '../src/filters/index.ts'
import { BUILT_IN_GOALS, configuredGoal, type Goal } from '../src/goals/goal.ts'
import { FROM, fillLog, medianTime, storedSql, TO } from './filters.ts'
import { benchServices } from './lib.ts'

const ROWS = Number(process.env.BENCH_LOG_ROWS ?? 3_000_000)
const RUNS = 5

const configured = configuredGoal
const GOALS: Goal[] = [
  ...BUILT_IN_GOALS,
  configured('1', { page: '/page/1*' }),
  configured('2', { page: '/page/7' }),
  configured('3', {
    eventType: 'page_view',
    property: { key: 'plan', value: 'pro' },
    value: { property: 'n', currency: null },
  }),
]
const DOCS = GOALS.find((g) => g.id === '1')!

const services = await benchServices()
const db = await openDatabase(services.databaseUrl, { max: 4, session: { workMem: loadConfig({}).databaseWorkMem } })
const pool = db.pool
try {
  const filled = Date.now()
  await fillLog(pool, ROWS)
  console.log(`filled ${ROWS} rows in ${((Date.now() - filled) / 1000).toFixed(0)} s`)
  const fold = await probeCaseFold(pool)
  const { bounds } = bucketsOf('day', FROM, TO, 'UTC')
  const range = [bounds[0]!, bounds.at(-1)!]
  const mobile: Filter = { op: 'is', dimension: 'device', values: ['mobile'] }
  const sqlOf = storedSql
  const time = (run: () => Promise<unknown>) => medianTime(run, RUNS)
  const results: { read: string; medianMs: number }[] = []
  for (const filters of [[], [mobile]]) {
    const label = filters.length ? ', device is mobile' : ''
    const panel = sqlOf(conversions as never, { site: 0, filters, bounds: range, fold, goals: GOALS } as LogQuery)
    const bySource = sqlOf(
      conversionsBy as never,
      {
        site: 0,
        filters,
        bounds: range,
        fold,
        goals: [DOCS],
        by: 'source',
      } as LogQuery,
    )
    const cases: [string, () => Promise<unknown>][] = [
      [`goals panel: ${GOALS.length} goals, 30 days${label}`, () => pool.query(panel.sql, panel.values)],
      [`conversion rate by source, 30 days${label}`, () => pool.query(bySource.sql, bySource.values)],
      [
        `both at once, as the dashboard sends them${label}`,
        () => Promise.all([pool.query(panel.sql, panel.values), pool.query(bySource.sql, bySource.values)]),
      ],
    ]
    for (const [read, run] of cases) {
      const medianMs = await time(run)
      results.push({ read, medianMs })
      console.log(`${read.padEnd(60)} ${medianMs.toFixed(0).padStart(6)} ms`)
    }
  }
  const file = join(
    import.meta.dir,
    'results',
    `goals-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`,
  )
  await Bun.write(file, JSON.stringify({ rows: ROWS, cpus: cpus().length, results }, null, 2))
  console.log(`wrote ${file}`)
} finally {
  await db.close()
  await services.stop()
}
