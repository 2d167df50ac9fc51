/**
 * Redis sizing: what a day of beacons costs in Redis's own `used_memory`, for an operator to size
 * `maxmemory` from and to know how long a Postgres outage can last before beacons get 503s.
 *
 * A Redis of its own (`redis-server` on loopback, no persistence, no limit), emptied before each
 * case, so `used_memory` counts nothing else. Beacons go through the service's own app in-process
 * (validation, visits, visitor hashes, caps, the group commit), 64 at a time, with the clock
 * moved evenly over one day of `TIME_ZONE`, so the day's hours and quarter-hours all fill. A
 * minute's visitor set lives ten minutes in Redis's own time: after a case only the last ten of
 * the day's minutes are kept, as Redis would have expired the others. Nothing is flushed: every
 * byte is what waits in Redis for the next flush, as through a Postgres outage.
 *
 * Cases: the benchmark's browser-like mix as it is (bench/mix.ts: few distinct values, repeated
 * all day); the same mix where every event brings new values (page, source, campaign, feature,
 * signed-in user, client) within a set of N per kind, below the caps; one page view repeated; and
 * the worst a day can hold from browsers, every event new until every per-day cap is full.
 */
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/pool.ts'
import { closeRedis, openRedis, type Redis } from '../src/db/redis.ts'
import { createDeps } from '../src/deps.ts'
import { silentLogger } from '../src/log.ts'
import { startRedisServer } from '../test/redis-server.ts'
import type { BenchServices } from './lib.ts'
import { beaconMix, MIX_ORIGIN, USER_AGENTS } from './mix.ts'

const DAY_MS = 86_400_000
/** Beacons in flight at once, as the ingest benchmark's connections. */
const CONCURRENCY = 64
/** A minute's visitor set lives ten minutes (src/counters/batcher.ts). */
const LIVE_MINUTES = 10

/** One beacon: its JSON body and the client it comes from. */
interface Beacon {
  body: string
  ua: string
  ip: string
}

export interface SizingCase {
  name: string
  events: number
  /** growth of `used_memory` over the case (within some 70 KB: it moves by that much at rest) */
  bytes: number
  bytesPerEvent: number
  /** MEMORY USAGE of every key of the case: steadier than `used_memory`, without the keyspace's own tables */
  keyBytes: number
  /** pending counter fields (every kind) at the end */
  fields: number
  /** MEMORY USAGE of the case's keys, by what they are */
  byKind: Record<string, number>
}

/** What a key is, from its name (the table of keys in the README). */
function kindOf(key: string): string {
  const name = key.slice(key.indexOf('}:') + 2)
  if (name === 'pend:r') return 'pending log rows'
  if (name.startsWith('visit:')) return "visitors' current visits"
  if (name.startsWith('pend:')) return `pending ${name.slice(5)}`
  if (name.startsWith('seen:')) return 'cap sets'
  if (name.startsWith('live:')) return 'live hashes'
  if (name.startsWith('hll:m:')) return 'minute visitors'
  if (name.startsWith('hll:')) return "day's visitors"
  if (name.startsWith('salt:')) return 'salt'
  return 'other'
}

/**
 * `used_memory` without what clients hold (their buffers come and go with the traffic) and the
 * script cache (loaded once, by the first case): what the keys take, as `maxmemory` counts them.
 */
async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory')
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0)
  return field('used_memory') - field('mem_clients_normal') - field('used_memory_scripts')
}

/** An address of its own for client `i` (a public block, so it has a country). */
const address = (i: number) => `${8 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}.1`

/** The benchmark's mix as it is: its 600 requests in turn. */
function asMixed(events: number): Beacon[] {
  const mix = beaconMix()
  return Array.from({ length: events }, (_, i) => {
    const r = mix[i % mix.length]!
    return { body: r.body, ua: r.headers['User-Agent']!, ip: r.headers['X-Forwarded-For']! }
  })
}

/**
 * The mix's shape (a visit, an app page view, a feature use, in turn) with new values: the `i`th
 * of each of the three takes value `i mod n` of each kind it carries, and every event a signed-in
 * user and a client of the `n`.
 */
function distinctMix(events: number, n: number): Beacon[] {
  return Array.from({ length: events }, (_, i) => {
    const k = Math.floor(i / 3) % n
    const user_id = `user-${i % n}`
    const event =
      i % 3 === 0
        ? {
            event_type: 'page_view',
            user_id,
            properties: {
              path: `/blog/post-${k}`,
              referrer: `https://site-${k}.example/`,
              utm_source: `source-${k}`,
              utm_medium: 'referral',
              utm_campaign: `campaign-${k}`,
            },
          }
        : i % 3 === 1
          ? { event_type: 'page_view', user_id, properties: { path: `/app/projects/${k}` } }
          : { event_type: 'feature_used', user_id, properties: { path: '/app', feature_name: `feature-${k}` } }
    return { body: JSON.stringify([event]), ua: USER_AGENTS[i % USER_AGENTS.length]!, ip: address(i % n) }
  })
}

/** One page view from one client, `events` times. */
function repeated(events: number): Beacon[] {
  const body = JSON.stringify([{ event_type: 'page_view', properties: { path: '/' } }])
  return Array.from({ length: events }, () => ({ body, ua: USER_AGENTS[0]!, ip: '8.8.8.8' }))
}

/** Sends `beacons` through a fresh app on `redisUrl`, its clock spread over one day. */
async function runCase(redisUrl: string, databaseUrl: string, name: string, beacons: Beacon[]): Promise<SizingCase> {
  // the app's client is closed before the last reading, so its buffers on the server are not
  // counted: a reader of its own measures
  const reader = await openRedis(redisUrl, silentLogger)
  const redis = await openRedis(redisUrl, silentLogger)
  const db = await openDatabase(databaseUrl, { max: 1 })
  try {
    await reader.flushAll()
    const before = await usedMemory(reader)
    const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS
    let clock = dayStart
    const config = {
      ...loadConfig({}),
      redisUrl,
      databaseUrl,
      redisPrefix: 'sizing',
      trustProxy: { hops: 1 } as const,
      rateLimit: { perSecond: 0, burst: 0 },
    }
    const deps = createDeps({ config, redis, pool: db.pool, log: silentLogger, now: () => clock })
    const app = createApp(deps)
    for (let i = 0; i < beacons.length; i += CONCURRENCY) {
      const chunk = beacons.slice(i, i + CONCURRENCY)
      clock = dayStart + Math.floor((i / beacons.length) * (DAY_MS - 1))
      const answers = await Promise.all(
        chunk.map((b) =>
          app.handle(
            new Request('http://localhost/e', {
              method: 'POST',
              headers: {
                'content-type': 'text/plain;charset=UTF-8',
                origin: MIX_ORIGIN,
                'user-agent': b.ua,
                'x-forwarded-for': b.ip,
              },
              body: b.body,
            }),
          ),
        ),
      )
      const refused = answers.find((a) => a.status !== 202)
      if (refused) throw new Error(`${name}: a beacon was answered ${refused.status}: ${await refused.text()}`)
    }
    const keys: string[] = []
    for await (const batch of redis.scanIterator({ MATCH: '{sizing*', COUNT: 1000 })) keys.push(...batch)
    // Redis expires a minute's visitors ten minutes after their minute; the clock here ran faster
    const minutes = keys.filter((k) => kindOf(k) === 'minute visitors').sort()
    const expired = minutes.slice(0, Math.max(0, minutes.length - LIVE_MINUTES))
    for (let i = 0; i < expired.length; i += 500) await redis.del(expired.slice(i, i + 500))
    const byKind: Record<string, number> = {}
    let fields = 0
    for (const key of keys) {
      if (expired.includes(key)) continue
      const kind = kindOf(key)
      byKind[kind] = (byKind[kind] ?? 0) + Number(await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']))
      if (kind.startsWith('pending') && kind !== 'pending log rows') fields += await redis.hLen(key)
    }
    await closeRedis(redis)
    const bytes = (await usedMemory(reader)) - before
    const keyBytes = Object.values(byKind).reduce((a, b) => a + b, 0)
    return { name, events: beacons.length, bytes, bytesPerEvent: bytes / beacons.length, keyBytes, fields, byKind }
  } finally {
    await closeRedis(redis)
    await closeRedis(reader)
    await db.close()
  }
}

export interface SizingResult {
  redis: string
  cases: SizingCase[]
  caps: { features: number; paths: number; users: number; dimensions: number }
}

/**
 * The four cases (bounded: 260,000 beacons in all, in-process, on a loopback Redis of its own).
 * `distinct` is the N of the distinct mix, below every default cap.
 */
export async function sizingScenario(services: BenchServices, events = 60_000, distinct = 900): Promise<SizingResult> {
  const server = await startRedisServer(['--appendonly', 'no'])
  try {
    const caps = loadConfig({}).caps
    // every cap full: new values in every event, as many as the largest cap (users)
    const worst = Math.max(caps.users, caps.paths, caps.features, caps.dimensions)
    const cases: SizingCase[] = []
    const run = (name: string, beacons: Beacon[]) => runCase(server.url, services.databaseUrl, name, beacons)
    // not reported: Redis's first scripts and structures, which no later case pays again
    await run('warm-up', asMixed(600))
    cases.push(await run('mix', asMixed(events)))
    cases.push(await run('distinct', distinctMix(events, distinct)))
    cases.push(await run('repeated', repeated(events)))
    cases.push(await run('caps', distinctMix(worst, worst)))
    const version = /redis_version:(\S+)/.exec(await infoOf(server.url))?.[1] ?? '?'
    return { redis: version, cases, caps }
  } finally {
    await server.stop()
  }
}

async function infoOf(url: string): Promise<string> {
  const redis = await openRedis(url, silentLogger)
  try {
    return await redis.info('server')
  } finally {
    await closeRedis(redis)
  }
}
