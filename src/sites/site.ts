/**
 * A site: a product counted apart, with its own domains, time zone, allowed origins and counted
 * properties (sql/012_sites.sql). Site 0, the default site, is built from the environment until
 * an admin gives it settings of its own.
 *
 * @example
 * const fields = parseSiteBody({ domains: ['shop.example.com'], time_zone: 'Europe/Berlin' }, 'create')
 * siteJson(resolveSite(defaults, row)) // { id: 3, name: 'shop.example.com', domains: [...], ... }
 */
import { HttpError } from '../errors.ts'
import { RESERVED_PROPERTIES } from '../events/validate.ts'
import { hostname } from '../events/values.ts'
import { canonicalTimeZone } from '../time.ts'

/** A site as the code uses one: every setting decided (a default filled in). */
export interface Site {
  id: number
  name: string
  /** host names, lower-case, without `www.`: the beacons of their pages count for the site */
  domains: string[]
  /** the IANA zone its days are counted in */
  timeZone: string
  /**
   * the origins that may send its beacons; empty: any origin of one of its domains (for the
   * default site, as ALLOWED_ORIGINS empty says: any origin)
   */
  allowedOrigins: string[]
  countedProperties: string[]
}

/** A site's settings as stored: null for the default of each (see {@link siteOf}). */
export interface StoredSite {
  id: number
  name: string
  domains: string[]
  timeZone: string | null
  allowedOrigins: string[] | null
  countedProperties: string[] | null
}

/** What the environment sets: site 0's settings, and the defaults of the others' time zone. */
export interface SiteDefaults {
  timeZone: string
  allowedOrigins: readonly string[]
  countedProperties: readonly string[]
}

/** The default site's id: every counter and row stored before sites is its own. */
export const DEFAULT_SITE = 0
/** Ids are a `smallint`, as the log's `site` column. */
export const MAX_SITE_ID = 32_767
export const MAX_SITES = 1_000
export const MAX_DOMAINS = 20
export const MAX_ORIGINS = 20
export const MAX_COUNTED_PROPERTIES = 20
export const MAX_SITE_NAME_LENGTH = 100

/** A stored site (or none, for site 0 without a row) with every default filled in. */
export function siteOf(stored: StoredSite | undefined, defaults: SiteDefaults, id = DEFAULT_SITE): Site {
  const own = id === DEFAULT_SITE
  return {
    id: stored?.id ?? id,
    name: stored?.name ?? (own ? 'default' : String(id)),
    domains: stored?.domains ?? [],
    timeZone: stored?.timeZone ?? defaults.timeZone,
    allowedOrigins: stored?.allowedOrigins ?? (own ? [...defaults.allowedOrigins] : []),
    countedProperties: stored?.countedProperties ?? (own ? [...defaults.countedProperties] : []),
  }
}

/** Every site with its defaults filled in, by id: the default site first, whether stored or not. */
export function sitesOf(stored: readonly StoredSite[], defaults: SiteDefaults): Site[] {
  const sites = stored.map((s) => siteOf(s, defaults, s.id))
  if (!sites.some((s) => s.id === DEFAULT_SITE)) sites.unshift(siteOf(undefined, defaults))
  return sites.sort((a, b) => a.id - b.id)
}

/** The answer's shape of a site. */
export const siteJson = (s: Site) => ({
  id: s.id,
  name: s.name,
  domains: s.domains,
  time_zone: s.timeZone,
  allowed_origins: s.allowedOrigins,
  counted_properties: s.countedProperties,
})

/** A site's id written as text (`3`), or undefined for text that is none (then maybe a domain). */
export const siteNumber = (name: string): number | undefined =>
  /^[0-9]{1,5}$/.test(name) && Number(name) <= MAX_SITE_ID ? Number(name) : undefined

/** A domain as sites keep it: a host name, lower-case, without `www.`; undefined for none. */
export function siteDomain(raw: string): string | undefined {
  const host = hostname(raw.trim())
  if (host === undefined || host.startsWith('[')) return undefined
  return host.startsWith('www.') ? host.slice(4) : host
}

/** The fields a body sets (absent: left as they are, or the default when created). */
export interface SiteFields {
  name?: string
  domains?: string[]
  timeZone?: string | null
  allowedOrigins?: string[] | null
  countedProperties?: string[] | null
}

const invalid = (field: string, reason: string) => new HttpError(422, `${field} ${reason}`, { field })

function stringList(body: Record<string, unknown>, field: string, max: number): string[] | null | undefined {
  const v = body[field]
  if (v === undefined || v === null) return v as null | undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(field, 'must be a list of strings')
  if (v.length > max) throw invalid(field, `lists ${v.length}; at most ${max}`)
  return v as string[]
}

const KEYS = new Set(['name', 'domains', 'time_zone', 'allowed_origins', 'counted_properties'])

/**
 * A site's JSON body (`POST` creates, `PATCH` changes what it names): 422 naming the field at
 * fault. `domains` is required to create; `null` resets a setting to its default.
 */
export function parseSiteBody(raw: object, mode: 'create' | 'update'): SiteFields {
  if (Array.isArray(raw)) throw invalid('body', 'must be a JSON object')
  const body = raw as Record<string, unknown>
  for (const key of Object.keys(body))
    if (!KEYS.has(key)) throw invalid(key, `is not a setting of a site: give ${[...KEYS].join(', ')}`)
  const out: SiteFields = {}
  if (body.name !== undefined) {
    const name = body.name
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_SITE_NAME_LENGTH || /\p{Cc}/u.test(name))
      throw invalid('name', `must be 1-${MAX_SITE_NAME_LENGTH} printable characters`)
    out.name = name.trim()
  }
  const domains = stringList(body, 'domains', MAX_DOMAINS)
  if (domains === null) throw invalid('domains', 'must be a list of host names')
  if (domains !== undefined) {
    const found = domains.map((d, i) => {
      const domain = siteDomain(d)
      if (domain === undefined) throw invalid(`domains[${i}]`, `${JSON.stringify(d.slice(0, 100))} is not a host name`)
      return domain
    })
    if (found.length === 0 && mode === 'create') throw invalid('domains', 'must name at least one host name')
    out.domains = [...new Set(found)]
  } else if (mode === 'create') throw invalid('domains', 'is required: the host names whose pages count for the site')
  if (body.time_zone !== undefined) {
    const tz = body.time_zone
    if (tz === null) out.timeZone = null
    else {
      const zone = typeof tz === 'string' ? canonicalTimeZone(tz) : undefined
      if (!zone || !/^[A-Za-z]/.test(zone)) throw invalid('time_zone', 'must be an IANA time zone like Europe/Berlin')
      out.timeZone = zone
    }
  }
  const origins = stringList(body, 'allowed_origins', MAX_ORIGINS)
  if (origins !== undefined) {
    out.allowedOrigins =
      origins === null
        ? null
        : origins.map((o, i) => {
            const url = URL.parse(o)
            const origin = o.replace(/\/$/, '')
            if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin)
              throw invalid(
                `allowed_origins[${i}]`,
                `${JSON.stringify(o.slice(0, 100))} is not an origin like https://example.com`,
              )
            return origin
          })
  }
  const props = stringList(body, 'counted_properties', MAX_COUNTED_PROPERTIES)
  if (props !== undefined) {
    out.countedProperties =
      props === null
        ? null
        : [
            ...new Set(
              props.map((key, i) => {
                if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key))
                  throw invalid(
                    `counted_properties[${i}]`,
                    'must be a property key of 1-64 characters of A-Z a-z 0-9 _ . -',
                  )
                if (RESERVED_PROPERTIES.has(key))
                  throw invalid(`counted_properties[${i}]`, `"${key}" is counted already (or read to find visits)`)
                return key
              }),
            ),
          ]
  }
  return out
}
