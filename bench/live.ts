/**
 * The live feed under load: holds BENCH_LIVE_CLIENTS (5,000) SSE clients on one instance, sends
 * a beacon at a random moment of each round and measures, for every client, the time from the
 * beacon's 202 to the `counts` event that shows it. Reports p50/p99/max update latency, server RSS
 * per client and the server's CPU while it holds them. Loopback only; stops by itself.
 *
 * `bun bench/live.ts` (or import {@link liveScenario} from bench/run.ts).
 *
 * The clients are raw TCP sockets in this process: fetch would queue beyond its concurrency
 * limit, and a socket costs the client side little, so what is measured is the server.
 */
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import type { Socket } from 'bun'
import { ADMIN_TOKEN, type BenchServices, BROWSER_UA, benchServices, fmt, rssMb, startChild } from './lib.ts'

const CLIENTS = Number(process.env.BENCH_LIVE_CLIENTS ?? 5000)
const ROUNDS = Number(process.env.BENCH_LIVE_ROUNDS ?? 20)
/** sockets opened at once: the listen backlog drops SYNs beyond a few hundred */
const CONNECT_BATCH = 250
const HARD_LIMIT_MS = 180_000

export interface LiveResult {
  clients: number
  rounds: number
  samples: number
  missed: number
  p50ms: number
  p99ms: number
  maxms: number
  rssIdleMb: number
  rssHeldMb: number
  rssAfterMb: number
  rssHeldAgainMb: number
  rssAfterAgainMb: number
  kbPerClient: number
  serverCpuPercent: number
  droppedConnections: number
  connectSeconds: number
}

interface Conn {
  buffer: string
  snapshot: boolean
  /** the latest page_view total this client has seen */
  total: number
  closed: boolean
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** CPU seconds (user + system) a process has used so far (Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text()
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await Bun.sleep(5)
  }
  return true
}

export async function liveScenario(services: BenchServices): Promise<LiveResult> {
  const deadline = Date.now() + HARD_LIMIT_MS
  const server = await startChild('src/index.ts', {
    REDIS_URL: services.redisUrl,
    DATABASE_URL: services.databaseUrl,
    REDIS_PREFIX: services.newPrefix(),
    ADMIN_TOKEN,
    MIGRATE_ON_START: 'false',
    LIVE_MAX_CLIENTS: String(CLIENTS + 100),
  })
  const { hostname, port } = new URL(server.url)
  let dropped = 0
  let closing = false
  /** the page_view total this round's beacon makes */
  let round = { target: Number.POSITIVE_INFINITY }
  const latencies: number[] = []
  /** when each client saw this round's beacon; the ack may come back after the first of them */
  let seen: number[] = []

  const onData = (socket: Socket<Conn>, chunk: Buffer) => {
    const c = socket.data
    c.buffer += chunk.toString('utf8')
    let end = c.buffer.indexOf('\n\n')
    while (end >= 0) {
      const block = c.buffer.slice(0, end)
      c.buffer = c.buffer.slice(end + 2)
      end = c.buffer.indexOf('\n\n')
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (!data) continue
      const total = JSON.parse(data).types?.page_view?.total
      if (block.includes('event: snapshot')) c.snapshot = true
      if (typeof total !== 'number') continue
      if (c.total < round.target && total >= round.target) seen.push(Date.now())
      c.total = total
    }
  }

  const request = `GET /analytics/live HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nAccept: text/event-stream\r\n\r\n`
  async function beacon(): Promise<number> {
    const res = await fetch(`${server.url}/e`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': BROWSER_UA },
      body: JSON.stringify({ event_type: 'page_view', properties: { path: '/bench' } }),
    })
    if (res.status !== 202) throw new Error(`beacon answered ${res.status}`)
    return Date.now()
  }

  async function connectAll(): Promise<Socket<Conn>[]> {
    closing = false
    const sockets: Socket<Conn>[] = []
    for (let i = 0; i < CLIENTS; i += CONNECT_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(CONNECT_BATCH, CLIENTS - i) }, () =>
          Bun.connect<Conn>({
            hostname,
            port: Number(port),
            data: { buffer: '', snapshot: false, total: 0, closed: false },
            socket: {
              data: onData,
              close(socket) {
                socket.data.closed = true
                if (!closing) dropped++
              },
            },
          }),
        ),
      )
      for (const s of batch) s.write(request)
      sockets.push(...batch)
      all.push(...batch)
      if (!(await waitUntil(() => batch.every((s) => s.data.snapshot), 30_000))) {
        throw new Error(`clients ${i}-${i + batch.length} got no snapshot within 30 s`)
      }
    }
    return sockets
  }

  /** One beacon per round; returns how many clients did not see it within 5 s. */
  async function measureRounds(sockets: Socket<Conn>[], rounds: number): Promise<number> {
    let missed = 0
    for (let r = 0; r < rounds && Date.now() < deadline; r++) {
      // a random phase against the server's 1 s tick, so the rounds sample the whole cycle
      await Bun.sleep(Math.random() * 1000)
      seen = []
      round = { target: Math.max(...sockets.map((s) => s.data.total)) + 1 }
      const ackedAt = await beacon()
      const open = sockets.filter((s) => !s.data.closed).length
      await waitUntil(() => seen.length >= open, 5000)
      missed += open - seen.length
      for (const at of seen) latencies.push(Math.max(0, at - ackedAt))
    }
    return missed
  }

  async function disconnectAll(sockets: Socket<Conn>[]): Promise<void> {
    closing = true
    for (const s of sockets) s.end()
    await Bun.sleep(2000)
  }

  const all: Socket<Conn>[] = []
  try {
    await Bun.sleep(500)
    const rssIdleMb = await rssMb(server.pid)
    const connectStarted = Date.now()
    let sockets = await connectAll()
    const connectSeconds = (Date.now() - connectStarted) / 1000
    const cpuBefore = await cpuSeconds(server.pid)
    const heldFrom = performance.now()
    let missed = await measureRounds(sockets, ROUNDS)
    const heldSeconds = (performance.now() - heldFrom) / 1000
    const serverCpuPercent = (((await cpuSeconds(server.pid)) - cpuBefore) / heldSeconds) * 100
    const rssHeldMb = await rssMb(server.pid)
    await disconnectAll(sockets)
    const rssAfterMb = await rssMb(server.pid)

    // a second cycle: memory that was really freed is reused, so holding them again costs no more
    sockets = await connectAll()
    missed += await measureRounds(sockets, Math.ceil(ROUNDS / 4))
    const rssHeldAgainMb = await rssMb(server.pid)
    await disconnectAll(sockets)
    const rssAfterAgainMb = await rssMb(server.pid)

    const sorted = latencies.sort((a, b) => a - b)
    return {
      clients: CLIENTS,
      rounds: ROUNDS + Math.ceil(ROUNDS / 4),
      samples: sorted.length,
      missed,
      p50ms: percentile(sorted, 50),
      p99ms: percentile(sorted, 99),
      maxms: sorted.at(-1) ?? Number.NaN,
      rssIdleMb,
      rssHeldMb,
      rssAfterMb,
      rssHeldAgainMb,
      rssAfterAgainMb,
      kbPerClient: ((rssHeldMb - rssIdleMb) * 1024) / CLIENTS,
      serverCpuPercent,
      droppedConnections: dropped,
      connectSeconds,
    }
  } finally {
    closing = true
    for (const s of all) s.terminate()
    await server.stop()
  }
}

if (import.meta.main) {
  const services = await benchServices()
  let r: LiveResult
  try {
    r = await liveScenario(services)
  } finally {
    await services.stop()
  }
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}`
  const rows: [string, string, string][] = [
    ['SSE clients held on one instance', fmt(r.clients), ''],
    ['connect time for all (s)', fmt(r.connectSeconds, 1), ''],
    [
      `update latency p50 / p99 / max (ms), ${fmt(r.samples)} samples`,
      `${fmt(r.p50ms)} / ${fmt(r.p99ms)} / ${fmt(r.maxms)}`,
      `p99 < 1500 ${r.p99ms < 1500 ? 'met' : 'MISSED'}`,
    ],
    ['updates never seen within 5 s', fmt(r.missed), `0 ${r.missed === 0 ? 'met' : 'MISSED'}`],
    [
      'connections dropped by the server',
      fmt(r.droppedConnections),
      `0 ${r.droppedConnections === 0 ? 'met' : 'MISSED'}`,
    ],
    ['server RSS idle / holding / after (MB)', `${fmt(r.rssIdleMb)} / ${fmt(r.rssHeldMb)} / ${fmt(r.rssAfterMb)}`, ''],
    [
      'server RSS holding / after, second cycle (MB)',
      `${fmt(r.rssHeldAgainMb)} / ${fmt(r.rssAfterAgainMb)}`,
      `≤ first ×1.1 ${r.rssHeldAgainMb <= r.rssHeldMb * 1.1 ? 'met' : 'MISSED'}`,
    ],
    ['server RSS per client (KB)', fmt(r.kbPerClient, 1), ''],
    ['server CPU while holding them (% of a core)', fmt(r.serverCpuPercent, 1), ''],
  ]
  console.log(`\n${machine}; services: ${services.started.source}\n`)
  for (const [metric, value, goal] of rows) console.log(`${metric.padEnd(56)} ${value.padEnd(22)} ${goal}`)
  const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-')
  await Bun.write(
    join(import.meta.dir, 'results', `live-${date}.json`),
    `${JSON.stringify({ date: new Date().toISOString(), machine, results: { live: r } }, null, 2)}\n`,
  )
  console.log(`\nwritten to bench/results/live-${date}.json`)
  if (r.p99ms >= 1500 || r.missed > 0 || r.droppedConnections > 0 || r.rssHeldAgainMb > r.rssHeldMb * 1.1)
    process.exitCode = 1
}
