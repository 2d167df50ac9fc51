/**
 * Beacon ingest under load: wrk POSTs a text/plain page view to `/e` on 64 connections. Checks
 * that the live counter in Redis equals the 2xx responses wrk counted, and reads the group
 * commit's batch sizes from /metrics: Redis round trips per event.
 */
import { createClient } from 'redis'
import { createKeys, dayOf } from '../src/counters/keys.ts'
import {
  ADMIN_TOKEN,
  type BenchServices,
  BROWSER_UA,
  metricValue,
  rssMb,
  startChild,
  type WrkResult,
  wrk,
} from './lib.ts'

export const BEACON_BODY = JSON.stringify({ event_type: 'page_view', properties: { path: '/pricing' } })
export const BEACON_HEADERS = { 'Content-Type': 'text/plain;charset=UTF-8', 'User-Agent': BROWSER_UA }

export interface BeaconResult extends WrkResult {
  counted: number
  roundTrips: number
  eventsPerRoundTrip: number
  rssMb: number
}

/** Sum of one event type's live hourly counts for today (and yesterday, across midnight). */
export async function liveCount(redisUrl: string, prefix: string, type: string): Promise<number> {
  const redis = await createClient({ url: redisUrl }).connect()
  const keys = createKeys(prefix)
  let total = 0
  for (const day of new Set([dayOf(Date.now() - 86_400_000), dayOf(Date.now())])) {
    const hash = await redis.hGetAll(keys.liveHourly(day))
    for (const [field, v] of Object.entries(hash)) if (field.startsWith(`${type}|`)) total += Number(v)
  }
  await redis.close()
  return total
}

export async function beaconScenario(services: BenchServices, seconds: number): Promise<BeaconResult> {
  const prefix = services.newPrefix()
  const server = await startChild('src/index.ts', {
    REDIS_URL: services.redisUrl,
    DATABASE_URL: services.databaseUrl,
    REDIS_PREFIX: prefix,
    ADMIN_TOKEN,
    MIGRATE_ON_START: 'false',
  })
  try {
    const result = await wrk({ url: `${server.url}/e`, body: BEACON_BODY, headers: BEACON_HEADERS, seconds })
    const rss = await rssMb(server.pid)
    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).text()
    const roundTrips = metricValue(metrics, 'analytics_group_commit_requests_count')
    const requests = metricValue(metrics, 'analytics_group_commit_requests_sum')
    return {
      ...result,
      counted: await liveCount(services.redisUrl, prefix, 'page_view'),
      roundTrips,
      eventsPerRoundTrip: requests / roundTrips,
      rssMb: rss,
    }
  } finally {
    await server.stop()
  }
}
