/**
 * Where the beacon's own time goes, step by step: the steps `POST /e` (src/routes/beacon.ts)
 * takes for a request, in its order, each timed alone in a tight loop over the requests of the
 * browser-like load (bench/mix.ts), by calling the service's own functions in this process. What
 * the bench's stored floor also does (HTTP, reading the body, one Redis call per group commit) is
 * left out: the sum is the beacon's work beyond the stored floor, as far as it can be timed
 * outside the server.
 *
 * Each figure is µs per request of the load, so a step only visits take (the referrer, the
 * country) weighs a third of its cost per visit. Every step runs over the whole load many times
 * (warm-up first, then the median of five rounds). A Redis stub answers the two calls the write
 * path makes (the Lua script, and the salt once), so the group commit runs whole: it merges 32
 * requests into counter ops and the script's KEYS and ARGV, as at 64 connections, and settles.
 * Given the bench's services, the Lua call of each batch is then also sent to the real Redis and
 * its cost to this process (CPU, one call at a time) set against the stored floor's HINCRBY.
 *
 * What no step here includes: Redis running the script (its own CPU, on the machine's other
 * core), reading headers from Bun's server-side Request rather than one built in-process, the
 * scheduling between requests, and the garbage all of it leaves for the collector under load.
 * As a check on the sum, the whole beacon function (beaconRoutes().beacon, configured as in the ingest runs:
 * TRUST_PROXY=1, rate limit off; the Redis stub) also runs in-process, 32 requests at a time.
 *
 * `bun bench/steps.ts` prints the steps alone, without services (no Redis call).
 */
import type { Pool } from '@neondatabase/serverless'
import { isbot } from 'isbot'
import { loadConfig } from '../src/config.ts'
import { APPLY_BATCH } from '../src/counters/apply.lua.ts'
import { Batch, batchScript, newAdmissions } from '../src/counters/batcher.ts'
import type { Calendar } from '../src/counters/calendar.ts'
import type { Caps } from '../src/counters/increments.ts'
import { createKeys, type Keys } from '../src/counters/keys.ts'
import { Names } from '../src/counters/names.ts'
import { VisitorHasher } from '../src/counters/visitors.ts'
import type { Redis } from '../src/db/redis.ts'
import { openRedis } from '../src/db/redis.ts'
import { runScript } from '../src/db/script.ts'
import { createDeps } from '../src/deps.ts'
import { clientInfo } from '../src/events/client.ts'
import { referrerSource } from '../src/events/source.ts'
import type { CountedEvent, Visit } from '../src/events/types.ts'
import { validateEvents } from '../src/events/validate.ts'
import { pageHost, visitOf } from '../src/events/visit.ts'
import { countryFromHeaders } from '../src/geo/country.ts'
import { silentLogger } from '../src/log.ts'
import { beaconRoutes, type Connection } from '../src/routes/beacon.ts'
import { checkMediaType, parseJson } from '../src/routes/body.ts'
import { clientAddress } from '../src/routes/client-ip.ts'
import { type BenchServices, STORED_FLOOR_FIELD, storedFloorKey } from './lib.ts'
import { beaconMix } from './mix.ts'

/** Requests merged into one group commit, as at the bench's 64 connections (about half in each). */
export const BATCH = 32
const ROUNDS = 5
/** Passes over the load per round (600 requests each), and before the first round. */
const PASSES = 40
const WARM_UP_PASSES = 10

export interface Step {
  step: string
  /** median µs per request of the load */
  us: number
  /** a part of the step above it, or a cost it avoids by its cache: not added to the sum */
  part?: boolean
}

export interface StepsResult {
  steps: Step[]
  /** the steps that are not parts, added up */
  sumUs: number
  /** the whole beacon function, in-process, per request */
  wholeUs: number
  /** the Lua call of one group commit of {@link BATCH} requests */
  scriptKeys: number
  scriptArgs: number
  /** distinct countries the load's client addresses resolve to, by the bundled database */
  countries: number
}

let sink = 0
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!

/** Median µs per call of `f(i)` over `n` indexes per pass, after a warm-up. */
function usPer(n: number, f: (i: number) => unknown): number {
  for (let p = 0; p < WARM_UP_PASSES; p++) for (let i = 0; i < n; i++) if (f(i)) sink++
  const times: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const started = Bun.nanoseconds()
    for (let p = 0; p < PASSES; p++) for (let i = 0; i < n; i++) if (f(i)) sink++
    times.push((Bun.nanoseconds() - started) / (PASSES * n) / 1000)
  }
  return median(times)
}

/** Median µs per call of `f`, each round on `count` fresh keys made before it starts. */
function usPerFresh(count: number, make: (i: number) => string, f: (key: string) => unknown): number {
  let unique = 0
  const times: number[] = []
  for (let round = 0; round <= ROUNDS; round++) {
    const keys = Array.from({ length: count }, () => make(unique++))
    const started = Bun.nanoseconds()
    for (const key of keys) if (f(key)) sink++
    // the first round is the warm-up
    if (round > 0) times.push((Bun.nanoseconds() - started) / count / 1000)
  }
  return median(times)
}

/** Median µs per request of `batch(start)`, which handles {@link BATCH} requests from `start`. */
async function usPerBatch(n: number, batch: (start: number) => Promise<unknown>): Promise<number> {
  const batches = Math.floor(n / BATCH)
  for (let p = 0; p < WARM_UP_PASSES; p++) for (let b = 0; b < batches; b++) await batch(b * BATCH)
  const times: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const started = Bun.nanoseconds()
    for (let p = 0; p < PASSES; p++) for (let b = 0; b < batches; b++) await batch(b * BATCH)
    times.push((Bun.nanoseconds() - started) / (PASSES * batches * BATCH) / 1000)
  }
  return median(times)
}

/** Answers the write path's Redis calls at once: the group commit's script, and the salt. */
function redisStub() {
  const seen = { scripts: 0, keys: 0, args: 0 }
  const redis = {
    async evalSha(_sha: string, call: { keys: string[]; arguments: string[] }) {
      seen.scripts++
      seen.keys += call.keys.length
      seen.args += call.arguments.length
      // no member refused for a full set: the group commit learns that every capped value asked
      // about is admitted, and sends it as a plain HINCRBY from then on, as against Redis
      return []
    },
    // SET NX GET of the visitor salt: nothing there yet, so the caller's own is kept
    async set() {
      return null
    },
  }
  return { redis: redis as unknown as Redis, seen }
}

/** The counters' TTL: COUNTER_TTL_SECONDS's default, as in the ingest runs. */
const TTL_SECONDS = 604_800

/**
 * The group commit of the load's batches of {@link BATCH} consecutive requests, by the batcher's
 * own Batch (src/counters/batcher.ts), up to a stage: 1 the requests added and every event
 * counted into the batch's maps (Batch.merge: countEvent into MergedOps, with the instance's
 * remembered strings and cap answers, as after a warm-up), with the visitor hashes; 2 the
 * script's KEYS and ARGV (batchScript).
 */
function batchPipeline(
  events: readonly CountedEvent[][],
  hashes: readonly string[],
  visits: readonly Visit[],
  keys: Keys,
  calendar: Calendar,
  caps: Caps,
) {
  const names = new Names()
  const admissions = newAdmissions()
  return (stage: 1 | 2) =>
    (b: number): number | { keys: string[]; args: string[] } => {
      const batch = new Batch()
      for (let i = b * BATCH; i < (b + 1) * BATCH; i++)
        batch.add({ events: events[i]!, caps, visitor: hashes[i], visit: visits[i] })
      const { merged, ops } = batch.merge({ keys, calendar }, admissions, names)
      if (stage === 1) return ops
      const script = batchScript(merged, { ttl: TTL_SECONDS, dimCap: caps.dimensions })
      // as the batcher does once Redis has answered (here: every member admitted)
      merged.learn([])
      return script
    }
}

/**
 * The pure parts of one group commit ({@link batchPipeline}), each timed as the increment of
 * running the batch up to it over running it up to the one before. What is left of the step above
 * them is the batch's bookkeeping: a turn of the event loop, its timeout timer, promises, metrics.
 */
function groupCommitParts(pipeline: ReturnType<typeof batchPipeline>, batches: number): Step[] {
  const stages = ([1, 2] as const).map((stage) => usPer(batches, pipeline(stage)) / BATCH)
  const names = [
    "counting the batch's events into its maps (Batch.merge: countEvent into MergedOps)",
    "the Lua call's KEYS and ARGV (batchScript: MergedOps.toScriptArgs)",
  ]
  return names.map((name, k) => ({ step: `  of which ${name}`, us: stages[k]! - (stages[k - 1] ?? 0), part: true }))
}

/** Median process CPU µs of `call`, run `count` times in a row (one at a time, as the batcher sends). */
async function cpuPerCall(count: number, call: (k: number) => Promise<unknown>): Promise<number> {
  for (let k = 0; k < count; k++) await call(k)
  const times: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const before = process.cpuUsage()
    for (let k = 0; k < count; k++) await call(k)
    const used = process.cpuUsage(before)
    times.push((used.user + used.system) / count)
  }
  return median(times)
}

/**
 * What the group commit's call to Redis costs this process (encoding the command, the socket
 * write and read, the reply), against the stored floor's one HINCRBY per batch, on the real Redis
 * under a prefix of the bench's own.
 */
async function redisCallSteps(
  services: BenchServices,
  events: readonly CountedEvent[][],
  hashes: readonly string[],
  visits: readonly Visit[],
  calendar: Calendar,
  caps: Caps,
): Promise<Step[]> {
  const prefix = services.newPrefix()
  const keys = createKeys(prefix)
  const batches = Math.floor(events.length / BATCH)
  const build = batchPipeline(events, hashes, visits, keys, calendar, caps)(2)
  const scripts = Array.from({ length: batches }, (_, b) => build(b) as { keys: string[]; args: string[] })
  const redis = await openRedis(services.redisUrl, silentLogger)
  try {
    const script = await cpuPerCall(batches * 10, (k) => {
      const s = scripts[k % batches]!
      return runScript(redis, APPLY_BATCH, s.keys, s.args)
    })
    const hincrby = await cpuPerCall(batches * 10, () =>
      redis.hIncrBy(storedFloorKey(prefix), STORED_FLOOR_FIELD, BATCH),
    )
    return [
      {
        step: `Redis call: the group commit's Lua call beyond the stored floor's HINCRBY (this process's CPU)`,
        us: (script - hincrby) / BATCH,
      },
      { step: `  the Lua call of a batch of ${BATCH}, per request`, us: script / BATCH, part: true },
      { step: `  the stored floor's HINCRBY of a batch of ${BATCH}, per request`, us: hincrby / BATCH, part: true },
    ]
  } finally {
    await redis.close()
  }
}

export async function stepsScenario(services?: BenchServices): Promise<StepsResult> {
  // the configuration of the ingest runs (bench/lib.ts, bench/beacon.ts), defaults otherwise
  const config = loadConfig({
    NODE_ENV: 'production',
    REDIS_URL: 'redis://127.0.0.1:6379',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
    TRUST_PROXY: '1',
    RATE_LIMIT_PER_SECOND: '0',
  })
  const stub = redisStub()
  const deps = createDeps({ config, redis: stub.redis, pool: {} as Pool, log: silentLogger })
  const mix = beaconMix()
  const n = mix.length
  const url = 'http://127.0.0.1:3000/e'
  // what wrk sends too (wrk.format adds it): with it, the route reads the body in one native call
  const withLength = mix.map((r) => ({ ...r.headers, 'Content-Length': String(Buffer.byteLength(r.body)) }))
  const requests = mix.map((r, i) => new Request(url, { method: 'POST', headers: withLength[i], body: r.body }))
  const headers = requests.map((r) => r.headers)
  const texts = mix.map((r) => r.body)
  const userAgents = mix.map((r) => r.headers['User-Agent']!)
  const addresses = mix.map((r) => r.headers['X-Forwarded-For']!)
  const raws = texts.map((t) => JSON.parse(t) as object)
  const validate = (i: number) =>
    validateEvents(raws[i], {
      source: 'browser',
      now: Date.now(),
      keepQueryParams: config.pathQueryParams,
      countedProperties: config.countedProperties,
    })
  const events: CountedEvent[][] = mix.map((_, i) => validate(i).events)
  const clients = userAgents.map((ua) => clientInfo(ua))
  const address = clientAddress(config.trustProxy)
  const country = deps.country
  const cdnCountry = true // TRUST_PROXY=1: a CDN's country header is believed, as in the route
  const who = (i: number) => () => ({
    browser: clients[i]!.browser,
    os: clients[i]!.os,
    device: clients[i]!.device,
    country: (cdnCountry && countryFromHeaders(headers[i]!)) || country(addresses[i]!),
  })
  const hosts = mix.map((_, i) => pageHost(headers[i]!))
  const visits = mix.map((_, i) => visitOf(events[i]!, { host: hosts[i]!, visitor: who(i)() }))
  const visitors = new VisitorHasher(stub.redis, deps.keys, deps.calendar, config.visitorSaltPeriod)
  await visitors.hash(Date.now(), '', '') // fetches (here: makes) the year's salt once
  const hashes = mix.map((_, i) => visitors.hash(Date.now(), addresses[i]!, userAgents[i]!) as string)
  const perShard = (cap: number) => Math.max(1, Math.ceil(cap / deps.keys.shards.length))
  const caps = {
    users: perShard(config.caps.users),
    features: perShard(config.caps.features),
    paths: perShard(config.caps.paths),
    dimensions: perShard(config.caps.dimensions),
  }

  const steps: Step[] = []
  steps.push({
    step: 'headers: Origin (CORS), media type, client address from X-Forwarded-For, User-Agent',
    us: usPer(n, (i) => {
      const request = requests[i]!
      const origin = request.headers.get('origin')
      checkMediaType(request, ['text/plain', 'application/json'])
      return origin && address(request) && request.headers.get('user-agent')
    }),
  })
  steps.push({
    step: 'JSON parse of the body (parseJson)',
    us: usPer(n, (i) => parseJson(texts[i]!, 'a JSON object or an array of objects')),
  })
  steps.push({
    step: 'crawler check and User-Agent parse (clientInfo: isbot and bowser, cached per User-Agent)',
    us: usPer(n, (i) => clientInfo(userAgents[i]!).bot),
  })
  // distinct User-Agents, as a new browser version brings: every one misses the cache
  const newUserAgent = (k: number) =>
    `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.${k >> 8}.${k & 255} Safari/537.36`
  steps.push({
    step: '  a User-Agent not seen before: isbot alone',
    us: usPerFresh(2000, newUserAgent, isbot),
    part: true,
  })
  steps.push({
    step: '  a User-Agent not seen before: clientInfo (isbot and bowser)',
    us: usPerFresh(2000, (k) => newUserAgent(100_000 + k), clientInfo),
    part: true,
  })
  steps.push({
    step: 'validation (validateEvents, browser options)',
    us: usPer(n, (i) => validate(i).events.length),
  })
  steps.push({
    step: 'visits: page host, referrer → source, country (visitOf)',
    us: usPer(n, (i) => visitOf(events[i]!, { host: pageHost(headers[i]!), visitor: who(i)() }).source),
  })
  steps.push({
    step: '  of which referrer → source (referrerSource, cached per referrer)',
    us: usPer(n, (i) => {
      const referrer = events[i]![0]!.referrer
      return referrer !== undefined && referrerSource(referrer).source
    }),
    part: true,
  })
  steps.push({
    step: '  of which country: CDN header, then the lookup (cached per address)',
    us: usPer(n, (i) => events[i]![0]!.referrer !== undefined && who(i)().country),
    part: true,
  })
  // in the load's own blocks, so in the same countries' data
  const blocks = addresses.map((a) => a.split('.').slice(0, 2).join('.'))
  steps.push({
    step: '  an address not seen before: country lookup (one MMDB read), per visit',
    us: usPerFresh(5000, (k) => `${blocks[k % n]}.${(k >> 8) & 255}.${k & 255}`, country),
    part: true,
  })
  steps.push({
    step: 'visitor hash (wyhash of the salt, address, User-Agent)',
    us: usPer(n, (i) => visitors.hash(Date.now(), addresses[i]!, userAgents[i]!)),
  })
  const argsBefore = { ...stub.seen }
  steps.push({
    step: `group commit: ${BATCH} requests merged into counter ops and the Lua call's KEYS and ARGV`,
    us: await usPerBatch(n, (start) => {
      let last: Promise<void> | undefined
      for (let i = start; i < start + BATCH; i++) {
        last = deps.batcher.add({ events: events[i]!, caps, visitor: hashes[i], visit: visits[i] })
      }
      return last!
    }),
  })
  const scripts = stub.seen.scripts - argsBefore.scripts
  const scriptKeys = (stub.seen.keys - argsBefore.keys) / scripts
  const scriptArgs = (stub.seen.args - argsBefore.args) / scripts
  steps.push(
    ...groupCommitParts(batchPipeline(events, hashes, visits, deps.keys, deps.calendar, caps), Math.floor(n / BATCH)),
  )
  const single = events.find((e) => e[0]!.type === 'page_view' && e[0]!.referrer === undefined)!
  steps.push({
    step: `  the same for ${BATCH} identical page views (the single-body load: one event to count, ×${BATCH})`,
    us: await usPerBatch(n, () => {
      let last: Promise<void> | undefined
      for (let i = 0; i < BATCH; i++)
        last = deps.batcher.add({ events: single, caps, visitor: hashes[0], visit: visits[0] })
      return last!
    }),
    part: true,
  })
  steps.push({
    step: 'answer: 202 with Access-Control-Allow-Origin',
    us: usPer(
      n,
      () => new Response(null, { status: 202, headers: { 'access-control-allow-origin': 'https://shop.example.com' } }),
    ),
  })
  if (services) steps.push(...(await redisCallSteps(services, events, hashes, visits, deps.calendar, caps)))
  const sumUs = steps.filter((s) => !s.part).reduce((a, s) => a + s.us, 0)

  // the whole function, as the listening server calls it (the connection's timer is a no-op here)
  const { beacon } = beaconRoutes(deps)
  const connection: Connection = { requestIP: () => ({ address: '127.0.0.1' }), timeout() {} }
  let wrong = 0
  const wholeRound = async (passes: number): Promise<number> => {
    // a body is read once: every request is made anew, before the clock starts
    const fresh = Array.from({ length: passes * n }, (_, k) => {
      return new Request(url, { method: 'POST', headers: withLength[k % n], body: mix[k % n]!.body })
    })
    const started = Bun.nanoseconds()
    for (let start = 0; start + BATCH <= fresh.length; start += BATCH) {
      const answers = await Promise.all(fresh.slice(start, start + BATCH).map((r) => beacon(r, connection)))
      for (const a of answers) if (a.status !== 202) wrong++
    }
    return (Bun.nanoseconds() - started) / (Math.floor(fresh.length / BATCH) * BATCH) / 1000
  }
  await wholeRound(WARM_UP_PASSES)
  const wholeTimes: number[] = []
  for (let round = 0; round < ROUNDS; round++) wholeTimes.push(await wholeRound(PASSES))
  const wholeUs = median(wholeTimes)
  if (wrong > 0) throw new Error(`the beacon answered ${wrong} requests of the load with another status than 202`)

  const countries = new Set(addresses.map((a) => country(a)))
  countries.delete('(unknown)')
  if (sink < 0) console.log(sink)
  return { steps, sumUs, wholeUs, scriptKeys, scriptArgs, countries: countries.size }
}

if (import.meta.main) {
  const r = await stepsScenario()
  const width = Math.max(...r.steps.map((s) => s.step.length))
  for (const s of r.steps) console.log(`${s.step.padEnd(width)}  ${s.us.toFixed(3)} µs`)
  console.log(`${'sum of the steps'.padEnd(width)}  ${r.sumUs.toFixed(3)} µs`)
  console.log(`${'the whole beacon function, in-process'.padEnd(width)}  ${r.wholeUs.toFixed(3)} µs`)
  console.log(`group commit of ${BATCH}: ${r.scriptKeys} KEYS, ${r.scriptArgs} ARGV; ${r.countries} countries`)
}
