/**
 * `bun run bench [scenario...]`: runs the benchmarks against Redis and Postgres provisioned like
 * the tests (env URLs, containers or local binaries), prints a table and writes
 * bench/results/<date>.json. Scenarios: beacon, flush, queries (default: all).
 */
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { beaconScenario } from './beacon.ts'
import { flushScenario } from './flush.ts'
import { benchServices, fmt } from './lib.ts'
import { queriesScenario } from './queries.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const wanted = new Set(process.argv.slice(2))
const run = (name: string) => wanted.size === 0 || wanted.has(name)

interface Row {
  scenario: string
  metric: string
  value: string
  goal?: string
  met?: boolean
}

const rows: Row[] = []
const results: Record<string, unknown> = {}
const services = await benchServices()
try {
  if (run('beacon')) {
    const r = await beaconScenario(services, SECONDS)
    results.beacon = r
    rows.push(
      { scenario: 'beacon POST /e (wrk -t1 -c64)', metric: 'requests/s', value: fmt(r.rps) },
      {
        scenario: '',
        metric: 'p50 / p99 latency (ms)',
        value: `${fmt(r.p50ms, 2)} / ${fmt(r.p99ms, 2)}`,
        goal: 'p99 ≤ 5',
        met: r.p99ms <= 5,
      },
      {
        scenario: '',
        metric: '2xx answered / counted in Redis',
        value: `${fmt(r.requests - r.non2xx)} / ${fmt(r.counted)}`,
        goal: 'equal',
        met: r.requests - r.non2xx === r.counted && r.errors === 0,
      },
      {
        scenario: '',
        metric: 'Redis round trips per event',
        value: fmt(1 / r.eventsPerRoundTrip, 3),
        goal: '< 1',
        met: r.eventsPerRoundTrip > 1,
      },
      { scenario: '', metric: 'events per group commit (mean)', value: fmt(r.eventsPerRoundTrip, 1) },
      { scenario: '', metric: 'server RSS (MB)', value: fmt(r.rssMb, 1), goal: '≤ 150', met: r.rssMb <= 150 },
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
  if (run('queries')) {
    const r = await queriesScenario(services)
    results.queries = r
    for (const [i, p] of r.plans.entries()) {
      rows.push({
        scenario: i === 0 ? `reads on ${fmt(r.rows)} stored rows` : '',
        metric: p.route,
        value: `${fmt(p.routeMs, 1)} ms`,
        goal: 'no seq scan of a big table',
        met: !p.seqScans.some((t) => ['analytics_user_daily', 'analytics_page_daily', 'analytics_hourly'].includes(t)),
      })
    }
  }
} finally {
  await services.stop()
}

const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}`
const widths = [36, 72, 24, 12]
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' ')
console.log(`\n${machine}; services: ${services.started.source}\n`)
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
if (rows.some((r) => r.met === false)) process.exitCode = 1
