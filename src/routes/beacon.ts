/**
 * `/e`: beacons from browsers, as one function from a request (and its socket peer) to a
 * response. The listening server mounts it as a native Bun route, outside Elysia's per-request
 * lifecycle (which on this path cost more than counting the event), and `App.handle` calls the
 * same function, so tests and production share every header, refusal and CORS answer.
 *
 * - `POST /e`: one event or an array of at most 50, as JSON sent with `text/plain` (what
 *   `navigator.sendBeacon` sends with a string: no CORS preflight) or `application/json`; at most
 *   8 KB. Answers 202 with an empty body once the events are in Redis.
 * - `GET /e?event_type=&path=&feature_name=`: the same for `<img>` and no-JS pages; a 1×1 GIF.
 * - `OPTIONS /e`: the preflight of an `application/json` POST.
 *
 * Each beacon counts for one site: the one it names (`?site=`, which `t.js` sends from `data-site`)
 * or the one its page's host is a domain of (site-gate.ts). One CORS policy, the site's: its
 * allowed origins (for the default site, `ALLOWED_ORIGINS`; empty, every origin), and a refused
 * origin is never echoed. Crawlers get the same 202 and are not counted.
 */
import type { Config } from '../config.ts'
import type { Recorder } from '../counters/recorder.ts'
import { clientInfo } from '../events/client.ts'
import { BEACON_MAX_BYTES } from '../events/limits.ts'
import { fromPlausible } from '../events/plausible.ts'
import type { CountedEvent, Visit } from '../events/types.ts'
import { type FieldError, validateEvents } from '../events/validate.ts'
import { pageHost, visitOf } from '../events/visit.ts'
import { type CountryLookup, countryFromHeaders } from '../geo/country.ts'
import type { Logger } from '../log.ts'
import type { Metrics } from '../metrics.ts'
import type { SiteContext, SiteContexts } from '../sites/context.ts'
import type { SiteRegistry } from '../sites/registry.ts'
import { bodyFailure, checkMediaType, parseJson, readText, releaseSocketTimer, type SocketTimer } from './body.ts'
import { clientAddress, type Peer } from './client-ip.ts'
import { Slots, TokenBuckets } from './limits.ts'
import { Refusal } from './refusal.ts'
import { SiteGate } from './site-gate.ts'
import { writeErrorResponse } from './write-errors.ts'

/**
 * What the listening server knows of a request's connection: its peer address and its timer (Bun's
 * `Server` is one). Absent where there is no socket (`app.handle`).
 */
export type Connection = Peer & SocketTimer

const GIF = Uint8Array.from(atob('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'), (c) => c.charCodeAt(0))
const POST_TYPES = ['text/plain', 'application/json']
const PREFLIGHT_MAX_AGE = '86400'

export interface BeaconDeps {
  config: Pick<Config, 'trustProxy' | 'rateLimit' | 'pathQueryParams' | 'maxInFlight' | 'bodyTimeoutMs'>
  /** the sites in memory: a beacon's site, its allowed origins and counted properties */
  sites: SiteRegistry
  contexts: SiteContexts
  metrics: Metrics
  recorder: Recorder
  log: Logger
  /** the client address → country lookup (GEOIP_DB) */
  country: CountryLookup
  /** the clock beacons are counted at (Date.now) */
  now?: () => number
  /** the rate limit's clock (Date.now); a test moves it instead of waiting for tokens */
  rateLimitClock?: () => number
  /** told of each beacon from a crawler's User-Agent, which is answered and not counted */
  onCrawler?: (userAgent: string) => void
}

export type BeaconRoute = (request: Request, connection?: Connection) => Promise<Response>

export interface BeaconRoutes {
  /** `/e` */
  beacon: BeaconRoute
  /** `/api/event`: Plausible's Events API */
  plausible: BeaconRoute
}

/**
 * The origin a beacon came from: its Origin header, else its Referer's origin. An opaque origin
 * (`null`: a sandboxed frame, a `data:` or `file:` page) names no sender, so it is never one.
 */
function senderOrigin(request: Request): string | undefined {
  const origin = request.headers.get('origin')
  if (origin && origin !== 'null') return origin
  const referer = request.headers.get('referer')
  if (!referer) return undefined
  try {
    const origin = new URL(referer).origin
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

/** The site a beacon names in its query (`?site=`), if it names one. */
function siteNamed(request: Request): string | undefined {
  const url = request.url
  if (!url.includes('site=')) return undefined
  return new URL(url).searchParams.get('site') ?? undefined
}

export function beaconRoutes(deps: BeaconDeps): BeaconRoutes {
  const { config, metrics, recorder, log, country } = deps
  const now = deps.now ?? Date.now
  const gate = new SiteGate(deps)
  const address = clientAddress(config.trustProxy)
  const buckets = new TokenBuckets({ ...config.rateLimit, now: deps.rateLimitClock })
  // Two budgets: bodies being read (a slow one holds its slot until BODY_TIMEOUT_MS at most)
  // and events being stored (they wait on Redis). Neither holds the other's slots.
  const reading = new Slots(config.maxInFlight)
  const writing = new Slots(config.maxInFlight)
  const rejectedBot = metrics.rejected.labels('bot')
  const body = { limit: BEACON_MAX_BYTES, timeoutMs: config.bodyTimeoutMs }

  /**
   * The beacon's site and the value of Access-Control-Allow-Origin; a {@link Refusal} when the
   * beacon is of no site, or its origin may not send for it (and must not be told anything). The
   * value is never `null`, which every sandboxed frame and `data:` page shares: a page of an
   * opaque origin with an allowed Referer is counted and answered with the Referer's origin. It
   * cannot read that answer, and needs none: a beacon's 202 is empty. `named`: the site the body
   * names, where the query does not (the Events API's `domain`).
   */
  function admitSite(
    request: Request,
    named = siteNamed(request),
    serverSent = false,
  ): { site: SiteContext; origin: string } {
    const sender = senderOrigin(request)
    const { site, anyOrigin } = gate.admit(sender, named, serverSent)
    if (anyOrigin || sender === undefined) {
      const origin = request.headers.get('origin')
      return { site, origin: origin && origin !== 'null' ? origin : '*' }
    }
    return { site, origin: sender }
  }

  function admit(request: Request, connection: Connection | undefined): string {
    const ip = address(request, connection)
    const wait = ip === '' ? 0 : buckets.take(ip)
    if (wait > 0) {
      throw new Refusal(
        'rate_limited',
        429,
        'too many events from this address; slow down',
        { retry_after: wait },
        { 'retry-after': String(wait) },
      )
    }
    return ip
  }

  // behind trusted proxies a CDN's country header is believed; otherwise the address is looked up
  const cdnCountry = !('hops' in config.trustProxy) || config.trustProxy.hops > 0

  /**
   * The events to count, validated, with the visit they would begin (its host is the page's);
   * undefined for a crawler, which gets the same answer as everyone and is not counted (it
   * learns nothing from the answer).
   */
  function eventsOf(
    request: Request,
    site: SiteContext,
    raw: object,
    userAgent: string,
    ip: string,
    host = pageHost(request.headers),
  ): { events: CountedEvent[]; visit: Visit } | undefined {
    const client = clientInfo(userAgent)
    if (client.bot) {
      rejectedBot.inc()
      deps.onCrawler?.(userAgent)
      return undefined
    }
    const { events, errors } = validateEvents(raw, {
      source: 'browser',
      now: now(),
      keepQueryParams: config.pathQueryParams,
      countedProperties: site.site.countedProperties,
    })
    if (errors.length > 0) throw new Refusal('invalid', 422, 'invalid events', { errors })
    const visit = visitOf(events, {
      host,
      visitor: {
        browser: client.browser,
        os: client.os,
        device: client.device,
        country: (cdnCountry && countryFromHeaders(request.headers)) || country(ip),
      },
    })
    return { events, visit }
  }

  /** The event a `GET /e` query (or its Referer) describes. */
  function queryEvent(request: Request): object {
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
    return event
  }

  function preflight(request: Request): Response {
    let origin: string
    try {
      origin = admitSite(request).origin
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      metrics.rejected.inc({ reason: err.label })
      return err.toResponse({ vary: 'Origin' })
    }
    return new Response(null, {
      status: 204,
      headers: {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': 'POST, GET',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': PREFLIGHT_MAX_AGE,
        vary: 'Origin',
      },
    })
  }

  /** The body, read within the reading budget and the body's limits (the beacon's, inline). */
  async function bodyText(request: Request, connection: Connection | undefined): Promise<string> {
    using _slot = reading.take()
    const started = performance.now()
    let text: string
    try {
      text = await readText(request, body, connection)
    } catch (err) {
      throw bodyFailure(err, started, body)
    }
    releaseSocketTimer(request, connection)
    return text
  }

  /**
   * `POST /api/event`: Plausible's Events API (events/plausible.ts), for its tracker and its
   * server-side clients. Counted as a beacon from the browser whose User-Agent and address the
   * request carries (behind TRUST_PROXY, a back end's `X-Forwarded-For`): the same origin policy,
   * rate limit, validation, caps and group commit. Answers 202 `{}` as Plausible does; a body
   * Plausible would refuse gets 400 naming the field as Plausible names it.
   */
  async function plausible(request: Request, connection?: Connection): Promise<Response> {
    const method = request.method
    if (method === 'OPTIONS') return preflight(request)
    let origin: string | undefined
    try {
      if (method !== 'POST') {
        return Response.json(
          { error: `${method} is not allowed here; send POST` },
          { status: 405, headers: { allow: 'POST, OPTIONS', 'x-content-type-options': 'nosniff' } },
        )
      }
      checkMediaType(request, POST_TYPES)
      const ip = admit(request, connection)
      const text = await bodyText(request, connection)
      const { event, host, domains, errors } = fromPlausible(parseJson(text, 'a JSON object'))
      // the site is the first of the event's domains this deployment counts; else its page's, as a beacon's
      const named = domains.find((d) => deps.sites.resolve(d) !== undefined)
      const admitted = admitSite(request, named, true)
      origin = admitted.origin
      if (Object.keys(errors).length > 0) throw new Refusal('invalid', 400, 'invalid event', { errors })
      if (event) {
        const userAgent = request.headers.get('user-agent') ?? ''
        let counted: ReturnType<typeof eventsOf>
        try {
          counted = eventsOf(request, admitted.site, event, userAgent, ip, host)
        } catch (err) {
          // the beacon's own refusal of the translated event, named by field as Plausible does
          if (!(err instanceof Refusal) || !Array.isArray(err.details?.errors)) throw err
          // no prototype: a field is named after a property the sender named (`__proto__`)
          const byField: Record<string, string[]> = Object.create(null)
          for (const e of err.details.errors as FieldError[]) byField[e.field] = [...(byField[e.field] ?? []), e.reason]
          throw new Refusal('invalid', 400, 'invalid event', { errors: byField })
        }
        if (counted) {
          using _slot = writing.take()
          await recorder.browser(counted, { ip, userAgent }, request, admitted.site)
        }
      }
      return new Response('{}', {
        status: 202,
        headers: { 'content-type': 'application/json', 'access-control-allow-origin': origin },
      })
    } catch (err) {
      const cors = origin === undefined ? undefined : { 'access-control-allow-origin': origin }
      return writeErrorResponse(err, { metrics, log, route: `${method} /api/event` }, cors)
    }
  }

  /**
   * One async function from admission to the stored batch: this is the hot path, and every
   * extra async layer costs a promise and a turn of the microtask queue per request.
   */
  async function beacon(request: Request, connection?: Connection): Promise<Response> {
    const method = request.method
    if (method === 'OPTIONS') return preflight(request)
    let origin: string | undefined
    try {
      const { site, origin: allowed } = admitSite(request)
      origin = allowed
      if (method === 'POST') {
        checkMediaType(request, POST_TYPES)
        const ip = admit(request, connection)
        // read here rather than by bodyText: on the hot path an async layer costs a promise a request
        let text: string
        {
          using _slot = reading.take()
          const started = performance.now()
          try {
            text = await readText(request, body, connection)
          } catch (err) {
            throw bodyFailure(err, started, body)
          }
          releaseSocketTimer(request, connection)
        }
        const userAgent = request.headers.get('user-agent') ?? ''
        const counted = eventsOf(request, site, parseJson(text, 'a JSON object or an array of objects'), userAgent, ip)
        if (counted) {
          using _slot = writing.take()
          await recorder.browser(counted, { ip, userAgent }, request, site)
        }
        // Only the CORS header: the answer to a POST is never stored by a cache (it has no
        // freshness), so Cache-Control and Vary would be bytes and work on every beacon for nothing.
        return new Response(null, { status: 202, headers: { 'access-control-allow-origin': origin } })
      }
      if (method === 'GET') {
        const ip = admit(request, connection)
        const userAgent = request.headers.get('user-agent') ?? ''
        const counted = eventsOf(request, site, queryEvent(request), userAgent, ip)
        if (counted) {
          using _slot = writing.take()
          await recorder.browser(counted, { ip, userAgent }, request, site)
        }
        return new Response(GIF, {
          headers: { 'content-type': 'image/gif', 'cache-control': 'no-store', 'access-control-allow-origin': origin },
        })
      }
      return Response.json(
        { error: `${method} is not allowed here; send POST (or GET for a pixel)` },
        { status: 405, headers: { allow: 'POST, GET, OPTIONS', 'x-content-type-options': 'nosniff' } },
      )
    } catch (err) {
      const cors = origin === undefined ? undefined : { 'access-control-allow-origin': origin }
      return writeErrorResponse(err, { metrics, log, route: `${method} /e` }, cors)
    }
  }
  return { beacon, plausible }
}
