/**
 * `POST /e`: beacons from browsers. One event or an array of at most 50, as JSON sent with
 * `text/plain` (what `navigator.sendBeacon` sends with a string: no CORS preflight) or
 * `application/json`; at most 8 KB. Answers 202 with an empty body once the events are in Redis.
 * Crawlers get the same 202 and are not counted.
 *
 * `GET /e?event_type=&path=&feature_name=` does the same for `<img>` and no-JS pages and answers
 * a 1×1 GIF.
 */
import type { Server } from 'bun'
import { Elysia } from 'elysia'
import { isbot } from 'isbot'
import type { Deps } from '../app.ts'
import { HttpError } from '../errors.ts'
import { validateEvents } from '../events/validate.ts'
import { errorMessage } from '../log.ts'
import type { RejectReason } from '../metrics.ts'
import { mediaType, parseJson, readLimitedText } from './body.ts'
import { overloaded, TokenBuckets } from './limits.ts'

export const BEACON_MAX_BYTES = 8 * 1024

const GIF = Uint8Array.from(atob('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'), (c) => c.charCodeAt(0))
const NO_STORE = { 'cache-control': 'no-store' }

/**
 * The socket peer's address, or a function that looks it up: Bun's `requestIP` costs a system
 * call, which behind trusted proxies is needed only when X-Forwarded-For is missing.
 */
export type PeerAddress = string | undefined | (() => string | undefined)

/** The client address: the socket peer, or behind trusted proxies the X-Forwarded-For entry the nearest of them added. */
export function clientIp(request: Request, peer: PeerAddress, trustedProxies: number): string {
  if (trustedProxies > 0) {
    // Each proxy appends the address it got the request from, so the client's own entry is the
    // one the nearest untrusted hop wrote: counted from the right, never the left, which the
    // client can write whatever it likes into.
    const hops = (request.headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean)
    const client = hops[Math.max(0, hops.length - trustedProxies)]
    if (client) return client
  }
  return (typeof peer === 'function' ? peer() : peer) ?? ''
}

/** The origin a beacon came from: its Origin header, else its Referer's origin. */
function senderOrigin(request: Request): string | undefined {
  const origin = request.headers.get('origin')
  if (origin && origin !== 'null') return origin
  const referer = request.headers.get('referer')
  if (!referer) return undefined
  try {
    return new URL(referer).origin
  } catch {
    return undefined
  }
}

const BOT_CACHE_SIZE = 2000
const botCache = new Map<string, boolean>()

/** isbot, remembered: a site's traffic comes from few distinct User-Agent strings. */
function crawler(ua: string): boolean {
  let bot = botCache.get(ua)
  if (bot === undefined) {
    bot = isbot(ua)
    if (botCache.size >= BOT_CACHE_SIZE) botCache.clear()
    botCache.set(ua, bot)
  }
  return bot
}

export function createBeaconHandler(deps: Deps) {
  const { config, metrics, recorder } = deps
  const allowed = new Set(config.allowedOrigins)

  function refuse(reason: RejectReason, err: HttpError): never {
    metrics.rejected.inc({ reason })
    throw err
  }

  function checkOrigin(request: Request): void {
    if (allowed.size === 0) return
    const origin = senderOrigin(request)
    if (!origin || !allowed.has(origin)) {
      refuse('origin', new HttpError(403, `origin ${origin ?? '(none)'} is not allowed to send events`))
    }
  }

  const rejectedBot = metrics.rejected.labels('bot')
  const buckets = new TokenBuckets({ ...config.rateLimit, now: deps.rateLimitClock })
  const { inFlight } = deps

  /**
   * Admission before any work: the in-flight cap (shed load before memory grows) and the
   * sender's token bucket. Returns the sender's address; call `inFlight.leave()` after.
   */
  function admit(request: Request, peer: PeerAddress): string {
    if (!inFlight.enter()) refuse('overloaded', overloaded())
    const ip = clientIp(request, peer, config.trustProxy)
    const wait = ip === '' ? 0 : buckets.take(ip)
    if (wait > 0) {
      inFlight.leave()
      refuse(
        'rate_limited',
        new HttpError(
          429,
          'too many events from this address; slow down',
          { retry_after: wait },
          {
            'retry-after': String(wait),
          },
        ),
      )
    }
    return ip
  }

  /**
   * Validates and records the events; crawlers are answered like everyone else but not counted
   * (they learn nothing from the answer).
   */
  function count(request: Request, body: unknown, ip: string): Promise<void> | undefined {
    const userAgent = request.headers.get('user-agent') ?? ''
    if (userAgent === '' || crawler(userAgent)) {
      rejectedBot.inc()
      return undefined
    }
    const { events, errors } = validateEvents(body, {
      source: 'browser',
      now: Date.now(),
      keepQueryParams: config.pathQueryParams,
    })
    if (errors.length > 0) refuse('invalid', new HttpError(422, 'invalid events', { errors }))
    return recorder.browser(events, { ip, userAgent })
  }

  /** The media type a POST must have before its body is read (its length is checked by the read). */
  function checkPost(request: Request): void {
    const type = mediaType(request)
    if (type !== 'text/plain' && type !== 'application/json') {
      refuse('content_type', new HttpError(415, 'send the body as text/plain or application/json'))
    }
  }

  /** Parses a POSTed body into the JSON object or array it must be. */
  function parseBody(text: string): object {
    let body: unknown
    try {
      body = parseJson(text)
    } catch (err) {
      refuse('invalid', err as HttpError)
    }
    if (typeof body !== 'object' || body === null) {
      refuse('invalid', new HttpError(400, 'body must be a JSON object or an array of objects'))
    }
    return body
  }

  /** Counts the event a `GET /e` query (or its Referer) describes. */
  function countQuery(request: Request, ip: string): Promise<void> | undefined {
    const params = new URL(request.url).searchParams
    const event: Record<string, unknown> = { event_type: params.get('event_type') ?? 'page_view' }
    const properties: Record<string, string> = {}
    let path = params.get('path')
    if (path === null) {
      const referer = request.headers.get('referer')
      if (referer) path = URL.canParse(referer) ? new URL(referer).pathname : null
    }
    if (path) properties.path = path
    const feature = params.get('feature_name')
    if (feature) properties.feature_name = feature
    if (Object.keys(properties).length > 0) event.properties = properties
    return count(request, event, ip)
  }

  return {
    /**
     * Counts a POSTed beacon; resolves once stored (answer 202), rejects with an HttpError
     * otherwise. One async function from admission to the stored batch: this is the hot path,
     * and every extra async layer costs a promise and a turn of the microtask queue per request.
     */
    async post(request: Request, peer: PeerAddress): Promise<void> {
      checkOrigin(request)
      const ip = admit(request, peer)
      try {
        checkPost(request)
        let text: string
        try {
          text = await readLimitedText(request, BEACON_MAX_BYTES)
        } catch (err) {
          refuse('too_large', err as HttpError)
        }
        await count(request, parseBody(text), ip)
      } finally {
        inFlight.leave()
      }
    },

    /** Counts a `GET /e` pixel request and answers the GIF. */
    async get(request: Request, peer: PeerAddress): Promise<Response> {
      checkOrigin(request)
      const ip = admit(request, peer)
      try {
        await countQuery(request, ip)
      } finally {
        inFlight.leave()
      }
      return new Response(GIF, { headers: { 'content-type': 'image/gif', ...NO_STORE } })
    },
  }
}

export const beacon = (deps: Deps, handler = createBeaconHandler(deps)) =>
  new Elysia({ name: 'beacon' })
    .post(
      '/e',
      async ({ request, server }) => {
        await handler.post(request, () => server?.requestIP(request)?.address)
        return new Response(null, { status: 202, headers: NO_STORE })
      },
      {
        parse: 'none',
        detail: {
          summary: 'Browser beacon',
          description:
            'One event or an array of ≤ 50 (page_view, feature_used, asset_downloaded, asset_shared) ' +
            'as text/plain or application/json, ≤ 8 KB. 202 with an empty body.',
          tags: ['ingest'],
        },
      },
    )
    .get('/e', ({ request, server }) => handler.get(request, () => server?.requestIP(request)?.address), {
      detail: { summary: 'Beacon as a 1×1 GIF (query: event_type, path, feature_name)', tags: ['ingest'] },
    })

/**
 * `POST /e` as a native Bun route for the listening server: the same handler without Elysia's
 * per-request lifecycle, which on this path cost more than counting the event (measured with
 * `bun --cpu-prof` under wrk). Preflights, `GET /e` and `app.handle` still go through Elysia
 * and @elysiajs/cors; this route answers with the same Access-Control-Allow-Origin.
 */
export function nativeBeaconRoute(deps: Deps, handler = createBeaconHandler(deps)) {
  const any = deps.config.allowedOrigins.length === 0
  const withCors = (request: Request, response: Response): Response => {
    const origin = request.headers.get('origin') ?? (any ? '*' : undefined)
    if (origin) response.headers.set('access-control-allow-origin', origin)
    response.headers.set('vary', 'Origin')
    return response
  }
  return async (request: Request, server: Server<unknown>): Promise<Response> => {
    try {
      await handler.post(request, () => server.requestIP(request)?.address)
      // Only the CORS header: the answer to a POST is never stored by a cache (it has no
      // freshness), so Cache-Control and Vary would be bytes and work on every beacon for nothing.
      return new Response(null, {
        status: 202,
        headers: { 'access-control-allow-origin': request.headers.get('origin') ?? '*' },
      })
    } catch (err) {
      if (err instanceof HttpError) return withCors(request, err.toResponse())
      deps.log.error('unhandled error', { route: 'POST /e', error: errorMessage(err) })
      return Response.json({ error: 'internal error' }, { status: 500 })
    }
  }
}
