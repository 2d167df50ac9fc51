/**
 * Visits: the one rule the counters, the event log and every metric of visits follow.
 *
 * A visit is a visitor's events with no gap of {@link VISIT_TIMEOUT_MS} (30 minutes, Plausible's
 * rule) between two of them. A visitor is the hash of the salt period's secret, the client
 * address and the User-Agent (counters/visitors.ts), so a visit also ends when the salt changes.
 * The first browser event after 30 minutes without one (or a visitor's first ever) begins a
 * visit; the visit takes that event's values: its source (from its referrer; none, or the page's
 * own site, is `(direct)`), its UTM values, its page as the entry page, its host, and the
 * sender's browser, OS, device and country. Every later event of the visit carries those values,
 * whatever its own referrer: a visitor who comes back from a search within 30 minutes is still in
 * the same visit. A visit is counted once, on the day and quarter-hour it began, under every
 * dimension. Server events (no visitor) belong to no visit.
 *
 * Which event begins a visit is decided in Redis, in the group commit's script, where every
 * instance's requests meet (apply.lua.ts): here each request only says what its visit would be
 * if it began one. The referrer's path and query never go further than this: only its host,
 * folded into a source, is kept. The client address is only used here for the country lookup.
 *
 * @example
 * const visit = visitOf(events, { host: 'shop.example.com', visitor: { browser, os, device, country } })
 */
import { referrerSource } from './source.ts'
import type { CountedEvent, Visit } from './types.ts'
import { hostname, INVALID, UNKNOWN } from './values.ts'

/** A visit ends after this long without an event. */
export const VISIT_TIMEOUT_MS = 30 * 60_000

/** Who sent the request: families of its User-Agent, and its country. */
export interface Visitor {
  browser: string
  os: string
  device: string
  country: string
}

export interface PageContext {
  /** the page's host (lower-case, no port), '' when unknown, `(invalid)` when not a host name */
  host: string
  /** the sender's families and country */
  visitor: Visitor
}

/** The source of a visit from nowhere, or from the page's own site. */
const DIRECT = referrerSource('').source

const withoutWww = (host: string) => (host.startsWith('www.') ? host.slice(4) : host)

/**
 * The visit a request's events would begin, were there no current one: its first event that
 * tells where the page load came from (a page load's first view carries `referrer`), else its
 * first event.
 */
export function visitOf(events: readonly CountedEvent[], page: PageContext): Visit {
  const entry = events.find((e) => e.referrer !== undefined) ?? events[0]!
  let source = DIRECT
  if (entry.referrer !== undefined && entry.referrer !== '') {
    const from = referrerSource(entry.referrer)
    // the page's own site sent it (a reload, a link inside the site): not where the visit came from
    if (from.host === '' || from.host !== withoutWww(entry.hostname ?? page.host)) source = from.source
  }
  const { visitor } = page
  const utm = entry.utm
  return {
    source,
    utm_source: utm?.source,
    utm_medium: utm?.medium,
    utm_campaign: utm?.campaign,
    entry_page: entry.path ?? UNKNOWN,
    browser: visitor.browser,
    os: visitor.os,
    device: visitor.device,
    country: visitor.country,
    hostname: entry.hostname ?? (page.host || UNKNOWN),
  }
}

/**
 * The host of an `Origin` header (`https://shop.example.com:8443` → `shop.example.com`), without
 * parsing a URL: this runs on the beacon's path. '' when it has none; `(invalid)` when what stands
 * there is not a host name (anyone can send any header: this value is counted and stored).
 */
export function originHost(origin: string | null): string {
  if (!origin) return ''
  const start = origin.indexOf('://')
  if (start < 0) return ''
  const rest = origin.slice(start + 3)
  let end = rest.length
  if (rest.startsWith('[')) end = rest.indexOf(']') + 1
  else {
    for (const stop of [':', '/']) {
      const at = rest.indexOf(stop)
      if (at >= 0 && at < end) end = at
    }
  }
  return end <= 0 ? INVALID : (hostname(rest.slice(0, end)) ?? INVALID)
}

/** The page's host for a beacon: its Origin's, else its Referer's ('' or `(invalid)` as above). */
export function pageHost(headers: Headers): string {
  const origin = headers.get('origin')
  if (origin && origin !== 'null') return originHost(origin)
  const referer = headers.get('referer')
  const url = referer ? URL.parse(referer) : null
  if (url === null) return ''
  return url.hostname === '' ? '' : (hostname(url.hostname) ?? INVALID)
}
