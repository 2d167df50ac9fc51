/**
 * The dashboard on a year of history, in real Chromium: seeds the event log and the counters with
 * the same traffic (bench/history.ts: 100,000 events a day over the last 30 days, 10,000 a day
 * over the 11 months before, written through the log's store and the flush's own write), starts
 * the service in production mode, and opens the page cold (a fresh browser context each time,
 * after one warm-up load) for each view, measuring from navigation to the numbers and chart on
 * screen (the page's `dashboard-ready` mark) and to every breakdown shown, and timing every read
 * the page makes (Chromium's own timing of each request: sent → first byte is the server's time).
 *
 * Views: the unfiltered dashboard over 30 days (the default) and 12 months, and the same with two
 * filters (source is Google and device is mobile). With BENCH_BASELINE (another checkout, e.g. of
 * the commit before the event log), that checkout's server runs against the same database and its
 * unfiltered views are loaded in turn with ours, load for load. The three slowest reads of the
 * filtered 30 days are then run once more in-process, every statement they send under
 * `EXPLAIN (ANALYZE, BUFFERS)`, and their plans are kept in the results.
 *
 * `bun bench/dashboard.ts` (or import {@link dashboardScenario} from bench/run.ts).
 */

import { loadavg } from 'node:os'
import type { Pool } from '@neondatabase/serverless'
import type { Browser } from 'playwright-core'
import { createApp } from '../src/app.ts'
import { type Database, openDatabase } from '../src/db/pool.ts'
import { openRedis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import { silentLogger } from '../src/log.ts'
import { launchChromium } from '../test/browser.ts'
import { BASELINE_DIR, baselineName } from './beacon.ts'
import { type SeededHistory, seedHistory } from './history.ts'
import {
  ADMIN_TOKEN,
  type BenchServices,
  benchConfig,
  benchServices,
  type ChildServer,
  fmt,
  startChild,
} from './lib.ts'

const LOADS = Number(process.env.BENCH_DASHBOARD_LOADS ?? 5)
/** how long one load may take before it counts as failed */
const LOAD_TIMEOUT_MS = Number(process.env.BENCH_DASHBOARD_TIMEOUT_MS ?? 120_000)

/** Source is Google and device is mobile, as the page's address writes filters. */
export const TWO_FILTERS = JSON.stringify([
  ['is', 'source', ['Google']],
  ['is', 'device', ['mobile']],
])
const filtered = (period?: string) => `?${period ? `period=${period}&` : ''}filters=${encodeURIComponent(TWO_FILTERS)}`

export const VIEWS = [
  { id: 'unfiltered-30d', label: 'unfiltered, 30 days (default)', search: '', baseline: true },
  { id: 'filtered-30d', label: 'two filters, 30 days', search: filtered(), baseline: false },
  { id: 'filtered-12mo', label: 'two filters, 12 months', search: filtered('12mo'), baseline: false },
  { id: 'unfiltered-12mo', label: 'unfiltered, 12 months', search: '?period=12mo', baseline: true },
] as const

export type ViewId = (typeof VIEWS)[number]['id']

/** One read of the page: its path and query (the filters left out), sent → first byte, sent → last byte. */
export interface ReadTiming {
  route: string
  serverMs: number
  totalMs: number
}

export interface ViewTimings {
  view: ViewId
  label: string
  server: 'current' | 'baseline'
  /** navigation → numbers and chart on screen, ms, one per cold load */
  readyMs: number[]
  /** navigation → every breakdown's rows on screen, ms */
  panelsMs: number[]
  /** requests the page made, per load */
  requests: number[]
  /** every read of every cold load */
  reads: ReadTiming[][]
  /** loads that did not finish, and why */
  failures: string[]
  /** the machine's 1-minute load average after each load (other work on it moves every number) */
  loadAverage: number[]
}

export interface PlannedRead {
  route: string
  /** the route's time in-process, unexplained, ms */
  routeMs: number
  /** each statement it sent, slowest first: execution time and plan */
  statements: { executionMs: number; plan: string; sql: string }[]
}

export interface DashboardResult {
  history: SeededHistory
  baseline?: string
  filters: string
  /** Postgres settings that move these numbers */
  settings: Record<string, string>
  views: ViewTimings[]
  /** the filtered 30 days' reads, median over the cold loads, slowest first */
  slowestReads: { route: string; serverMs: number; totalMs: number }[]
  plans: PlannedRead[]
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** A read's route as the results name it: the API path and query, without the filters every read of the view has. */
function routeOf(url: string): string {
  const u = new URL(url)
  u.searchParams.delete('filters')
  const query = decodeURIComponent(u.searchParams.toString())
  return `${u.pathname}${query ? `?${query}` : ''}`
}

interface Load {
  readyMs: number
  panelsMs: number
  requests: number
  reads: ReadTiming[]
  /** reads that carried the view's filters */
  filteredReads: number
}

async function coldLoad(browser: Browser, server: ChildServer, search: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  try {
    const page = await context.newPage()
    let requests = 0
    const reads: ReadTiming[] = []
    let filteredReads = 0
    page.on('request', () => requests++)
    page.on('requestfinished', (request) => {
      if (!request.url().includes('/analytics/')) return
      const t = request.timing()
      if (new URL(request.url()).searchParams.has('filters')) filteredReads++
      reads.push({ route: routeOf(request.url()), serverMs: t.responseStart - t.requestStart, totalMs: t.responseEnd })
    })
    await page.goto(`${server.url}/dashboard${search}#token=${encodeURIComponent(ADMIN_TOKEN)}`)
    await page.waitForSelector('main[data-state="ready"]', { timeout: LOAD_TIMEOUT_MS })
    await page.waitForFunction(
      () => {
        const panels = document.querySelectorAll('.rows')
        return panels.length > 0 && document.querySelectorAll('.rows[data-state="ok"]').length === panels.length
      },
      undefined,
      { timeout: LOAD_TIMEOUT_MS, polling: 10 },
    )
    const panelsMs = await page.evaluate(() => performance.now())
    const readyMs = await page.evaluate(() => performance.getEntriesByName('dashboard-ready')[0]?.startTime)
    if (readyMs === undefined) throw new Error('the page set no dashboard-ready mark')
    return { readyMs, panelsMs, requests, reads, filteredReads }
  } finally {
    await context.close()
  }
}

/** A pool whose statements are each run under EXPLAIN (ANALYZE, BUFFERS) first, their plans kept. */
function explaining(pool: Pool, plans: PlannedRead['statements']): Pool {
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver)
      return async (sql: string, params?: unknown[]) => {
        const explained = await target.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)
        const lines = (explained.rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN'])
        const time = /Execution Time: ([\d.]+) ms/.exec(lines.at(-1) ?? '')
        plans.push({ executionMs: Number(time?.[1] ?? Number.NaN), plan: lines.join('\n'), sql })
        return target.query(sql, params)
      }
    },
  }) as Pool
}

/** The reads' statements and plans, each route run in-process once warm and once explained. */
async function planReads(services: BenchServices, routes: string[], search: string): Promise<PlannedRead[]> {
  const db = await openDatabase(services.databaseUrl, { max: 4 })
  const redis = await openRedis(services.redisUrl, silentLogger)
  try {
    const config = benchConfig(services)
    const statements: PlannedRead['statements'] = []
    const explained = createApp(createDeps({ config, redis, pool: explaining(db.pool, statements), log: silentLogger }))
    const timing = createApp(createDeps({ config, redis, pool: db.pool, log: silentLogger }))
    const filters = new URLSearchParams(search).get('filters')
    const out: PlannedRead[] = []
    const requestOf = (route: string) => {
      const url = new URL(`http://localhost${route}`)
      if (filters) url.searchParams.set('filters', filters)
      return () => new Request(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    }
    // the first filtered read of a pool asks how the database folds case: once, before plans are kept
    if (routes[0]) await (await explained.handle(requestOf(routes[0])())).arrayBuffer()
    for (const route of routes) {
      const request = requestOf(route)
      await (await timing.handle(request())).arrayBuffer()
      const t0 = performance.now()
      const res = await timing.handle(request())
      await res.arrayBuffer()
      const routeMs = performance.now() - t0
      if (res.status !== 200) throw new Error(`${route}: ${res.status}`)
      statements.length = 0
      await (await explained.handle(request())).arrayBuffer()
      out.push({ route, routeMs, statements: [...statements].sort((a, b) => b.executionMs - a.executionMs) })
    }
    return out
  } finally {
    await redis.close()
    await db.close()
  }
}

export async function dashboardScenario(services: BenchServices): Promise<DashboardResult> {
  const history = await seedHistory(services)
  console.log(
    `  dashboard history: ${fmt(history.rows)} log rows (${fmt(history.recentRows)} in the last 30 days), ` +
      `${fmt(history.visits)} visits over ${history.days} days, written with their counters in ` +
      `${fmt(history.seconds)} s (${fmt(history.rowsPerSecond)} rows/s), VACUUM ANALYZE ${fmt(history.vacuumSeconds)} s`,
  )
  const db = await openDatabase(services.databaseUrl, { max: 1 })
  const settings = Object.fromEntries(
    (
      await db.pool.query(
        `SELECT name, current_setting(name) AS value FROM pg_settings
         WHERE name IN ('shared_buffers', 'work_mem', 'jit', 'max_parallel_workers_per_gather', 'effective_cache_size')`,
      )
    ).rows.map((r: { name: string; value: string }) => [r.name, r.value]),
  ) as Record<string, string>
  await db.close()
  const env = {
    REDIS_URL: services.redisUrl,
    DATABASE_URL: services.databaseUrl,
    ADMIN_TOKEN,
    COUNTED_PROPERTIES: 'plan',
    MIGRATE_ON_START: 'false',
  }
  const servers: { name: 'current' | 'baseline'; server: ChildServer }[] = []
  let browser: Browser | undefined
  let flushes: Database | undefined
  const views: ViewTimings[] = []
  try {
    servers.push({
      name: 'current',
      server: await startChild('src/index.ts', { ...env, REDIS_PREFIX: services.newPrefix() }),
    })
    if (BASELINE_DIR) {
      // its migrations are a subset of ours: it reads the counters and leaves the log alone
      servers.push({
        name: 'baseline',
        server: await startChild(`${BASELINE_DIR}/src/index.ts`, { ...env, REDIS_PREFIX: services.newPrefix() }),
      })
    }
    browser = await launchChromium()
    // Every load is cold for the log as well: a flush committed since the last load (a row of the
    // flush log, as a flush leaves) makes the service's shared answers of the log stale (the event
    // types' counts and the event dimensions' tops, src/read/filtered.ts), so each load makes its
    // own passes over the log, as the first reader after a flush does.
    flushes = await openDatabase(services.databaseUrl, { max: 1 })
    const flushLog = flushes.pool
    let flushed = 0
    const aFlush = () =>
      flushLog.query(
        `INSERT INTO analytics_flush_log (batch_id, seq, counters_flushed, duration_ms) VALUES ($1, 0, 0, 0)`,
        [`bench-dashboard-${process.pid}-${++flushed}`],
      )
    for (const view of VIEWS) {
      const targets = servers.filter((s) => s.name === 'current' || view.baseline)
      const timings = targets.map(
        (t): ViewTimings => ({
          view: view.id,
          label: view.label,
          server: t.name,
          readyMs: [],
          panelsMs: [],
          requests: [],
          reads: [],
          failures: [],
          loadAverage: [],
        }),
      )
      // one load first, to warm the server's and Postgres's caches as a dashboard open all day
      // has them; then the cold loads, ours and the baseline's in turn
      for (let i = 0; i <= LOADS; i++) {
        // ours first on even loads, the baseline first on odd ones
        const order = i % 2 === 0 ? [...targets.keys()] : [...targets.keys()].reverse()
        for (const k of order) {
          const target = targets[k]!
          const out = timings[k]!
          try {
            await aFlush()
            const load = await coldLoad(browser, target.server, view.search)
            if (view.search.includes('filters=') && load.filteredReads === 0)
              throw new Error('the page made no filtered read')
            if (i === 0) continue
            out.readyMs.push(load.readyMs)
            out.panelsMs.push(load.panelsMs)
            out.requests.push(load.requests)
            out.reads.push(load.reads)
            out.loadAverage.push(loadavg()[0]!)
          } catch (err) {
            out.failures.push(`${i === 0 ? 'warm-up' : `load ${i}`}: ${(err as Error).message.split('\n')[0]}`)
          }
        }
      }
      for (const t of timings) {
        console.log(
          `  dashboard ${t.label}${t.server === 'baseline' ? ' (baseline)' : ''}: numbers and chart ` +
            `${t.readyMs.map((ms) => fmt(ms)).join(', ')} ms (median ${t.readyMs.length ? fmt(median(t.readyMs)) : '—'}); ` +
            `every breakdown by ${t.panelsMs.length ? fmt(median(t.panelsMs)) : '—'} ms; ` +
            `${t.requests.length ? median(t.requests) : '—'} requests; load average ${t.loadAverage.map((l) => fmt(l, 1)).join(', ')}` +
            (t.failures.length ? `; FAILED: ${t.failures.join('; ')}` : ''),
        )
      }
      views.push(...timings)
    }
  } finally {
    await browser?.close()
    await flushes?.close()
    for (const { server } of servers) await server.stop()
  }
  const slowestReads = slowest(views.find((v) => v.view === 'filtered-30d' && v.server === 'current')!)
  for (const r of slowestReads.slice(0, 8))
    console.log(
      `  filtered 30 days, read: ${r.route}: ${fmt(r.serverMs)} ms to first byte (${fmt(r.totalMs)} ms in all)`,
    )
  const filteredSearch = VIEWS.find((v) => v.id === 'filtered-30d')!.search
  const plans = await planReads(
    services,
    slowestReads.slice(0, 3).map((r) => r.route),
    filteredSearch,
  )
  return {
    history,
    ...(BASELINE_DIR ? { baseline: baselineName(BASELINE_DIR) } : {}),
    filters: TWO_FILTERS,
    settings,
    views,
    slowestReads,
    plans,
  }
}

/** Each distinct read of a view, its median over the loads (a read missing from a load is left out of it), slowest first. */
function slowest(view: ViewTimings): DashboardResult['slowestReads'] {
  const byRoute = new Map<string, { server: number[]; total: number[] }>()
  for (const load of view.reads) {
    for (const r of load) {
      const seen = byRoute.get(r.route) ?? { server: [], total: [] }
      seen.server.push(r.serverMs)
      seen.total.push(r.totalMs)
      byRoute.set(r.route, seen)
    }
  }
  return [...byRoute]
    .map(([route, t]) => ({ route, serverMs: median(t.server), totalMs: median(t.total) }))
    .sort((a, b) => b.serverMs - a.serverMs)
}

if (import.meta.main) {
  const services = await benchServices()
  try {
    await dashboardScenario(services)
  } finally {
    await services.stop()
  }
}
