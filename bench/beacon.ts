/**
 * Beacon ingest under load: wrk POSTs the browser-like load of bench/mix.ts (visits with referrer
 * and campaign, single-page app views, feature uses; ten browsers, several hundred client
 * addresses in `X-Forwarded-For`) to `/e` on 64 connections, against our server, the original
 * pattern's counting behind the same app, a peer's write path (one Postgres row per event,
 * bench/umami-server.ts), a bare Bun.serve (the ceiling), one that reads the body (the floor),
 * and one that reads it and stores one count per group commit before answering (the stored
 * floor). Every server runs with `TRUST_PROXY=1`, so all read the same headers (the floors
 * ignore them). Each server first gets a warm-up of the same load ({@link WARMUP_SECONDS}), not
 * measured. For the storing servers it checks that Redis (or Postgres) holds exactly the 2xx
 * answers wrk counted in the measured run, and counts Redis round trips and commands per event; for all, the
 * server's CPU time per request, and for the storing ones the store's (Redis's, or the Postgres
 * backends') as well.
 *
 * `beacon-sites` is our server with {@link SITES} sites added through `POST /analytics/sites`
 * before its warm-up (site1.example.com … site50.example.com) and the same load spread over their
 * pages (bench/mix.ts `spreadOverSites`): each beacon's site is found by its Origin, and one group
 * commit writes the counts of many sites. Its exactness check sums the sites' counts; the sites
 * are deleted when it ends, so every other target runs with the default site alone.
 *
 * `beacon-single` is the earlier load, for comparison with earlier runs: one fixed page view from
 * one User-Agent and one address (the socket's; no `TRUST_PROXY`), against our server;
 * `baseline-single` is the same against the baseline.
 */
import type { Pool } from '@neondatabase/serverless'
import { createKeys, dayOf, type Keys } from '../src/counters/keys.ts'
import { openDatabase } from '../src/db/pool.ts'
import { openRedis, type Redis } from '../src/db/redis.ts'
import { silentLogger } from '../src/log.ts'
import {
  ADMIN_TOKEN,
  type BenchServices,
  BROWSER_UA,
  cpuMicros,
  INGEST_TOKEN,
  metricValue,
  rssMb,
  STORED_FLOOR_FIELD,
  startChild,
  storedFloorKey,
  type WrkResult,
  wrk,
} from './lib.ts'
import { beaconMix, MIX_EVENT_TYPES, siteDomainOf, spreadOverSites } from './mix.ts'

export const BEACON_BODY = JSON.stringify({ event_type: 'page_view', properties: { path: '/pricing' } })
/** What a browser's sendBeacon from a page on another origin carries that the server reads. */
export const BEACON_HEADERS = {
  'Content-Type': 'text/plain;charset=UTF-8',
  'User-Agent': BROWSER_UA,
  Origin: 'https://shop.example.com',
}

export type Target =
  | 'ceiling'
  | 'floor'
  | 'stored'
  | 'counters'
  | 'beacon'
  | 'beacon-sites'
  | 'beacon-single'
  | 'pattern'
  | 'umami'
  | 'baseline'
  | 'baseline-single'

/** The load of every target but `beacon-sites`, `beacon-single` and `baseline-single`. */
const MIX = beaconMix()

/** Sites `beacon-sites` adds before its warm-up, and spreads the load over. */
export const SITES = 50
/** The load of `beacon-sites`: the same requests, from the pages of {@link SITES} sites. */
const SITES_MIX = spreadOverSites(MIX, SITES)

/** The table, as the bench creates it in its database before each run of this target. */
export const WEBSITE_EVENT = [
  'DROP TABLE IF EXISTS website_event',
  `CREATE TABLE website_event (
    event_id uuid PRIMARY KEY,
    website_id uuid NOT NULL,
    session_id uuid NOT NULL,
    visit_id uuid NOT NULL,
    created_at timestamptz(6) DEFAULT now(),
    url_path varchar(500) NOT NULL,
    url_query varchar(500),
    referrer_path varchar(500),
    referrer_query varchar(500),
    referrer_domain varchar(500),
    utm_source varchar(255),
    utm_medium varchar(255),
    utm_campaign varchar(255),
    hostname varchar(100),
    event_type integer NOT NULL DEFAULT 1,
    event_name varchar(50)
  )`,
  'CREATE INDEX website_event_created_at_idx ON website_event (created_at)',
]

/**
 * Another checkout of this service (BENCH_BASELINE, e.g. a `git worktree` of an earlier commit),
 * run as one more target of the same interleaved rounds: a change's before and after, measured
 * side by side.
 */
export const BASELINE_DIR = process.env.BENCH_BASELINE

/** How the baseline is named in the results: its commit, not where it happens to be checked out. */
export function baselineName(dir: string): string {
  const head = Bun.spawnSync(['git', '-C', dir, 'rev-parse', '--short', 'HEAD'])
  return head.exitCode === 0 ? `commit ${head.stdout.toString().trim()}` : 'another checkout'
}

export interface BeaconResult extends WrkResult {
  target: Target
  /** events Redis (or Postgres, for umami) holds after the run (undefined for the ceiling and floor) */
  counted?: number
  roundTripsPerEvent?: number
  commandsPerEvent?: number
  rssMb: number
  /** the p99 of the warm-up before the measured run, from a cold start (ms) */
  warmupP99ms?: number
  /** server CPU (user + system) per answered request, µs */
  cpuUsPerRequest: number
  /**
   * the store's CPU per answered request, µs: the Redis server's (all of it, so any other client's
   * work on the machine too), or for umami the Postgres backends of the bench's database
   */
  storeCpuUsPerRequest?: number
}

async function redisCommandCalls(redis: Redis): Promise<{ calls: number; evalsha: number }> {
  const info = await redis.info('commandstats')
  let calls = 0
  let evalsha = 0
  for (const m of info.matchAll(/^cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/gm)) {
    const n = Number(m[2])
    // INFO, and the commands of this measurement itself, are not the server's work
    if (m[1] === 'info') continue
    calls += n
    if (m[1] === 'evalsha' || m[1] === 'eval') evalsha += n
  }
  return { calls, evalsha }
}

/**
 * Events of the load's types counted today (and yesterday, across midnight) in the live hashes of
 * the sites given. The live hashes, not the pending ones: a flush (which the pending log's rows
 * start once they are many) moves the pending counts away, never the live ones.
 */
async function liveCount(redis: Redis, sites: readonly Keys[]): Promise<number> {
  let total = 0
  for (const day of new Set([dayOf(Date.now() - 86_400_000), dayOf(Date.now())])) {
    for (const keys of sites) {
      const hash = await redis.hGetAll(keys.shards[0]!.liveHourly(day))
      for (const [field, v] of Object.entries(hash)) {
        if (MIX_EVENT_TYPES.some((type) => field.startsWith(`${type}|`))) total += Number(v)
      }
    }
  }
  return total
}

/** Events stored under the pattern's layout: its daily counter of each type the load sends. */
async function patternCount(redis: Redis, prefix: string): Promise<number> {
  let total = 0
  for (const day of new Set([dayOf(Date.now() - 86_400_000), dayOf(Date.now())])) {
    for (const type of MIX_EVENT_TYPES) total += Number((await redis.get(`${prefix}:counter:${type}:${day}`)) ?? 0)
  }
  return total
}

/**
 * Events stored by a target (Redis's layout of ours, the pattern's or the stored floor's; rows for
 * umami). Ours counts for the default site, or for `sites` when it was given some.
 */
async function stored(
  redis: Redis,
  pool: Pool | undefined,
  prefix: string,
  target: Target,
  sites: readonly number[],
): Promise<number> {
  if (target === 'stored') return Number((await redis.hGet(storedFloorKey(prefix), STORED_FLOOR_FIELD)) ?? 0)
  if (target === 'pattern') return patternCount(redis, prefix)
  if (target === 'umami') return Number((await pool!.query('SELECT count(*)::int AS n FROM website_event')).rows[0].n)
  const keys = createKeys(prefix)
  return liveCount(redis, sites.length > 0 ? sites.map((id) => keys.forSite(id)) : [keys])
}

/**
 * Adds {@link SITES} sites through the API, as an admin would, each id pushed to `ids` as it is
 * made (so that what was made is deleted even when a later one fails). Each answer comes once the
 * server's registry holds the new site.
 */
async function addSites(url: string, ids: number[]): Promise<void> {
  for (let n = 1; n <= SITES; n++) {
    const response = await fetch(`${url}/analytics/sites`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ domains: [siteDomainOf(n)] }),
    })
    if (response.status !== 201) throw new Error(`adding site ${n}: ${response.status} ${await response.text()}`)
    ids.push(((await response.json()) as { id: number }).id)
  }
}

/**
 * Deletes the sites `addSites` made, with their counts: the bench's database is one for the whole
 * run, and the next target must start with the default site alone.
 */
async function deleteSites(url: string, ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    const response = await fetch(`${url}/analytics/sites/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    if (response.status !== 204) throw new Error(`deleting site ${id}: ${response.status} ${await response.text()}`)
  }
}

/** CPU used so far by the Redis server (user + system), in µs. */
async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  return (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1_000_000
}

/** CPU used so far by each Postgres backend connected to the bench's database, in µs, by pid. */
async function backendCpuMicros(pool: Pool, database: string): Promise<Map<number, number>> {
  const { rows } = await pool.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database])
  const cpu = new Map<number, number>()
  for (const { pid } of rows as { pid: number }[]) {
    // a backend that has just exited has no /proc entry: it counts as nothing
    const micros = await cpuMicros(pid).catch(() => undefined)
    if (micros !== undefined) cpu.set(pid, micros)
  }
  return cpu
}

/** What backends used between two readings, those that were there before and those that came since. */
function backendCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0
  for (const [pid, micros] of after) total += micros - (before.get(pid) ?? 0)
  return total
}

/**
 * Seconds of the same load each server gets before its measured run, not measured: a server in
 * production runs warm (its code compiled by the JIT, its heap grown, its caches of User-Agents,
 * addresses and names filled). Measured from a cold start, the first second's compiling sets
 * the p99 and says nothing of the steady state; the warm-up's own p99 is kept beside it
 * (`warmupP99ms`).
 */
export const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? 3)

export async function beaconScenario(services: BenchServices, target: Target, seconds: number): Promise<BeaconResult> {
  const prefix = services.newPrefix()
  const script = {
    ceiling: 'bench/ceiling.ts',
    floor: 'bench/floor.ts',
    stored: 'bench/stored-floor.ts',
    counters: 'bench/counters-floor.ts',
    beacon: 'src/index.ts',
    'beacon-sites': 'src/index.ts',
    'beacon-single': 'src/index.ts',
    pattern: 'bench/pattern-server.ts',
    umami: 'bench/umami-server.ts',
    baseline: `${BASELINE_DIR}/src/index.ts`,
    'baseline-single': `${BASELINE_DIR}/src/index.ts`,
  }[target]
  const single = target === 'beacon-single' || target === 'baseline-single'
  let db: Awaited<ReturnType<typeof openDatabase>> | undefined
  if (target === 'umami') {
    db = await openDatabase(services.databaseUrl, { max: 1 })
    for (const statement of WEBSITE_EVENT) await db.pool.query(statement)
  }
  const server = await startChild(script, {
    REDIS_URL: services.redisUrl,
    DATABASE_URL: services.databaseUrl,
    REDIS_PREFIX: prefix,
    ADMIN_TOKEN,
    INGEST_TOKEN,
    MIGRATE_ON_START: 'false',
    // the client address of the mix is in X-Forwarded-For, as behind a proxy or CDN
    ...(single ? {} : { TRUST_PROXY: '1' }),
  })
  const redis = await openRedis(services.redisUrl, silentLogger)
  const url = `${server.url}/e`
  const requests = target === 'beacon-sites' ? SITES_MIX : MIX
  const load = (seconds: number) =>
    single ? wrk({ url, body: BEACON_BODY, headers: BEACON_HEADERS, seconds }) : wrk({ url, requests, seconds })
  const groupCommits = async () =>
    metricValue(
      await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text(),
      'analytics_group_commit_requests_count',
    )
  const ours = target === 'beacon' || target === 'beacon-sites' || single || target === 'baseline'
  const sites: number[] = []
  try {
    // before the warm-up, as a deployment's sites are there before its beacons
    if (target === 'beacon-sites') await addSites(server.url, sites)
    const warmup = WARMUP_SECONDS > 0 ? await load(WARMUP_SECONDS) : undefined
    // what the warm-up stored, and did, is subtracted: every figure is the measured run's
    const storedBefore = await stored(redis, db?.pool, prefix, target, sites)
    const commitsBefore = ours ? await groupCommits() : 0
    const before = await redisCommandCalls(redis)
    const storeBefore = db ? await backendCpuMicros(db.pool, services.databaseName) : await redisCpuMicros(redis)
    const cpuBefore = await cpuMicros(server.pid)
    const result = await load(seconds)
    const cpuUsPerRequest = ((await cpuMicros(server.pid)) - cpuBefore) / result.requests
    const rss = await rssMb(server.pid)
    const warmupP99ms = warmup?.p99ms
    if (target === 'ceiling' || target === 'floor')
      return { ...result, target, rssMb: rss, cpuUsPerRequest, warmupP99ms }
    const storeCpu = db
      ? backendCpuDelta(storeBefore as Map<number, number>, await backendCpuMicros(db.pool, services.databaseName))
      : (await redisCpuMicros(redis)) - (storeBefore as number)
    const after = await redisCommandCalls(redis)
    const counted = (await stored(redis, db?.pool, prefix, target, sites)) - storedBefore
    const ok = result.requests - result.non2xx
    const common = {
      ...result,
      target,
      warmupP99ms,
      counted,
      rssMb: rss,
      cpuUsPerRequest,
      storeCpuUsPerRequest: storeCpu / result.requests,
    }
    if (target === 'umami') return common
    const roundTrips = ours ? (await groupCommits()) - commitsBefore : after.calls - before.calls
    return {
      ...common,
      roundTripsPerEvent: roundTrips / ok,
      commandsPerEvent: (after.calls - before.calls) / ok,
    }
  } finally {
    try {
      await deleteSites(server.url, sites)
    } finally {
      await redis.close()
      await server.stop()
      await db?.close()
    }
  }
}

/** Server batch ingest: wrk POSTs 100-event batches to /analytics/events. */
export async function batchScenario(
  services: BenchServices,
  seconds: number,
): Promise<WrkResult & { eventsPerSecond: number; counted: number }> {
  const prefix = services.newPrefix()
  const server = await startChild('src/index.ts', {
    REDIS_URL: services.redisUrl,
    DATABASE_URL: services.databaseUrl,
    REDIS_PREFIX: prefix,
    INGEST_TOKEN,
    MIGRATE_ON_START: 'false',
  })
  const redis = await openRedis(services.redisUrl, silentLogger)
  try {
    const types = ['generation_completed', 'feature_used', 'user_login', 'page_view']
    const body = JSON.stringify(
      Array.from({ length: 100 }, (_, i) => ({
        event_type: types[i % types.length],
        user_id: `user-${i % 37}`,
        properties: { feature_name: `feature-${i % 5}`, path: `/p/${i % 11}` },
      })),
    )
    const result = await wrk({
      url: `${server.url}/analytics/events`,
      body,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INGEST_TOKEN}` },
      seconds,
    })
    const keys = createKeys(prefix)
    let counted = 0
    for (const day of new Set([dayOf(Date.now() - 86_400_000), dayOf(Date.now())])) {
      for (const v of Object.values(await redis.hGetAll(keys.shards[0]!.liveHourly(day)))) counted += Number(v)
    }
    return { ...result, eventsPerSecond: result.rps * 100, counted }
  } finally {
    await redis.close()
    await server.stop()
  }
}
