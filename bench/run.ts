/**
 * `bun run bench [scenario...]`: runs the benchmarks against Redis and Postgres provisioned like
 * the tests (env URLs, containers or local binaries), prints a table and writes
 * bench/results/<date>.json. Scenarios: ingest (ceiling, body-reading floor, stored floor, beacon,
 * counters floor, the original pattern and a peer's write path, umami, interleaved, under the browser-like load of
 * bench/mix.ts, and the beacon with 50 sites and the load spread over them; `beacon-single` adds our
 * beacon under the earlier one-body load, and with BENCH_BASELINE the baseline under it too; each
 * server gets BENCH_WARMUP seconds of its load first, not measured), sites (of ingest, only the
 * beacon and the beacon with 50 sites, for their ratio; nothing more when ingest runs), steps (the
 * beacon's steps timed in-process), batch, flush, log-store (the event log's write rate and bytes
 * per row, bench/log-store.ts), live, queries, memory (and a day's Redis sizing
 * on a redis-server of its own), dashboard (the page in
 * real Chromium on a year of history, filtered and not, beside BENCH_BASELINE's when set). Default: all but beacon-single.
 */
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import {
  BASELINE_DIR,
  type BeaconResult,
  baselineName,
  batchScenario,
  beaconScenario,
  SITES,
  type Target,
  WARMUP_SECONDS,
} from './beacon.ts'
import { dashboardScenario, median, VIEWS, type ViewId } from './dashboard.ts'
import { flushScenario } from './flush.ts'
import { type BenchServices, benchServices, fmt } from './lib.ts'
import { liveScenario } from './live.ts'
import { logStoreScenario } from './log-store.ts'
import { memoryScenario } from './memory.ts'
import { queriesScenario } from './queries.ts'
import { sizingScenario } from './sizing.ts'
import { BATCH, stepsScenario } from './steps.ts'
import { visitsMemoryScenario } from './visits-memory.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const wanted = new Set(process.argv.slice(2))
const run = (name: string) => wanted.size === 0 || wanted.has(name)

interface Row {
  scenario: string
  metric: string
  value: string
  goal?: string
  met?: boolean
  /** for a missed goal: what the comparators of the same run show no implementation can beat */
  bound?: string
}

const rows: Row[] = []
const results: Record<string, unknown> = {}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

type Runs = Record<Target, BeaconResult[]>

/** The targets' rounds, interleaved (A, B, C, A, B, C) so that drift on a shared machine hits all alike. */
async function interleaved(services: BenchServices, targets: readonly Target[]): Promise<Runs> {
  const runs = Object.fromEntries(targets.map((t) => [t, [] as BeaconResult[]])) as Runs
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of targets) {
      const r = await beaconScenario(services, target, SECONDS)
      runs[target].push(r)
      const store = r.storeCpuUsPerRequest === undefined ? '' : `, store CPU ${fmt(r.storeCpuUsPerRequest, 1)} µs`
      console.log(
        `  ${target} round ${round + 1}: ${fmt(r.rps)} req/s, p99 ${fmt(r.p99ms, 2)} ms, ` +
          `server CPU ${fmt(r.cpuUsPerRequest, 1)} µs/request${store}`,
      )
    }
  }
  return runs
}

/** What the rows say of a target's runs: means over the rounds, the worst p99, the exactness checks. */
function measures(runs: Runs) {
  return {
    rps: (t: Target) => mean(runs[t].map((r) => r.rps)),
    cpu: (t: Target) => mean(runs[t].map((r) => r.cpuUsPerRequest)),
    worstP99: (t: Target) => Math.max(...runs[t].map((r) => r.p99ms)),
    answered: (t: Target) => runs[t].map((r) => `${fmt(r.requests - r.non2xx)}=${fmt(r.counted ?? 0)}`).join(' '),
    exact: (t: Target) => runs[t].every((r) => r.requests - r.non2xx === r.counted && r.errors === 0),
    perEvent: (t: Target) =>
      `${fmt(mean(runs[t].map((r) => r.roundTripsPerEvent ?? 0)), 3)} / ${fmt(mean(runs[t].map((r) => r.commandsPerEvent ?? 0)), 2)}`,
  }
}

/**
 * The beacon with {@link SITES} sites and the load spread over them, against the beacon with the
 * default site alone, both of the same rounds: what finding each beacon's site by its Origin, and
 * one group commit writing many sites' keys, cost. Also in the results, as `sites`.
 */
function sitesRows(runs: Runs): Row[] {
  const { rps, cpu, worstP99, answered, exact, perEvent } = measures(runs)
  const one = rps('beacon')
  const many = rps('beacon-sites')
  results.sites = {
    sites: SITES,
    rps: many,
    beaconRps: one,
    ratio: many / one,
    cpuRatio: cpu('beacon') / cpu('beacon-sites'),
  }
  return [
    {
      scenario: `beacon-sites: ${SITES} sites, load spread`,
      metric: 'requests/s (beacon, one site: requests/s); p99 ms (worst run)',
      value: `${fmt(many)} (${fmt(one)}); ${fmt(worstP99('beacon-sites'), 2)}`,
    },
    {
      scenario: '',
      metric: 'ratio to beacon, one site (same run)',
      value: `${fmt(many / one, 3)}×`,
      goal: '≥ 0.95×',
      met: many / one >= 0.95,
    },
    {
      scenario: '',
      metric: 'the same by server CPU per request (µs: beacon-sites, beacon)',
      value: `${fmt(cpu('beacon') / cpu('beacon-sites'), 3)}× (${fmt(cpu('beacon-sites'), 1)}, ${fmt(cpu('beacon'), 1)})`,
    },
    {
      scenario: '',
      metric: `2xx answered = counted in Redis, summed over the ${SITES} sites, every run`,
      value: answered('beacon-sites'),
      goal: 'equal',
      met: exact('beacon-sites'),
    },
    { scenario: '', metric: 'Redis round trips / commands per event', value: perEvent('beacon-sites') },
  ]
}

const services = await benchServices()
try {
  if (run('ingest') || wanted.has('beacon-single')) {
    const targets: Target[] = ['ceiling', 'floor', 'stored', 'counters', 'beacon', 'beacon-sites', 'pattern', 'umami']
    if (wanted.has('beacon-single')) targets.push('beacon-single')
    if (BASELINE_DIR) targets.push('baseline')
    if (BASELINE_DIR && wanted.has('beacon-single')) targets.push('baseline-single')
    const runs = await interleaved(services, targets)
    results.ingest = runs
    const { rps, cpu, worstP99, answered, exact, perEvent } = measures(runs)
    const ceiling = rps('ceiling')
    const floor = rps('floor')
    const storedFloor = rps('stored')
    const countersFloor = rps('counters')
    const countersP99 = worstP99('counters')
    const beacon = rps('beacon')
    const pattern = rps('pattern')
    const umami = rps('umami')
    const p99 = worstP99('beacon')
    const storedP99 = worstP99('stored')
    const b = runs.beacon
    const stores = targets.filter((t) => runs[t][0]?.storeCpuUsPerRequest !== undefined)
    rows.push(
      {
        scenario: 'load: browser-like mix (bench/mix.ts)',
        metric: `every target but beacon-single and baseline-single (beacon-sites: from ${SITES} sites); wrk -t1 -c64, TRUST_PROXY=1`,
        value: 'visits, SPA views, features',
      },
      { scenario: 'ceiling: bare Bun.serve 204', metric: 'requests/s', value: fmt(ceiling) },
      {
        scenario: 'floor: Bun.serve reading the body',
        metric: 'requests/s (ratio to the ceiling)',
        value: `${fmt(floor)} (${fmt(floor / ceiling, 2)}×)`,
      },
      {
        scenario: 'stored floor: + 1 Redis call/batch',
        metric: 'requests/s (ratio to the body-reading floor), p99 ms (worst run)',
        value: `${fmt(storedFloor)} (${fmt(storedFloor / floor, 3)}×), ${fmt(storedP99, 2)}`,
      },
      {
        scenario: '',
        metric: '2xx answered = stored in Redis, every run',
        value: answered('stored'),
        goal: 'equal',
        met: exact('stored'),
      },
      {
        scenario: "counters floor: + storing this load's counters",
        metric: 'requests/s (ratio to the body-reading floor, to the stored floor), p99 ms (worst run)',
        value: `${fmt(countersFloor)} (${fmt(countersFloor / floor, 3)}×, ${fmt(countersFloor / storedFloor, 3)}×), ${fmt(countersP99, 2)}`,
      },
      {
        scenario: '',
        metric: '2xx answered = counted in Redis, every run',
        value: answered('counters'),
        goal: 'equal',
        met: exact('counters'),
      },
      {
        scenario: 'server CPU per request (µs)',
        metric: targets.join(' / '),
        value: targets.map((t) => fmt(cpu(t), 1)).join(' / '),
      },
      {
        scenario: 'store CPU per request (µs)',
        metric: `${stores.join(' / ')}: Redis (the whole server), for umami its Postgres backends`,
        value: stores.map((t) => fmt(mean(runs[t].map((r) => r.storeCpuUsPerRequest ?? 0)), 1)).join(' / '),
      },
      { scenario: 'beacon POST /e (wrk -t1 -c64)', metric: 'requests/s', value: fmt(beacon) },
      {
        scenario: '',
        metric: 'ratio to the body-reading floor (same run)',
        value: `${fmt(beacon / floor, 3)}×`,
        goal: '≥ 0.65×',
        met: beacon / floor >= 0.65,
        bound:
          Math.min(storedFloor, countersFloor) / floor < 0.65
            ? `the ${storedFloor < countersFloor ? 'stored' : 'counters'} floor reaches ${fmt(Math.min(storedFloor, countersFloor) / floor, 3)}× the body-reading floor`
            : undefined,
      },
      {
        scenario: '',
        metric: 'ratio to the stored floor (same run)',
        value: `${fmt(beacon / storedFloor, 3)}×`,
        goal: '≥ 0.85×',
        met: beacon / storedFloor >= 0.85,
        bound:
          countersFloor / storedFloor < 0.85
            ? `the counters floor reaches ${fmt(countersFloor / storedFloor, 3)}× the stored floor`
            : undefined,
      },
      {
        scenario: '',
        metric: 'ratio to the counters floor (same run)',
        value: `${fmt(beacon / countersFloor, 3)}×`,
      },
      { scenario: '', metric: 'ratio to the ceiling (same run)', value: `${fmt(beacon / ceiling, 3)}×` },
      {
        scenario: '',
        metric: 'the same by server CPU per request: floor, stored floor, ceiling',
        value: `${fmt(cpu('floor') / cpu('beacon'), 3)}×, ${fmt(cpu('stored') / cpu('beacon'), 3)}×, ${fmt(cpu('ceiling') / cpu('beacon'), 3)}×`,
      },
      {
        scenario: '',
        metric: 'excess over the stored floor (server CPU µs per request)',
        value: fmt(cpu('beacon') - cpu('stored'), 1),
      },
      {
        scenario: '',
        metric: `p50 / p99 latency at 64 connections (ms, worst run; after ${WARMUP_SECONDS} s of warm-up)`,
        value: `${fmt(Math.max(...b.map((r) => r.p50ms)), 2)} / ${fmt(p99, 2)}`,
        goal: 'p99 ≤ 5',
        met: p99 <= 5,
        bound:
          Math.max(storedP99, countersP99) > 5
            ? `the stored floor's p99 is ${fmt(storedP99, 2)} ms, the counters floor's ${fmt(countersP99, 2)} ms`
            : undefined,
      },
      {
        scenario: '',
        metric: `p99 of the warm-up, from a cold start (ms, worst run): beacon / counters floor`,
        value: `${fmt(Math.max(...b.map((r) => r.warmupP99ms ?? 0)), 2)} / ${fmt(Math.max(...runs.counters.map((r) => r.warmupP99ms ?? 0)), 2)}`,
      },
      {
        scenario: '',
        metric: '2xx answered = counted in Redis, every run',
        value: answered('beacon'),
        goal: 'equal',
        met: exact('beacon'),
      },
      { scenario: '', metric: 'Redis round trips / commands per event', value: perEvent('beacon') },
      {
        scenario: '',
        metric: 'server RSS (MB, max)',
        value: fmt(Math.max(...b.map((r) => r.rssMb)), 1),
        goal: '≤ 150',
        met: Math.max(...b.map((r) => r.rssMb)) <= 150,
      },
      {
        scenario: 'original pattern, same app',
        metric: 'requests/s; p99 ms (worst run)',
        value: `${fmt(pattern)}; ${fmt(worstP99('pattern'), 2)}`,
      },
      { scenario: '', metric: 'Redis round trips / commands per event', value: perEvent('pattern') },
      {
        scenario: '',
        metric: '2xx answered = counted in Redis, every run',
        value: answered('pattern'),
        goal: 'equal',
        met: exact('pattern'),
      },
      {
        scenario: 'umami: 1 Postgres row per event',
        metric: 'requests/s; p99 ms (worst run)',
        value: `${fmt(umami)}; ${fmt(worstP99('umami'), 2)}`,
      },
      {
        scenario: '',
        metric: '2xx answered = rows inserted, every run',
        value: answered('umami'),
        goal: 'equal',
        met: exact('umami'),
      },
      {
        scenario: '',
        metric: 'our beacon ÷ original pattern (same run)',
        value: `${fmt(beacon / pattern, 2)}×`,
        goal: '≥ 3×',
        met: beacon / pattern >= 3,
        bound: storedFloor / pattern < 3 ? `the stored floor reaches ${fmt(storedFloor / pattern, 3)}×` : undefined,
      },
      { scenario: '', metric: 'our beacon ÷ umami (same run)', value: `${fmt(beacon / umami, 2)}×` },
      ...sitesRows(runs),
    )
    if (wanted.has('beacon-single')) {
      const single = rps('beacon-single')
      rows.push(
        {
          scenario: 'beacon-single: the earlier load',
          metric: 'one fixed page view, one UA and address; requests/s; p99 ms (worst run)',
          value: `${fmt(single)}; ${fmt(worstP99('beacon-single'), 2)}`,
        },
        {
          scenario: '',
          metric: 'ratio to the body-reading floor (same run, whose load is the mix)',
          value: `${fmt(single / floor, 3)}×`,
        },
        {
          scenario: '',
          metric: '2xx answered = counted in Redis, every run',
          value: answered('beacon-single'),
          goal: 'equal',
          met: exact('beacon-single'),
        },
      )
    }
    if (BASELINE_DIR) {
      /** A baseline target's rows: its requests/s and p99, ours ÷ it, its exactness. */
      const baselineRows = (target: Target, ours: number, scenario: string, load: string, ratio: string) => {
        const base = rps(target)
        return [
          {
            scenario,
            metric: `${load}requests/s; p99 ms (worst run)`,
            value: `${fmt(base)}; ${fmt(worstP99(target), 2)}`,
          },
          {
            scenario: '',
            metric: `${ratio}; each ÷ the body-reading floor (same run)`,
            value: `${fmt(ours / base, 3)}×; ${fmt(ours / floor, 3)}× vs ${fmt(base / floor, 3)}×`,
          },
          { scenario: '', metric: '2xx answered = counted in Redis, every run', value: answered(target) },
        ]
      }
      rows.push(...baselineRows('baseline', beacon, `baseline: ${baselineName(BASELINE_DIR)}`, '', 'beacon ÷ baseline'))
      if (wanted.has('beacon-single')) {
        rows.push(
          ...baselineRows(
            'baseline-single',
            rps('beacon-single'),
            '',
            'under the earlier load (as beacon-single): ',
            'beacon-single ÷ baseline under it',
          ),
        )
      }
    }
  } else if (run('sites')) {
    // the part of ingest the ratio of many sites to one needs, and no more
    const runs = await interleaved(services, ['beacon', 'beacon-sites'])
    results.ingest = runs
    rows.push(...sitesRows(runs))
  }
  if (run('steps')) {
    const r = await stepsScenario(services)
    results.steps = r
    for (const [i, step] of r.steps.entries()) {
      rows.push({
        scenario: i === 0 ? 'steps of POST /e, in-process' : '',
        metric: step.step,
        value: `${fmt(step.us, 3)} µs${step.part ? '' : ' per request'}`,
      })
    }
    rows.push(
      { scenario: '', metric: 'sum of the steps (the indented lines are parts)', value: `${fmt(r.sumUs, 2)} µs` },
      {
        scenario: '',
        metric: `the whole beacon function in-process, ${BATCH} at a time`,
        value: `${fmt(r.wholeUs, 2)} µs`,
      },
      {
        scenario: '',
        metric: `the Lua call of a group commit of ${BATCH}: KEYS, ARGV`,
        value: `${fmt(r.scriptKeys)}, ${fmt(r.scriptArgs)}`,
      },
      { scenario: '', metric: "countries of the load's client addresses", value: fmt(r.countries) },
    )
    const ingest = results.ingest as Record<Target, BeaconResult[]> | undefined
    if (ingest) {
      const cpu = (t: Target) => mean(ingest[t].map((x) => x.cpuUsPerRequest))
      rows.push({
        scenario: '',
        metric: 'excess over the stored floor, server CPU (ingest above)',
        value: `${fmt(cpu('beacon') - cpu('stored'), 1)} µs`,
      })
    }
  }
  if (run('batch')) {
    const r = await batchScenario(services, SECONDS)
    results.batch = r
    rows.push(
      { scenario: 'server batches of 100 events', metric: 'events/s', value: fmt(r.eventsPerSecond) },
      { scenario: '', metric: 'p99 per batch (ms)', value: fmt(r.p99ms, 2) },
      {
        scenario: '',
        metric: 'events answered 202 = counted',
        value: `${fmt((r.requests - r.non2xx) * 100)}=${fmt(r.counted)}`,
        goal: 'equal',
        met: (r.requests - r.non2xx) * 100 === r.counted,
      },
    )
  }
  if (run('flush')) {
    const r = await flushScenario(services)
    results.flush = r
    rows.push(
      {
        scenario: 'flush 100,000 counters (Neon driver)',
        metric: 'seconds',
        value: fmt(r.seconds, 2),
        goal: '< 10',
        met: r.seconds < 10 && r.counters === 100_000,
      },
      { scenario: '', metric: 'µs per counter, batched', value: fmt(r.usPerRow, 1) },
      {
        scenario: '',
        metric: `µs per counter, row at a time (${fmt(r.rowAtATimeRows)} rows)`,
        value: fmt(r.rowAtATimeUsPerRow, 1),
      },
      { scenario: '', metric: 'speed-up', value: `${fmt(r.speedup, 1)}×`, goal: '≥ 20×', met: r.speedup >= 20 },
    )
  }
  if (run('log-store')) {
    const r = await logStoreScenario(services)
    results.logStore = r
    const cpu = r.clientCpuUsPerRow + (r.backendCpuUsPerRow ?? 0)
    rows.push(
      {
        scenario: `event log: write ${fmt(r.rows)} rows (Neon driver)`,
        metric: 'rows/s by PostgresEventStore.write, batches of 25,000 in their own transactions',
        value: fmt(r.rowsPerSecond),
        goal: '≥ 50,000',
        met: r.rowsPerSecond >= 50_000,
      },
      { scenario: '', metric: 'rows/s with each COMMIT', value: fmt(r.rowsPerSecondWithCommit) },
      {
        scenario: '',
        metric: 'CPU µs per row: this process (parameters, driver, bridge) + the Postgres backend',
        value:
          r.backendCpuUsPerRow === undefined
            ? fmt(r.clientCpuUsPerRow, 2)
            : `${fmt(r.clientCpuUsPerRow, 2)} + ${fmt(r.backendCpuUsPerRow, 2)} = ${fmt(cpu, 2)} (${fmt(1e6 / cpu)} rows/s of CPU)`,
      },
      { scenario: '', metric: "of which making the statements' parameters", value: fmt(r.paramsUsPerRow, 2) },
      ...r.statements.map((t) => ({
        scenario: '',
        metric: `100,000 rows, ${t.name}: rows/s, CPU µs per row (best of 2)`,
        value: `${fmt(t.rowsPerSecond)}, ${t.cpuUsPerRow === undefined ? '' : fmt(t.cpuUsPerRow, 2)}`,
      })),
      {
        scenario: '',
        metric: `disk bytes per row, events + visits + dictionary, ${r.partitions} daily partitions, heap + indexes, after VACUUM ANALYZE`,
        value: `${fmt(r.bytesPerRow, 1)} (heap ${fmt(r.heapBytesPerRow, 1)}, indexes ${fmt(r.indexBytesPerRow, 2)})`,
        goal: '≤ 100',
        met: r.bytesPerRow <= 100,
      },
      ...r.tables.map((t) => ({
        scenario: '',
        metric: `of which ${t.name}, bytes per row`,
        value: fmt(t.bytesPerRow, 1),
      })),
    )
  }
  if (run('live')) {
    const r = await liveScenario(services)
    results.live = r
    rows.push(
      {
        scenario: `live: ${fmt(r.clients)} SSE clients, one instance`,
        metric: 'update latency p50 / p99 (ms)',
        value: `${fmt(r.p50ms)} / ${fmt(r.p99ms)}`,
        goal: 'p99 < 1,500',
        met: r.p99ms < 1500 && r.missed === 0,
      },
      { scenario: '', metric: 'updates missed / connections dropped', value: `${r.missed} / ${r.droppedConnections}` },
      { scenario: '', metric: 'server RSS per client (KB)', value: fmt(r.kbPerClient, 1) },
      {
        scenario: '',
        metric: 'RSS held → after disconnect → held again (MB)',
        value: `${fmt(r.rssHeldMb)} → ${fmt(r.rssAfterMb)} → ${fmt(r.rssHeldAgainMb)}`,
      },
    )
  }
  if (run('memory')) {
    const r = await memoryScenario(services)
    results.memory = r
    rows.push({
      scenario: 'Redis memory',
      metric: `bytes per pending counter (${fmt(r.fields)} in one hash)`,
      value: fmt(r.bytesPerCounter, 1),
    })
    const v = await visitsMemoryScenario(services)
    results.visitsMemory = v
    rows.push({
      scenario: '',
      metric: `bytes added by visits (${fmt(v.visits)} visits of one day, ${fmt(v.fieldsAdded)} counter fields more)`,
      value: `${fmt(v.bytesPerVisit, 1)} per visit; ${fmt(v.bytesPerField, 1)} per field`,
    })
    rows.push({
      scenario: '',
      metric: `Redis per pending event log row (${fmt(v.pendingRows.rows)} page views of ${fmt(v.pendingRows.visitors)} visitors)`,
      value: `${fmt(v.pendingRows.bytesPerRow, 1)} B a row; ${fmt(v.pendingRows.bytesPerVisitor, 1)} B a visitor's current visit`,
      goal: '≤ 80 B a row',
      met: v.pendingRows.bytesPerRow <= 80,
    })
    const s = await sizingScenario(services)
    results.sizing = s
    for (const c of s.cases) {
      rows.push({
        scenario: c === s.cases[0] ? `Redis ${s.redis} of its own: one day of beacons` : '',
        metric: `${c.name}: ${fmt(c.events)} events, ${fmt(c.fields)} pending fields: keys; used_memory growth`,
        value: `${fmt(c.keyBytes / 1024, 0)} KiB; ${fmt(c.bytes / 1024, 0)} KiB (${fmt(c.bytesPerEvent, 1)} bytes per event)`,
      })
    }
  }
  if (run('queries')) {
    const r = await queriesScenario(services)
    results.queries = r
    for (const [i, p] of r.plans.entries()) {
      rows.push({
        scenario: i === 0 ? `reads on ${fmt(r.rows)} stored rows` : '',
        metric: p.route,
        value: `${fmt(p.routeMs, 1)} ms`,
        ...(p.goalMs !== undefined
          ? { goal: `≤ ${fmt(p.goalMs / 1000)} s`, met: p.routeMs <= p.goalMs }
          : {
              goal: 'indexed',
              // the tables that grow with every day of history; a monthly total table has a thirtieth
              // of their rows, and a query that reads most of it is right to read it whole
              met: !p.seqScans.some((t) =>
                [
                  'analytics_user_daily',
                  'analytics_page_daily',
                  'analytics_quarters',
                  'analytics_dimension_daily',
                ].includes(t),
              ),
            }),
      })
    }
  }
  if (run('dashboard')) {
    const r = await dashboardScenario(services)
    results.dashboard = r
    const of = (view: ViewId, server: 'current' | 'baseline' = 'current') =>
      r.views.find((v) => v.view === view && v.server === server)
    const h = r.history
    rows.push({
      scenario: 'dashboard, real Chromium',
      metric: `history: ${fmt(h.rows)} log rows (${fmt(h.recentRows)} in the last 30 days) and their counters, written through the store`,
      value: `${fmt(h.seconds)} s (${fmt(h.rowsPerSecond)} rows/s)`,
    })
    const shown = (ms: number[]) =>
      ms.length ? `${fmt(median(ms))} ms (${fmt(Math.min(...ms))}–${fmt(Math.max(...ms))})` : '—'
    const goals: Partial<Record<ViewId, number>> = { 'filtered-30d': 1000, 'filtered-12mo': 3000 }
    for (const view of VIEWS) {
      const t = of(view.id)
      if (!t) continue
      const goal = goals[view.id]
      const failed = t.failures.length > 0 ? `; failed: ${t.failures.length}` : ''
      rows.push(
        {
          scenario: '',
          metric: `${view.label}: navigation → numbers and chart, median (min–max) of ${t.readyMs.length} cold loads`,
          value: `${shown(t.readyMs)}${failed}`,
          ...(goal === undefined
            ? {}
            : {
                goal: `≤ ${fmt(goal)} ms`,
                met: t.failures.length === 0 && t.readyMs.length > 0 && median(t.readyMs) <= goal,
              }),
        },
        {
          scenario: '',
          metric: `${view.label}: → every panel shown, median; requests per load; the machine's load average`,
          value: `${t.panelsMs.length ? fmt(median(t.panelsMs)) : '—'} ms; ${t.requests.length ? median(t.requests) : '—'}; ${t.loadAverage.length ? `${fmt(Math.min(...t.loadAverage), 1)}–${fmt(Math.max(...t.loadAverage), 1)}` : '—'}`,
        },
      )
      const base = of(view.id, 'baseline')
      if (base && base.readyMs.length > 0 && t.readyMs.length > 0) {
        const ratio = median(t.readyMs) / median(base.readyMs)
        rows.push(
          {
            scenario: '',
            metric: `${view.label}, baseline ${r.baseline}: numbers and chart; every panel; requests`,
            value: `${shown(base.readyMs)}; ${fmt(median(base.panelsMs))} ms; ${median(base.requests)}`,
          },
          {
            scenario: '',
            metric: `${view.label}: ours ÷ baseline, numbers and chart (every panel)`,
            value: `${fmt(ratio, 2)}× (${fmt(median(t.panelsMs) / median(base.panelsMs), 2)}×)`,
            goal: '≤ 1× (no slower)',
            met: ratio <= 1,
          },
        )
      }
    }
    for (const [i, read] of r.slowestReads.slice(0, 5).entries()) {
      rows.push({
        scenario: i === 0 ? 'slowest reads, two filters, 30 days' : '',
        metric: read.route.length > 110 ? `${read.route.slice(0, 109)}…` : read.route,
        value: `${fmt(read.serverMs)} ms to first byte (${fmt(read.totalMs)} in all)`,
      })
    }
  }
} finally {
  await services.stop()
}

const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}`
const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => [r.scenario, r.metric, r.value][i]!.length)) + 1)
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' ')
console.log(
  `\n${machine}; services: ${services.started.source}; ${SECONDS} s per wrk run (ingest: after ${WARMUP_SECONDS} s of warm-up)\n`,
)
console.log(line(['scenario', 'metric', 'value', 'goal']))
for (const r of rows) {
  console.log(line([r.scenario, r.metric, r.value, r.goal ? `${r.goal} ${r.met ? 'met' : 'MISSED'}` : '']))
}
const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-')
const file = join(import.meta.dir, 'results', `${date}.json`)
await Bun.write(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), machine, seconds: SECONDS, results, rows }, null, 2)}\n`,
)
console.log(`\nwritten to bench/results/${date}.json`)
const missed = rows.filter((r) => r.met === false)
if (missed.length > 0)
  console.log(`goals missed: ${missed.map((r) => `${r.scenario || ''} ${r.metric}`.trim()).join('; ')}`)
for (const r of missed.filter((r) => r.bound)) {
  console.log(
    `out of reach on this machine: ${r.metric} ${r.goal}: ${r.bound}, doing strictly less work with the same guarantee`,
  )
}
