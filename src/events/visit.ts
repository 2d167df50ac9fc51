/**
 * Visits. A visit (an entry) is the first page view of a page load whose referrer is not the same
 * site: the tracker sends `referrer` (`''` for none) on that view only, and a view that carries it
 * is a visit unless the referrer's host is the page's own (a reload, or a full-page navigation
 * inside the site). Each visit is then counted once under every dimension of {@link Visit}.
 *
 * The referrer's path and query never go further than this: only its host, folded into a source,
 * is kept. The client address is only used here for the country lookup.
 *
 * @example
 * markVisits(events, { host: 'shop.example.com', who: () => ({ browser, os, device, country }) })
 */
import { referrerSource } from './source.ts'
import type { CountedEvent } from './types.ts'
import { hostname, INVALID, UNKNOWN } from './values.ts'

/** Who sent the visit, asked for only when there is one (the country lookup costs a read). */
export interface Visitor {
  browser: string
  os: string
  device: string
  country: string
}

export interface PageContext {
  /** the page's host (lower-case, no port), '' when unknown, `(invalid)` when not a host name */
  host: string
  /** the sender's families and country, looked up at most once per request */
  who: () => Visitor
}

const withoutWww = (host: string) => (host.startsWith('www.') ? host.slice(4) : host)

/** Marks the page views of `events` that are visits, with their value under every dimension. */
export function markVisits(events: readonly CountedEvent[], page: PageContext): void {
  let visitor: Visitor | undefined
  for (const event of events) {
    if (event.referrer === undefined) continue
    const { host, source } = referrerSource(event.referrer)
    // the page's own site sent it: a reload or a navigation inside the site, not an entry
    if (host !== '' && host === withoutWww(event.hostname ?? page.host)) continue
    visitor ??= page.who()
    const utm = event.utm
    event.visit = {
      source,
      utm_source: utm?.source,
      utm_medium: utm?.medium,
      utm_campaign: utm?.campaign,
      entry_page: event.path ?? '/',
      browser: visitor.browser,
      os: visitor.os,
      device: visitor.device,
      country: visitor.country,
      hostname: event.hostname ?? (page.host || UNKNOWN),
    }
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
