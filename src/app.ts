/**
 * Builds the HTTP app from its dependencies. It never listens by itself: `src/server.ts` calls
 * `listen`, and tests call `app.handle(new Request(...))`.
 *
 * `/e`, the beacon, is one function (routes/beacon.ts) served outside Elysia: the listening
 * server mounts it as a native Bun route, and `handle` sends `/e` to the same function, so tests
 * see exactly what browsers get. Every other route is an Elysia plugin.
 */
import { cors } from '@elysiajs/cors'
import type { Server } from 'bun'
import { Elysia } from 'elysia'
import type { Deps } from './deps.ts'
import { ERROR_HEADERS, HttpError, redisDown, Unavailable } from './errors.ts'
import { errorMessage } from './log.ts'
import { type BeaconRoute, type BeaconRoutes, beaconRoutes } from './routes/beacon.ts'
import { dashboard } from './routes/dashboard.ts'
import { demo } from './routes/demo.ts'
import { flush } from './routes/flush.ts'
import { funnels } from './routes/funnels.ts'
import { goals } from './routes/goals.ts'
import { health } from './routes/health.ts'
import { ingest } from './routes/ingest.ts'
import { live } from './routes/live.ts'
import { allowedMethods, methodNotAllowed } from './routes/methods.ts'
import { prometheus } from './routes/metrics.ts'
import { openapi } from './routes/openapi.ts'
import { reads } from './routes/reads.ts'
import { sites } from './routes/sites.ts'
import { tracker } from './routes/tracker.ts'

export interface AppOptions {
  /** serve the demo page at `/demo` (`bun run dev` only) */
  demo?: boolean
  /**
   * log, once per User-Agent, that a beacon from a crawler was answered and not counted (`bun run
   * dev` only: someone trying the service with curl or a headless browser sees 202 and no count)
   */
  explainCrawlers?: boolean
}

/** Distinct crawler User-Agents explained before the explanations stop (`bun run dev` only). */
const CRAWLERS_EXPLAINED = 20

/** Logs the first beacons of each crawler User-Agent, up to {@link CRAWLERS_EXPLAINED} of them. */
function explainCrawlers(log: Deps['log']): (userAgent: string) => void {
  const seen = new Set<string>()
  return (userAgent) => {
    if (seen.has(userAgent) || seen.size >= CRAWLERS_EXPLAINED) return
    seen.add(userAgent)
    log.info('beacon not counted: its User-Agent is a crawler’s (tools such as curl and headless browsers are)', {
      userAgent: userAgent.slice(0, 200),
      hint: 'open the page in a browser, or send events from a back end to POST /analytics/events',
    })
  }
}

/** The path the beacon is served at. */
export const BEACON_PATH = '/e'
/** The path of Plausible's Events API, which the beacon's machinery serves too. */
export const PLAUSIBLE_PATH = '/api/event'

function api(deps: Deps, beacon: BeaconRoutes, options: AppOptions) {
  const { config } = deps
  // read from the finished app's routes, below, so that every route is in it
  let allowed: (path: string) => string[] | undefined = () => undefined
  // The listening server serves /e and /api/event natively; app.handle sends them to the same functions.
  const app = new Elysia({
    serve: { routes: { [BEACON_PATH]: nativeBeacon(beacon.beacon), [PLAUSIBLE_PATH]: nativeBeacon(beacon.plausible) } },
  })
    .error({ HttpError })
    .onError(({ code, error, set, request, path }) => {
      if (error instanceof HttpError) return error.toResponse()
      if (redisDown(error)) return new Unavailable('Redis', 'the counts cannot be read', error).toResponse()
      Object.assign(set.headers, ERROR_HEADERS)
      if (code === 'NOT_FOUND') {
        // Elysia does not tell a wrong method from an unknown path
        const methods = allowed(path)
        if (methods) return methodNotAllowed(request.method, methods).toResponse()
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
      // The API's CORS (reads, live feed, ingest); the beacon has its own policy in beacon.ts.
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
    .use(health(deps))
    .use(ingest(deps))
    .use(live(deps))
    .use(flush(deps))
    .use(prometheus(deps))
    .use(reads(deps))
    .use(goals(deps))
    .use(funnels(deps))
    .use(sites(deps))
    .use(tracker())
    .use(dashboard({ ...config, timeZone: deps.calendar.zone }))
  if (options.demo) app.use(demo())
  if (config.openapi) app.use(openapi(() => app.routes, BEACON_PATH))
  allowed = allowedMethods(app.routes)
  return app
}

/** The beacon as a Bun route handler: the server answers for the connection (peer address, timer). */
function nativeBeacon(beacon: BeaconRoute) {
  return (request: Request, server: Server<unknown>) => beacon(request, server)
}

export function createApp(deps: Deps, options: AppOptions = {}) {
  const beacon = beaconRoutes(options.explainCrawlers ? { ...deps, onCrawler: explainCrawlers(deps.log) } : deps)
  const elysia = api(deps, beacon, options)
  return {
    /** Every route but `/e` and `/api/event`, as Elysia serves them. */
    elysia,
    /** Answers one request as the listening server would, without a socket. */
    handle(request: Request): Promise<Response> {
      const url = request.url
      // the pathname alone, without parsing the URL: '/e' followed by nothing, '?' or '#'
      const start = url.indexOf('/', url.indexOf('//') + 2)
      const rest = start < 0 ? '' : url.slice(start)
      if (rest === BEACON_PATH || rest.startsWith(`${BEACON_PATH}?`)) return beacon.beacon(request)
      if (rest === PLAUSIBLE_PATH || rest.startsWith(`${PLAUSIBLE_PATH}?`)) return beacon.plausible(request)
      return elysia.handle(request)
    },
    /**
     * Listens on `port`. Elysia asks Bun for SO_REUSEPORT unless told otherwise, and with it a
     * second server on a taken port starts as if the port were free and takes a share of its
     * connections; `reusePort` is false unless given, so that Bun.serve throws EADDRINUSE instead.
     */
    listen({
      reusePort = false,
      ...options
    }: {
      port: number
      hostname: string
      reusePort?: boolean
    }): Server<unknown> {
      elysia.listen({ ...options, reusePort })
      if (!elysia.server) throw new Error('the HTTP server did not start')
      return elysia.server
    },
    get server(): Server<unknown> | null {
      return elysia.server
    },
    /** Stops listening; `closeActiveConnections` also cuts requests still open. */
    async stop(closeActiveConnections?: boolean): Promise<void> {
      await elysia.stop(closeActiveConnections)
    },
  }
}

export type App = ReturnType<typeof createApp>
