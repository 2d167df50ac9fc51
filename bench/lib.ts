/**
 * Benchmark plumbing: services (provisioned like the tests), the server as a child process in
 * production mode, wrk runs on loopback, and process memory.
 */
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { loadConfig } from '../src/config.ts'
import { BATCHES_IN_FLIGHT } from '../src/counters/batcher.ts'
import { migrate } from '../src/db/migrate.ts'
import { openDatabase } from '../src/db/pool.ts'
import { provisionServices, type StartedServices } from '../src/services/provision.ts'

export const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
export const ADMIN_TOKEN = 'bench-admin-token-0123456789'

/** The service's config for an in-process app on the bench's services, a prefix of its own, `plan` counted. */
export function benchConfig(services: BenchServices) {
  return {
    ...loadConfig({ COUNTED_PROPERTIES: 'plan' }),
    redisUrl: services.redisUrl,
    databaseUrl: services.databaseUrl,
    redisPrefix: services.newPrefix(),
    adminToken: ADMIN_TOKEN,
  }
}
export const INGEST_TOKEN = 'bench-ingest-token-0123456789'

export interface BenchServices {
  started: StartedServices
  redisUrl: string
  /** a fresh, migrated database of the bench run */
  databaseUrl: string
  /** its name */
  databaseName: string
  newPrefix(): string
  stop(): Promise<void>
}

export async function benchServices(): Promise<BenchServices> {
  const env = loadConfig()
  const started = await provisionServices({ redisUrl: env.redisUrl, databaseUrl: env.databaseUrl })
  const name = `analytics_bench_${randomBytes(3).toString('hex')}`
  const admin = await openDatabase(started.databaseUrl, { max: 1 })
  await admin.pool.query(`CREATE DATABASE ${name}`)
  const url = new URL(started.databaseUrl)
  url.pathname = `/${name}`
  const db = await openDatabase(url.toString(), { max: 1 })
  await migrate(db.pool)
  await db.close()
  const prefixes: string[] = []
  return {
    started,
    redisUrl: started.redisUrl,
    databaseUrl: url.toString(),
    databaseName: name,
    newPrefix() {
      const p = `bench-${randomBytes(3).toString('hex')}`
      prefixes.push(p)
      return p
    },
    async stop() {
      if (started.source === 'env') {
        const { createClient } = await import('redis')
        const redis = await createClient({ url: started.redisUrl }).connect()
        // the service's keys ({p}:…, and {p:N}:… when sharded) and the pattern server's and the
        // stored floor's (p:…, no hash tag)
        for (const p of prefixes) {
          for (const match of [`{${p}}:*`, `{${p}:*`, `${p}:*`]) {
            for await (const keys of redis.scanIterator({ MATCH: match, COUNT: 1000 }))
              if (keys.length) await redis.del(keys)
          }
        }
        await redis.close()
        await admin.pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      }
      await admin.close()
      await started.stop()
    },
  }
}

export function freePort(): number {
  const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = l.port
  l.stop(true)
  return port
}

export async function waitForHttp(url: string, proc?: Subprocess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (proc && proc.exitCode !== null) throw new Error(`process exited with ${proc.exitCode}`)
    try {
      await fetch(url)
      return
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`)
      await Bun.sleep(50)
    }
  }
}

export interface ChildServer {
  url: string
  pid: number
  stop(): Promise<void>
}

/** Runs a script (default: the service) as a child on a free port and waits until it answers. */
export async function startChild(
  script: string,
  env: Record<string, string>,
  probe = '/healthz',
): Promise<ChildServer> {
  const port = freePort()
  const proc = Bun.spawn(['bun', script], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      // all load comes from one address here; a per-address limit would measure itself
      RATE_LIMIT_PER_SECOND: '0',
      ...env,
    },
    stdout: 'inherit',
    stderr: 'inherit',
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}${probe}`, proc)
  return {
    url,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
      await proc.exited
      clearTimeout(timer)
    },
  }
}

export interface WrkResult {
  requests: number
  non2xx: number
  rps: number
  p50ms: number
  p99ms: number
  errors: number
}

const toMs = (v: string): number => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim())
  if (!m) return Number.NaN
  const n = Number(m[1])
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n
}

/** Where bench/stored-floor.ts counts what it stored. */
export const STORED_FLOOR_FIELD = 'page_view'
export const storedFloorKey = (prefix: string) => `${prefix}:stored-floor`

/** CPU time a process has used so far (user + system), in µs (Linux). */
export async function cpuMicros(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text()
  // fields after the command name, which is in parentheses and may hold spaces
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1_000_000) / CLOCK_TICKS
}

/** USER_HZ: the unit of /proc/<pid>/stat times (100 on every Linux build in use). */
const CLOCK_TICKS = 100

/** One request of a load that cycles through several (see {@link wrk}). */
export interface LoadRequest {
  body: string
  headers: Record<string, string>
}

/**
 * A Lua string literal of any text: quotes, backslashes and every byte outside printable ASCII
 * as three-digit decimal escapes (LuaJIT, which wrk embeds, knows no \u escapes).
 */
export function luaString(text: string): string {
  let out = '"'
  for (const byte of new TextEncoder().encode(text)) {
    out +=
      byte === 0x22 || byte === 0x5c || byte < 0x20 || byte > 0x7e
        ? `\\${String(byte).padStart(3, '0')}`
        : String.fromCharCode(byte)
  }
  return `${out}"`
}

/**
 * Lua that makes wrk cycle through `requests` (POSTs to the URL's path): init() formats each once
 * (wrk.format: request line, headers, Host and Content-Length, body), request() hands out the next.
 */
export function cyclingRequests(requests: readonly LoadRequest[]): string {
  const table = (headers: Record<string, string>) =>
    `{ ${Object.entries(headers)
      .map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}`)
      .join(', ')} }`
  return [
    'local load = {',
    ...requests.map((r) => `  { ${table(r.headers)}, ${luaString(r.body)} },`),
    '}',
    'local formatted = {}',
    'local next_request = 0',
    'init = function(args)',
    '  for i, r in ipairs(load) do formatted[i] = wrk.format("POST", nil, r[1], r[2]) end',
    'end',
    'request = function()',
    '  next_request = next_request % #formatted + 1',
    '  return formatted[next_request]',
    'end',
  ].join('\n')
}

/**
 * One wrk run (loopback only): POSTs `body` with `headers`, or cycles through `requests`, each
 * connection taking the next one in turn.
 */
export async function wrk(options: {
  url: string
  body?: string
  headers?: Record<string, string>
  requests?: readonly LoadRequest[]
  method?: string
  connections?: number
  seconds?: number
}): Promise<WrkResult> {
  if (!Bun.which('wrk')) throw new Error('wrk is not installed (Debian/Ubuntu: apt-get install wrk)')
  const host = new URL(options.url).hostname
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) throw new Error('load tests target loopback only')
  const seconds = options.seconds ?? 10
  // wrk stops with up to one request in flight per connection: the server handles those but
  // wrk never counts their answers. For an exact comparison of "answered" and "stored", the
  // connections go quiet (a long delay() before the next request) one second before wrk stops,
  // so every request sent has been answered and counted when it ends. Start on a second
  // boundary so the measured window is known to the millisecond (wrk's clock has seconds only).
  await Bun.sleep(1000 - (Date.now() % 1000) + 5)
  const t0 = Date.now() / 1000
  const stopAt = Math.floor(t0) + seconds
  const lua = [
    `wrk.method = ${JSON.stringify(options.method ?? 'POST')}`,
    options.body !== undefined ? `wrk.body = ${JSON.stringify(options.body)}` : '',
    ...Object.entries(options.headers ?? {}).map(
      ([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`,
    ),
    options.requests ? cyclingRequests(options.requests) : '',
    `delay = function() if os.time() >= ${stopAt} then return 600000 end return 0 end`,
  ].join('\n')
  const script = join(tmpdir(), `bench-wrk-${process.pid}-${randomBytes(3).toString('hex')}.lua`)
  await Bun.write(script, lua)
  const proc = Bun.spawn(
    ['wrk', '-t1', `-c${options.connections ?? 64}`, `-d${seconds + 1}s`, '--latency', '-s', script, options.url],
    { stdout: 'pipe', stderr: 'pipe' },
  )
  const out = await new Response(proc.stdout).text()
  await proc.exited
  await Bun.$`rm -f ${script}`
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0)
  const requests = num(/(\d+) requests in/)
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  return {
    requests,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    rps: requests / (stopAt - t0),
    p50ms: toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? ''),
    p99ms: toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ''),
    errors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  }
}

/** Resident memory of a process, in MB (Linux). */
export async function rssMb(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text()
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024
}

/** A metric's value from Prometheus text. */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'm').exec(text)
  return m ? Number(m[1]) : Number.NaN
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—'

/**
 * The floors' group commit, as the service's: requests join the open batch while those before it
 * are stored, as many batches in flight as the service allows. `join()` hands out the open batch
 * (its state to add to, its `done` to await), with no closure made per request; `write` stores a
 * batch's state.
 */
export class FloorCommit<S> {
  private open: { state: S; done: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined
  private inFlight = 0
  private scheduled = false

  constructor(
    private readonly make: () => S,
    private readonly write: (state: S) => Promise<unknown>,
  ) {}

  join(): { state: S; done: Promise<void> } {
    if (!this.open) {
      const batch = { state: this.make() } as NonNullable<FloorCommit<S>['open']>
      batch.done = new Promise<void>((resolve, reject) => {
        batch.resolve = resolve
        batch.reject = reject
      })
      batch.done.catch(() => {})
      this.open = batch
      this.kick()
    }
    return this.open
  }

  private kick(): void {
    if (this.scheduled || !this.open || this.inFlight >= BATCHES_IN_FLIGHT) return
    this.scheduled = true
    setImmediate(this.send)
  }

  private readonly send = (): void => {
    this.scheduled = false
    const batch = this.open
    if (!batch || this.inFlight >= BATCHES_IN_FLIGHT) return
    this.open = undefined
    this.inFlight++
    this.write(batch.state)
      .then(
        () => batch.resolve(),
        (err) => batch.reject(err),
      )
      .finally(() => {
        this.inFlight--
        this.kick()
      })
  }
}

/**
 * A bench server on loopback with `/healthz` and `POST /e` (everything else 404), that closes
 * what it holds on SIGTERM: the stored floor, the counters floor and the umami comparator.
 */
export function serveOnE(post: (request: Request) => Promise<Response>, close: () => Promise<unknown>): void {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: Number(process.env.PORT ?? 0),
    routes: { '/healthz': new Response('ok'), '/e': { POST: post } },
    fetch: () => new Response(null, { status: 404 }),
  })
  process.on('SIGTERM', async () => {
    server.stop(true)
    await close()
    process.exit(0)
  })
}
