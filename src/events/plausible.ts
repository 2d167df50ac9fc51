/**
 * Plausible's Events API body (what its tracker and its server-side clients send to
 * `POST /api/event`) as this service's event, which then goes through the beacon's own
 * validation, caps and group commit (routes/beacon.ts).
 *
 * | Plausible | here |
 * |---|---|
 * | `n` / `name` `pageview` | a `page_view` of the URL's path (with its `#fragment` when `h` is 1), the referrer, the URL's UTM parameters |
 * | `n` / `name` `engagement` | nothing: the newer tracker's time-on-page pings are not events a person did (answered, not counted) |
 * | any other name | a `feature_used` named so (`feature_name`), e.g. `Outbound Link: Click`, `File Download` |
 * | `p` / `props` (`m` / `meta`; an object or its JSON text) | the event's properties, scalars as text; a key the beacon reserves (`path`, `referrer`, `feature_name`, `hostname`, the UTM keys) is left out |
 * | `$` / `revenue` `{amount, currency}` | the properties `revenue` and `currency`, which a goal's value sums |
 * | `u` / `url` | the path, the UTM values, and the page's host (the visit's host) |
 * | `d` / `domain` | required as Plausible requires it (or the URL's host); the site, the first of a comma-separated list that this deployment counts |
 * | `r` / `referrer` | the referrer (`null`: none) |
 *
 * Short names win over long ones, as in Plausible. The answer to a body Plausible would refuse
 * names the field as Plausible does (`{"errors": {"url": ["is required"]}}`).
 *
 * @example
 * fromPlausible({ n: 'pageview', u: 'https://shop.example.com/pricing?utm_source=news', d: 'shop.example.com', r: null })
 * // { event: { event_type: 'page_view', properties: { path: '/pricing?utm_source=news', referrer: '', utm_source: 'news' } }, host: 'shop.example.com' }
 */
import { hostname, INVALID } from './values.ts'

/** Plausible's own limits on a name and a URL. */
const MAX_NAME_LENGTH = 120
const MAX_URL_LENGTH = 2000

/** Properties of the beacon's own meaning: a Plausible prop of one of these names is left out. */
const RESERVED = new Set(['path', 'referrer', 'feature_name', 'hostname', 'utm_source', 'utm_medium', 'utm_campaign'])
const UTM = ['utm_source', 'utm_medium', 'utm_campaign'] as const

export interface PlausibleEvent {
  /** the event as the beacon takes one; undefined for an event that is answered and not counted */
  event?: { event_type: string; properties: Record<string, string> }
  /** the page's host, from the URL (`(invalid)` when it is not a host name) */
  host: string
  /** the sites it is sent for: `domain`, a comma-separated list as Plausible takes it */
  domains: string[]
  /** what Plausible would refuse, by field, as it names them */
  errors: Record<string, string[]>
}

const pick = (raw: Record<string, unknown>, ...names: string[]): unknown => {
  for (const name of names) if (raw[name] !== undefined) return raw[name]
  return undefined
}

/** Props as Plausible reads them: an object or its JSON text; lists and objects in it are dropped, as there. */
function propsOf(value: unknown): Record<string, string> | undefined {
  let props = value
  if (typeof props === 'string') {
    try {
      props = JSON.parse(props)
    } catch {
      return undefined
    }
  }
  if (typeof props !== 'object' || props === null || Array.isArray(props)) return undefined
  // no prototype: keys are the sender's (`__proto__`)
  const out: Record<string, string> = Object.create(null)
  for (const [key, v] of Object.entries(props)) {
    if (RESERVED.has(key) || v === null || typeof v === 'object') continue
    const text = String(v)
    if (text.trim() !== '') out[key] = text
  }
  return out
}

export function fromPlausible(body: object): PlausibleEvent {
  const errors: Record<string, string[]> = Object.create(null)
  const fail = (field: string, reason: string) => {
    errors[field] = [reason]
  }
  if (Array.isArray(body)) {
    fail('request', 'must be one event object, as Plausible takes it')
    return { host: '', domains: [], errors }
  }
  const raw = body as Record<string, unknown>
  const nameRaw = pick(raw, 'n', 'name')
  const name = typeof nameRaw === 'number' ? String(nameRaw) : nameRaw
  if (typeof name !== 'string' || name.trim() === '') fail('event_name', "can't be blank")
  else if (name.length > MAX_NAME_LENGTH) fail('event_name', `should be at most ${MAX_NAME_LENGTH} character(s)`)

  const urlRaw = pick(raw, 'u', 'url')
  let url: URL | null = null
  if (urlRaw === undefined || urlRaw === null) fail('url', 'is required')
  else if (typeof urlRaw !== 'string' || urlRaw.length > MAX_URL_LENGTH) fail('url', 'must be a valid url')
  else {
    url = URL.parse(urlRaw)
    if (url === null) fail('url', 'must be a valid url')
    else if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('url', 'scheme is not allowed')
  }
  const domain = pick(raw, 'd', 'domain')
  if (domain !== undefined && domain !== null && typeof domain !== 'string') fail('domain', 'must be a string')
  const host = url === null ? '' : url.hostname === '' ? '' : (hostname(url.hostname) ?? INVALID)
  if ((typeof domain !== 'string' || domain.trim() === '') && url !== null && host === '')
    fail('domain', "can't be blank")
  const domains =
    typeof domain === 'string'
      ? domain
          .split(',')
          .map((d) => d.trim())
          .filter((d) => d !== '')
      : []
  const referrer = pick(raw, 'r', 'referrer')
  if (referrer !== undefined && referrer !== null && typeof referrer !== 'string') fail('referrer', 'must be a string')
  if (Object.keys(errors).length > 0 || url === null || typeof name !== 'string') return { host, domains, errors }

  if (name === 'engagement') return { host, domains, errors }
  const properties = propsOf(pick(raw, 'm', 'meta', 'p', 'props')) ?? {}
  const revenue = pick(raw, '$', 'revenue')
  if (typeof revenue === 'object' && revenue !== null) {
    const { amount, currency } = revenue as Record<string, unknown>
    if (typeof amount === 'number' || typeof amount === 'string') properties.revenue = String(amount)
    if (typeof currency === 'string') properties.currency = currency
  }
  if (name !== 'pageview')
    return {
      event: { event_type: 'feature_used', properties: { ...properties, feature_name: name } },
      host,
      domains,
      errors,
    }

  const hash = pick(raw, 'h', 'hashMode') === 1 ? url.hash : ''
  const path = `${url.pathname}${url.search}${hash}`
  const page: Record<string, string> = { ...properties, path, referrer: typeof referrer === 'string' ? referrer : '' }
  for (const key of UTM) {
    const value = url.searchParams.get(key)
    if (value !== null && value !== '') page[key] = value
  }
  return { event: { event_type: 'page_view', properties: page }, host, domains, errors }
}
