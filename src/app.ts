/**
 * Builds the Elysia app from its dependencies. It never listens: `src/server.ts` does, and tests
 * call `app.handle(new Request(...))`.
 */
import { cors } from '@elysiajs/cors'
import { openapi } from '@elysiajs/openapi'
import type { Pool } from '@neondatabase/serverless'
import { Elysia } from 'elysia'
import type { Config } from './config.ts'
import { GroupCommit } from './counters/batcher.ts'
import { createKeys, type Keys } from './counters/keys.ts'
import { Recorder } from './counters/recorder.ts'
import { VisitorHasher } from './counters/visitors.ts'
import type { Redis } from './db/redis.ts'
import { countersUnavailable, HttpError } from './errors.ts'
import { Flusher } from './flush/flusher.ts'
import { LiveHub } from './live/hub.ts'
import { redisLiveSource } from './live/source.ts'
import type { Logger } from './log.ts'
import { errorMessage } from './log.ts'
import { createMetrics, type Metrics, observe } from './metrics.ts'
import { beacon, createBeaconHandler, nativeBeaconRoute } from './routes/beacon.ts'
import { flush } from './routes/flush.ts'
import { health } from './routes/health.ts'
import { ingest } from './routes/ingest.ts'
import { InFlight } from './routes/limits.ts'
import { live } from './routes/live.ts'
import { prometheus } from './routes/metrics.ts'
import { reads } from './routes/reads.ts'
import { tracker } from './routes/tracker.ts'

export interface BaseDeps {
  config: Config
  redis: Redis
  pool: Pool
  log: Logger
}

export interface Deps extends BaseDeps {
  keys: Keys
  metrics: Metrics
  batcher: GroupCommit
  recorder: Recorder
  flusher: Flusher
  /** requests being worked on by the write routes, capped by MAX_IN_FLIGHT */
  inFlight: InFlight
  /** the SSE feed's poller and subscribers; close it before stopping the HTTP server */
  live: LiveHub
  /** the rate limits' clock (Date.now); a test moves it instead of waiting for tokens */
  rateLimitClock?: () => number
}

/** Builds the shared pieces (keys, metrics, group commit) from the clients. */
export function createDeps(base: BaseDeps): Deps {
  const { config, redis, log } = base
  const keys = createKeys(config.redisPrefix, config.redisShards)
  const metrics = createMetrics()
  let failing = false
  // browser events are the capped ones, server events the others
  const acceptedBrowser = metrics.accepted.labels('browser')
  const acceptedServer = metrics.accepted.labels('server')
  const batcher = new GroupCommit(redis, keys, {
    failure: countersUnavailable,
    ttlSeconds: config.counterTtlSeconds,
    timeoutMs: config.redisTimeoutMs,
    onVisitorsLost(error) {
      metrics.redisErrors.inc()
      log.warn('visitor hashes not added; counts were stored', { error: errorMessage(error) })
    },
    onCommit({ requests, cappedEvents, uncappedEvents, seconds, error }) {
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
    },
  })
  // Each shard keeps its own per-day "seen" sets, so the caps are split between the shards to
  // keep the bound on Redis memory what the configuration says.
  const perShard = (cap: number) => Math.max(1, Math.ceil(cap / keys.shards.length))
  const caps = {
    users: perShard(config.caps.users),
    features: perShard(config.caps.features),
    paths: perShard(config.caps.paths),
  }
  const recorder = new Recorder(batcher, caps, new VisitorHasher(redis, keys))
  const flusher = new Flusher(
    { redis, pool: base.pool, keys, log, metrics },
    { intervalMs: config.flushIntervalMs, ttlSeconds: config.counterTtlSeconds },
  )
  const live = new LiveHub(redisLiveSource(redis, keys), { maxClients: config.liveMaxClients, log })
  observe(metrics, flusher, live)
  return { ...base, keys, metrics, batcher, recorder, flusher, live, inFlight: new InFlight(config.maxInFlight) }
}

export function createApp(deps: Deps) {
  const { config } = deps
  const beaconHandler = createBeaconHandler(deps)
  // The listening server serves POST /e natively (see nativeBeaconRoute); app.handle and every
  // other route go through Elysia.
  return new Elysia({ serve: { routes: { '/e': { POST: nativeBeaconRoute(deps, beaconHandler) } } } })
    .error({ HttpError })
    .onError(({ code, error, set }) => {
      if (error instanceof HttpError) return error.toResponse()
      if (code === 'NOT_FOUND') {
        set.status = 404
        return { error: 'not found' }
      }
      if (code === 'PARSE') {
        set.status = 400
        return { error: 'body is not valid JSON' }
      }
      if (code === 'VALIDATION') {
        set.status = 422
        return { error: 'invalid request', detail: errorMessage(error) }
      }
      deps.log.error('unhandled error', { code: String(code), error: errorMessage(error) })
      set.status = 500
      return { error: 'internal error' }
    })
    .use(
      cors({
        // a function rather than `true`: the plugin then answers `Vary: Origin`, not `Vary: *`,
        // which would keep every response out of HTTP caches
        origin: config.allowedOrigins.length > 0 ? config.allowedOrigins : () => true,
        methods: ['GET', 'POST'],
        allowedHeaders: ['content-type', 'authorization'],
        exposeHeaders: 'content-length',
        credentials: false,
        maxAge: 86_400,
      }),
    )
    .use(
      openapi({
        enabled: config.openapi,
        // the JSON document only: the UI pages load their code from a CDN, which an offline or
        // locked-down deployment cannot (and should not) reach
        provider: null,
        specPath: '/openapi',
        documentation: {
          info: {
            title: 'edge-analytics',
            version: '0.1.0',
            description: 'Privacy-first analytics endpoint: beacons, server batches, exact reads, live counters.',
          },
          components: {
            securitySchemes: {
              admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
              ingest: { type: 'http', scheme: 'bearer', description: 'INGEST_TOKEN' },
              user: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256, sub = user id' },
            },
          },
        },
      }),
    )
    .use(health(deps))
    .use(beacon(deps, beaconHandler))
    .use(ingest(deps))
    .use(live(deps))
    .use(flush(deps))
    .use(prometheus(deps))
    .use(reads(deps))
    .use(tracker())
}

export type App = ReturnType<typeof createApp>
