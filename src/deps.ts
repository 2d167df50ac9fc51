/**
 * The service's shared pieces, built once from its clients: key layout, metrics, the group
 * commit and recorder, the flusher and the live hub. Routes take the narrow slice they use.
 *
 * @example
 * const deps = createDeps({ config, redis, pool, log })
 * const app = createApp(deps)
 */

import type { Pool } from '@neondatabase/serverless'
import type { Config } from './config.ts'
import { GroupCommit } from './counters/batcher.ts'
import { type Calendar, createCalendar } from './counters/calendar.ts'
import { createKeys, type Keys } from './counters/keys.ts'
import { Recorder } from './counters/recorder.ts'
import { VisitorHasher } from './counters/visitors.ts'
import { guardedPool } from './db/pool.ts'
import type { Redis } from './db/redis.ts'
import { readRedisInfo } from './db/redis-info.ts'
import { Flusher } from './flush/flusher.ts'
import { type CountryLookup, openCountryLookup } from './geo/country.ts'
import { LiveHub } from './live/hub.ts'
import { LiveHubs } from './live/hubs.ts'
import { redisLiveSource } from './live/source.ts'
import { PostgresEventStore } from './log/postgres.ts'
import { errorMessage, type Logger } from './log.ts'
import { createMetrics, type Metrics, observe } from './metrics.ts'
import { RedisMemory } from './redis-memory.ts'
import { SiteContexts } from './sites/context.ts'
import { SiteRegistry } from './sites/registry.ts'

export interface BaseDeps {
  config: Config
  redis: Redis
  pool: Pool
  log: Logger
  /** the clock events are counted and days read by (Date.now); tests move it */
  now?: () => number
}

export interface Deps extends BaseDeps {
  now: () => number
  /** the days of TIME_ZONE, which every day-level counter counts in */
  calendar: Calendar
  keys: Keys
  metrics: Metrics
  batcher: GroupCommit
  recorder: Recorder
  flusher: Flusher
  /** the SSE feed's poller and subscribers; close it before stopping the HTTP server */
  live: LiveHub
  /** every site's live hub (the default site's is `live`) */
  liveHubs: LiveHubs
  /** Redis's INFO (every master's) and the warning past 80% of maxmemory; start it with the flusher */
  redisMemory: RedisMemory
  /** client address → country (GEOIP_DB) */
  country: CountryLookup
  /** the sites in memory, watched for changes; load and start it with the flusher */
  sites: SiteRegistry
  /** each site's keys, days and visitor hasher */
  contexts: SiteContexts
  /** the rate limit's clock (Date.now); a test moves it instead of waiting for tokens */
  rateLimitClock?: () => number
}

/**
 * One lookup per database file in a process: the file is read whole into memory (7.5 MiB for the
 * bundled one), and tests build many apps.
 */
const lookups = new Map<string, CountryLookup>()
function countryLookup(db: string | undefined): CountryLookup {
  const key = db ?? ''
  let lookup = lookups.get(key)
  if (!lookup) {
    lookup = openCountryLookup(db)
    lookups.set(key, lookup)
  }
  return lookup
}

export function createDeps(base: BaseDeps): Deps {
  const { config, redis, log } = base
  const now = base.now ?? Date.now
  const calendar = createCalendar(config.timeZone)
  const keys = createKeys(config.redisPrefix, config.redisShards)
  const metrics = createMetrics()
  let failing = false
  // browser events are the capped ones, server events the others
  const acceptedBrowser = metrics.accepted.labels('browser')
  const acceptedServer = metrics.accepted.labels('server')
  const clientGone = metrics.rejected.labels('client_gone')
  let droppedSince = 0
  const batcher = new GroupCommit(redis, keys, {
    ttlSeconds: config.counterTtlSeconds,
    maxPendingRows: config.eventsPendingMax,
    calendar,
    timeoutMs: config.redisTimeoutMs,
    onVisitorsLost(error) {
      metrics.redisErrors.inc()
      log.warn('visitor hashes not added; counts were stored', { error: errorMessage(error) })
    },
    onCommit({ requests, gone, cappedEvents, uncappedEvents, rows, droppedRows, seconds, error }) {
      if (gone > 0) {
        clientGone.inc(gone)
        log.debug('requests left out: their clients had gone', { requests: gone })
      }
      if (requests === 0) return
      metrics.batchRequests.observe(requests)
      metrics.batchSeconds.observe(seconds)
      if (error) {
        metrics.redisErrors.inc()
        // one line when the failure starts, one when it ends: not one per batch
        if (!failing) log.error('counters not stored: answering 503', { error: errorMessage(error) })
        failing = true
        return
      }
      if (failing) {
        failing = false
        log.info('counters stored again')
      }
      // counted per batch, not per request: this is on every beacon's path
      if (cappedEvents > 0) acceptedBrowser.inc(cappedEvents)
      if (uncappedEvents > 0) acceptedServer.inc(uncappedEvents)
      if (rows > droppedRows) metrics.logRows.inc(rows - droppedRows)
      if (droppedRows > 0) {
        metrics.logDropped.inc(droppedRows)
        // at most one line a minute while rows are dropped
        const now = Date.now()
        if (now - droppedSince > 60_000) {
          droppedSince = now
          log.error('event log rows dropped: EVENTS_PENDING_MAX rows are waiting for Postgres; counters stay exact', {
            rows: droppedRows,
            max: config.eventsPendingMax,
          })
        }
      }
    },
  })
  // Each shard keeps its own per-day "seen" sets, so the caps are split between the shards to
  // keep the bound on Redis memory what the configuration says.
  const perShard = (cap: number) => Math.max(1, Math.ceil(cap / keys.shards.length))
  const caps = {
    users: perShard(config.caps.users),
    features: perShard(config.caps.features),
    paths: perShard(config.caps.paths),
    dimensions: perShard(config.caps.dimensions),
  }
  const recorder = new Recorder(batcher, caps, new VisitorHasher(redis, keys, calendar, config.visitorSaltPeriod))
  const eventStore = new PostgresEventStore(base.pool, now)
  const sites = new SiteRegistry({
    pool: base.pool,
    redis,
    key: keys.sites,
    defaults: {
      timeZone: calendar.zone,
      allowedOrigins: config.allowedOrigins,
      countedProperties: config.countedProperties,
    },
    onError: (error) =>
      log.warn('sites not reloaded; the ones read before stay in use', { error: errorMessage(error) }),
  })
  const contexts = new SiteContexts({ redis, keys, saltPeriod: config.visitorSaltPeriod })
  const flusher = new Flusher(
    {
      redis,
      pool: base.pool,
      keys,
      log,
      metrics,
      eventStore,
      retentionDays: config.eventsRetentionDays,
      sites: () => sites.list().map((site) => site.id),
    },
    { intervalMs: config.flushIntervalMs, ttlSeconds: config.counterTtlSeconds, flushRows: config.eventsFlushRows },
  )
  const live = new LiveHub(redisLiveSource(redis, keys, calendar), { maxClients: config.liveMaxClients, log, now })
  const redisMemory = new RedisMemory(() => readRedisInfo(redis), log)
  const liveHubs = new LiveHubs(() => deps.live, {
    redis,
    maxClients: config.liveMaxClients,
    zone: calendar.zone,
    log,
    now,
  })
  observe(metrics, flusher, liveHubs, redisMemory)
  const deps: Deps = {
    ...base,
    pool: guardedPool(base.pool),
    now,
    calendar,
    keys,
    metrics,
    batcher,
    recorder,
    flusher,
    live,
    redisMemory,
    country: countryLookup(config.geoipDb),
    sites,
    contexts,
    liveHubs,
  }
  return deps
}
