/**
 * Beacon ingest under load: wrk POSTs a text/plain page view to `/e` on 64 connections, against
 * our server, the original pattern's counting behind the same app, a bare Bun.serve (the
 * ceiling), one that reads the body (the floor), and one that reads it and stores one count per
 * group commit before answering (the stored floor). For the counting servers it checks that
 * Redis holds exactly the 2xx answers wrk counted, and counts Redis round trips and commands per
 * event; for all, the server's CPU time per request.
 */
import { createKeys, dayOf } from '../src/counters/keys.ts'
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

export const BEACON_BODY = JSON.stringify({ event_type: 'page_view', properties: { path: '/pricing' } })
/** What a browser's sendBeacon from a page on another origin carries that the server reads. */
export const BEACON_HEADERS = {
  'Content-Type': 'text/plain;charset=UTF-8',
  'User-Agent': BROWSER_UA,
  Origin: 'https://shop.example.com',
}

export type Target = 'ceiling' | 'floor' | 'stored' | 'beacon' | 'pattern' | 'baseline'

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
  /** events Redis holds after the run (undefined for the ceiling) */
  counted?: number
  roundTripsPerEvent?: number
  commandsPerEvent?: number
  rssMb: number
  /** server CPU (user + system) per answered request, µs */
  cpuUsPerRequest: number
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

/** Events stored for today (and yesterday, across midnight) under our layout or the pattern's. */
async function stored(redis: Redis, prefix: string, target: Target): Promise<number> {
  if (target === 'stored') return Number((await redis.hGet(storedFloorKey(prefix), STORED_FLOOR_FIELD)) ?? 0)
  let total = 0
  for (const day of new Set([dayOf(Date.now() - 86_400_000), dayOf(Date.now())])) {
    if (target === 'beacon' || target === 'baseline') {
      const hash = await redis.hGetAll(createKeys(prefix).shards[0]!.liveHourly(day))
      for (const [field, v] of Object.entries(hash)) if (field.startsWith('page_view|')) total += Number(v)
    } else {
      total += Number((await redis.get(`${prefix}:counter:page_view:${day}`)) ?? 0)
    }
  }
  return total
}

export async function beaconScenario(services: BenchServices, target: Target, seconds: number): Promise<BeaconResult> {
  const prefix = services.newPrefix()
  const script = {
    ceiling: 'bench/ceiling.ts',
    floor: 'bench/floor.ts',
    stored: 'bench/stored-floor.ts',
    beacon: 'src/index.ts',
    pattern: 'bench/pattern-server.ts',
    baseline: `${BASELINE_DIR}/src/index.ts`,
  }[target]
  const server = await startChild(script, {
    REDIS_URL: services.redisUrl,
    DATABASE_URL: services.databaseUrl,
    REDIS_PREFIX: prefix,
    ADMIN_TOKEN,
    INGEST_TOKEN,
    MIGRATE_ON_START: 'false',
  })
  const redis = await openRedis(services.redisUrl, silentLogger)
  try {
    const before = await redisCommandCalls(redis)
    const cpuBefore = await cpuMicros(server.pid)
    const result = await wrk({ url: `${server.url}/e`, body: BEACON_BODY, headers: BEACON_HEADERS, seconds })
    const cpuUsPerRequest = ((await cpuMicros(server.pid)) - cpuBefore) / result.requests
    const rss = await rssMb(server.pid)
    if (target === 'ceiling' || target === 'floor') return { ...result, target, rssMb: rss, cpuUsPerRequest }
    const after = await redisCommandCalls(redis)
    const counted = await stored(redis, prefix, target)
    const ok = result.requests - result.non2xx
    let roundTrips = after.calls - before.calls
    if (target === 'beacon' || target === 'baseline') {
      const metrics = await (
        await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      ).text()
      roundTrips = metricValue(metrics, 'analytics_group_commit_requests_count')
    }
    return {
      ...result,
      target,
      counted,
      roundTripsPerEvent: roundTrips / ok,
      commandsPerEvent: (after.calls - before.calls) / ok,
      rssMb: rss,
      cpuUsPerRequest,
    }
  } finally {
    await redis.close()
    await server.stop()
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
