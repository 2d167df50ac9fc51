/**
 * Read queries on a large history: fills the tables with over a million rows, then runs the read
 * routes and captures the plan of every Postgres statement they send (EXPLAIN ANALYZE of the
 * exact SQL the code builds), reporting whether each used an index, and its execution time.
 */
import type { Pool } from '@neondatabase/serverless'
import { RESP_TYPES } from 'redis'
import { createApp } from '../src/app.ts'
import { mergeSets } from '../src/counters/hll.ts'
import { openDatabase } from '../src/db/pool.ts'
import { openRedis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import { VISIT_DIMENSIONS } from '../src/events/types.ts'
import { silentLogger } from '../src/log.ts'
import { FROM, fillLog, TO } from './filters.ts'
import { ADMIN_TOKEN, type BenchServices, benchConfig } from './lib.ts'

/** The UTC day `n` days before today. */
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10)

export interface PlanRow {
  route: string
  /** a read of the event log with a speed goal: its goal in ms */
  goalMs?: number
  statementMs: number
  routeMs: number
  indexScans: string[]
  seqScans: string[]
}

/**
 * Fills the tables with 400 days of history (over 2 million rows), as statements to run in order.
 * The dashboard bench (bench/dashboard.ts) reads the same history.
 */
export const FILL = [
  // the bench database also holds what earlier scenarios flushed: start from empty tables
  `TRUNCATE analytics_daily, analytics_quarters, analytics_user_daily, analytics_users, analytics_page_daily,
     analytics_feature_daily, analytics_visitors_daily, analytics_visitors_monthly, analytics_dimension_daily, analytics_dimension_monthly,
     analytics_flush_log`,
  // 400 days × 11 types, by quarter-hour too
  `INSERT INTO analytics_daily (event_type, date, count)
   SELECT t, current_date - d, 100 FROM unnest(ARRAY['page_view','feature_used','generation_completed','user_signup',
     'user_login','generation_started','generation_failed','asset_downloaded','asset_shared','subscription_started',
     'subscription_canceled']) t, generate_series(1, 400) d`,
  `INSERT INTO analytics_quarters (event_type, at, count)
   SELECT t, date_trunc('hour', now()) - make_interval(mins => 15 * q), 1 + q % 3 FROM unnest(ARRAY['page_view',
     'feature_used', 'generation_completed','user_signup','user_login']) t, generate_series(1, 400 * 96) q`,
  // 1,000,000 per-user rows: 20,000 users × 50 days
  `INSERT INTO analytics_user_daily (user_id, event_type, date, count)
   SELECT 'user-' || u, 'generation_completed', current_date - d, 1 FROM generate_series(1, 20000) u, generate_series(1, 50) d`,
  `INSERT INTO analytics_users (user_id, first_seen) SELECT 'user-' || u, current_date - 50 FROM generate_series(1, 20000) u`,
  // 1,000,000 page rows: 10,000 paths × 100 days; 100,000 feature rows
  `INSERT INTO analytics_page_daily (path, date, count)
   SELECT '/page/' || p, current_date - d, 1 + (p % 50) FROM generate_series(1, 10000) p, generate_series(1, 100) d`,
  // 400 days of visits: daily and hourly, and every visit dimension with a realistic number of
  // values a day (1,000 entry pages and 300 sources, down to 3 device types): 868,000 rows, plus
  // a counted property on two event types
  `INSERT INTO analytics_daily (event_type, date, count) SELECT 'visit', current_date - d, 3000 FROM generate_series(1, 400) d`,
  `INSERT INTO analytics_quarters (event_type, at, count)
   SELECT 'visit', date_trunc('hour', now()) - make_interval(mins => 15 * q), 30 FROM generate_series(1, 400 * 96) q`,
  `INSERT INTO analytics_dimension_daily (dimension, event_type, date, value, count)
   SELECT dim, 'visit', current_date - d, dim || '-' || v, 1 + (v % 13)
   FROM (VALUES ('source', 300), ('utm_source', 40), ('utm_medium', 10), ('utm_campaign', 100), ('entry_page', 1000),
                ('browser', 12), ('os', 10), ('device', 3), ('country', 150), ('hostname', 5)) AS dims(dim, n),
        generate_series(1, 400) d, generate_series(1, n) v`,
  `INSERT INTO analytics_dimension_daily (dimension, event_type, date, value, count)
   SELECT 'prop:plan', t, current_date - d, 'plan-' || v, 1 + v FROM unnest(ARRAY['user_signup', 'feature_used']) t,
     generate_series(1, 400) d, generate_series(1, 5) v`,
  // the monthly totals the flush keeps beside the daily rows
  `INSERT INTO analytics_dimension_monthly (dimension, event_type, month, value, count)
   SELECT dimension, event_type, date_trunc('month', date)::date, value, sum(count) FROM analytics_dimension_daily
   GROUP BY 1, 2, 3, 4`,
  `INSERT INTO analytics_feature_daily (event_type, feature_name, date, count)
   SELECT 'feature_used', 'feature-' || f, current_date - d, 1 + (f % 7) FROM generate_series(1, 1000) f, generate_series(1, 100) d`,
  // as autovacuum leaves a table at rest: statistics, and visibility maps for index-only scans
  'VACUUM ANALYZE',
]

/**
 * 400 days of visitor sets as the flush stores them, and their months': the bytes of real Redis HyperLogLogs, 3,000
 * visitors a day drawn from a population of 100,000, so that days share visitors and a range's
 * union is well below the sum of its days.
 */
async function fillVisitorSets(pool: Pool, redis: Awaited<ReturnType<typeof openRedis>>): Promise<void> {
  const bytes = redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
  const key = `bench:visitors:${process.pid}`
  const days: string[] = []
  const sets: Buffer[] = []
  const estimates: number[] = []
  for (let d = 1; d <= 400; d++) {
    await redis.del(key)
    const visitors = Array.from({ length: 3000 }, (_, i) => `visitor-${(d * 7919 + i * 31) % 100_000}`)
    await redis.pfAdd(key, visitors)
    days.push(daysAgo(d))
    sets.push((await bytes.get(key)) as unknown as Buffer)
    estimates.push(await redis.pfCount(key))
  }
  await redis.del(key)
  await pool.query(
    `INSERT INTO analytics_visitors_daily (date, visitors, hll)
     SELECT * FROM unnest($1::date[], $2::bigint[], $3::bytea[])`,
    [days, estimates, sets],
  )
  // and each month's set, the union of its days', as the flush keeps it
  const months = new Map<string, Buffer[]>()
  days.forEach((day, i) => {
    const month = `${day.slice(0, 7)}-01`
    months.set(month, [...(months.get(month) ?? []), sets[i]!])
  })
  await pool.query(
    `INSERT INTO analytics_visitors_monthly (month, hll) SELECT * FROM unnest($1::date[], $2::bytea[])`,
    [[...months.keys()], [...months.values()].map((s) => mergeSets(s))],
  )
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  Plans?: PlanNode[]
}

function scans(node: PlanNode, index: string[], seq: string[]): void {
  if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) seq.push(node['Relation Name'])
  if (node['Index Name']) index.push(node['Index Name'])
  for (const child of node.Plans ?? []) scans(child, index, seq)
}

/** A pool whose queries are EXPLAIN ANALYZEd first, their plans recorded. */
function explaining(pool: Pool, plans: { sql: string; plan: PlanNode; ms: number }[]): Pool {
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver)
      return async (sql: string, params?: unknown[]) => {
        const explained = await target.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params)
        const [root] = explained.rows[0]['QUERY PLAN'] as [{ Plan: PlanNode; 'Execution Time': number }]
        plans.push({ sql, plan: root.Plan, ms: root['Execution Time'] })
        return target.query(sql, params)
      }
    },
  }) as Pool
}

export async function queriesScenario(services: BenchServices): Promise<{ rows: number; plans: PlanRow[] }> {
  const config = benchConfig(services)
  // the service's connections set work_mem: the log's reads sort and hash under it
  const db = await openDatabase(services.databaseUrl, { max: 4, session: { workMem: config.databaseWorkMem } })
  const redis = await openRedis(services.redisUrl, silentLogger)
  try {
    for (const sql of FILL) await db.pool.query(sql)
    await fillVisitorSets(db.pool, redis)
    // the event log: 3,000,000 rows over the 30 days of bench/filters.ts (BENCH_LOG_ROWS)
    await fillLog(db.pool, Number(process.env.BENCH_LOG_ROWS ?? 3_000_000))
    const count = await db.pool.query(`SELECT
      (SELECT count(*) FROM analytics_daily) + (SELECT count(*) FROM analytics_quarters) +
      (SELECT count(*) FROM analytics_user_daily) + (SELECT count(*) FROM analytics_page_daily) +
      (SELECT count(*) FROM analytics_feature_daily) + (SELECT count(*) FROM analytics_dimension_daily) +
      (SELECT count(*) FROM analytics_dimension_monthly) AS n`)
    const plans: { sql: string; plan: PlanNode; ms: number }[] = []
    const app = createApp(createDeps({ config, redis, pool: explaining(db.pool, plans), log: silentLogger }))
    const timing = createApp(createDeps({ config, redis, pool: db.pool, log: silentLogger }))
    const routes = [
      '/analytics/stats?event_type=page_view&granularity=day',
      '/analytics/stats?granularity=day&from=2025-11-01&to=2026-11-01',
      '/analytics/stats?event_type=page_view&granularity=hour&tz=Europe/Berlin',
      '/analytics/top?dimension=page&limit=10',
      '/analytics/top?dimension=feature&limit=10',
      '/analytics/users/user-42',
      '/analytics/dashboard',
      `/analytics/stats?metric=visits&granularity=day&from=${daysAgo(399)}`,
      // the union of 400 days' visitor sets, each loaded from Postgres into Redis
      `/analytics/stats?metric=visitors&from=${daysAgo(399)}`,
      // days of a zone other than TIME_ZONE, from the quarter-hours: 400 days in India
      `/analytics/stats?event_type=page_view&granularity=day&tz=Asia/Kolkata&from=${daysAgo(399)}&to=${daysAgo(0)}`,
      ...[...VISIT_DIMENSIONS, 'prop:plan'].map((d) => `/analytics/top?dimension=${d}&limit=10&from=${daysAgo(399)}`),
    ]
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` }
    // goals and a funnel over the log's 30 days, each with a goal of 1 s
    const goal = async (body: unknown) => {
      const res = await timing.handle(
        new Request('http://localhost/analytics/goals', {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      )
      if (res.status !== 201) throw new Error(`goal: ${res.status} ${await res.text()}`)
      return ((await res.json()) as { id: string }).id
    }
    const docs = await goal({ name: 'Docs', page: '/page/1*' })
    await goal({ name: 'Page 7', page: '/page/7' })
    await goal({ name: 'Pro', event_type: 'page_view', property: { key: 'plan', value: 'pro' } })
    const days = `from=${FROM}&to=${TO}`
    const google = `filters=${encodeURIComponent('[["is","source",["Google"]]]')}`
    const logRoutes: [string, number][] = [
      [`/analytics/funnel?steps=page_view,${docs},feature_used,asset_downloaded&${days}&${google}`, 1000],
      [`/analytics/conversions?${days}`, 1000],
      [`/analytics/top?dimension=source&metrics=conversions,conversion_rate&goal=${docs}&${days}`, 1000],
    ]
    const goalOf = new Map(logRoutes)
    const out: PlanRow[] = []
    for (const route of [...routes, ...goalOf.keys()]) {
      plans.length = 0
      const res = await app.handle(new Request(`http://localhost${route}`, { headers }))
      if (res.status !== 200) throw new Error(`${route}: ${res.status} ${await res.text()}`)
      // warm, then time the real (un-explained) route
      await timing.handle(new Request(`http://localhost${route}`, { headers }))
      // the median of three for the log's reads, which have a goal in time
      const times: number[] = []
      for (let i = goalOf.has(route) ? 3 : 1; i > 0; i--) {
        const t0 = performance.now()
        await timing.handle(new Request(`http://localhost${route}`, { headers }))
        times.push(performance.now() - t0)
      }
      const routeMs = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!
      const indexScans: string[] = []
      const seqScans: string[] = []
      for (const p of plans) scans(p.plan, indexScans, seqScans)
      out.push({
        route,
        goalMs: goalOf.get(route),
        statementMs: plans.reduce((a, p) => a + p.ms, 0),
        routeMs,
        indexScans: [...new Set(indexScans)],
        seqScans: [...new Set(seqScans)],
      })
    }
    return { rows: Number(count.rows[0].n), plans: out }
  } finally {
    await redis.close()
    await db.close()
  }
}
