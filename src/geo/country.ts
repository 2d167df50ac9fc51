/**
 * Where a visit came from, by country: the client's address looked up in an MMDB file (read by
 * `maxmind`, MIT), or a CDN's country header. The address is used for the lookup only: the last
 * {@link ADDRESS_CACHE_SIZE} distinct ones are kept in memory with their country, so a returning
 * address costs one Map lookup; none is stored elsewhere or logged.
 *
 * Databases, by `GEOIP_DB`:
 * - unset: the bundled `@ip-location-db/geo-whois-asn-country-mmdb` (CC0; from the regional
 *   registries' data, CC BY 4.0 NRO), whose records are `{ country_code }`;
 * - a path: any MMDB with a country per network: GeoLite2-Country and DB-IP
 *   (`{ country: { iso_code } }`), IPinfo (`{ country }` as a code, or `{ country_code }`).
 *   A record's `registered_country` (where the block is registered, not where the visitor is)
 *   is not used;
 * - `off`: every address is `(unknown)`.
 *
 * Private, loopback, link-local, shared (CGNAT), documentation, benchmark and multicast ranges
 * are `(unknown)` before any lookup: the bundled data places some of them in a country.
 * IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, as a dual-stack socket gives them) are looked up
 * as IPv4.
 *
 * @example
 * const country = openCountryLookup(config.geoipDb) // synchronous: reads the file at start
 * country('8.8.8.8') // 'US'
 * country('192.168.1.1') // '(unknown)'
 */

import { readFileSync } from 'node:fs'
import { BlockList, isIP } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Reader } from 'maxmind'
import { ConfigError } from '../config.ts'
import { UNKNOWN } from '../events/values.ts'
import { BoundedMap, memo } from '../memo.ts'

/** ISO 3166-1 alpha-2 (upper-case) or '(unknown)'. */
export type CountryLookup = (ip: string) => string

/** Distinct addresses whose country is remembered. */
export const ADDRESS_CACHE_SIZE = 10_000
/** Decoded database records kept (a country database has a few hundred to a few thousand). */
const RECORD_CACHE_SIZE = 4096
const BUNDLED = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb'
/**
 * Two letters, not one of ISO 3166-1's user-assigned codes (AA, QM-QZ, XA-XZ, ZZ), which CDNs
 * and databases use for "unknown" (Cloudflare's XX) — except XK, Kosovo's code by common use.
 */
const COUNTRY = /^(?!AA|Q[M-Z]|X[A-JL-Z]|ZZ)[A-Z]{2}$/
/** The longest text of an address worth a lookup (`0000:…:ffff:255.255.255.255`). */
const MAX_ADDRESS_LENGTH = 45
const MAPPED_HINT = /:ffff:/i
const MAPPED = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/

const NOT_PUBLIC = new BlockList()
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3], // multicast, reserved, broadcast
] as const) {
  NOT_PUBLIC.addSubnet(address, prefix, 'ipv4')
}
for (const [address, prefix] of [
  // unspecified, loopback, and the deprecated IPv4-compatible ::a.b.c.d, which would reach a
  // database's IPv4 data without the checks above
  ['::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['3fff::', 20],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(address, prefix, 'ipv6')
}

/** An upper-case country code, or undefined when `raw` is none (empty, XX, T1, ZZ, ...). */
function countryCode(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined
  const code = raw.trim().toUpperCase()
  return COUNTRY.test(code) ? code : undefined
}

/** The country of a database record, whichever of the known layouts it has. */
function countryOf(record: unknown): string {
  if (typeof record !== 'object' || record === null) return UNKNOWN
  const { country_code, country } = record as { country_code?: unknown; country?: unknown }
  const raw =
    country_code ??
    (typeof country === 'object' && country !== null ? (country as { iso_code?: unknown }).iso_code : country)
  return countryCode(raw) ?? UNKNOWN
}

/** The address as the database is searched by, or undefined when it is not a public address. */
function searchable(ip: string): string | undefined {
  let address = ip
  let family = isIP(address)
  if (family === 6 && MAPPED_HINT.test(address)) {
    // '::ffff:1.2.3.4' and its other spellings: the IPv4 part, which is where the data is
    const canonical = MAPPED.exec(URL.parse(`http://[${address}]/`)?.hostname ?? '')
    if (canonical !== null) {
      const high = Number.parseInt(canonical[1]!, 16)
      const low = Number.parseInt(canonical[2]!, 16)
      address = `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
      family = 4
    }
  }
  if (family === 0 || NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6')) return undefined
  return address
}

function bundledPath(): string {
  try {
    return fileURLToPath(import.meta.resolve(BUNDLED))
  } catch {
    throw new ConfigError(
      'GEOIP_DB',
      `the bundled database (${BUNDLED}) is not installed; run bun install, or set GEOIP_DB`,
    )
  }
}

function openReader(path: string): Reader<object> {
  let file: Buffer
  try {
    file = readFileSync(path)
  } catch (err) {
    throw new ConfigError('GEOIP_DB', `cannot read ${path}: ${(err as Error).message}`)
  }
  // the downloads come compressed (.mmdb.gz, .tar.gz): a common mistake, worth its own message
  if (file[0] === 0x1f && file[1] === 0x8b) {
    throw new ConfigError('GEOIP_DB', `${path} is compressed (gzip); extract the .mmdb file and point GEOIP_DB at it`)
  }
  try {
    return new Reader<object>(file, { cache: new BoundedMap<string | number, unknown>(RECORD_CACHE_SIZE) })
  } catch (err) {
    throw new ConfigError('GEOIP_DB', `${path} is not a MaxMind DB (MMDB) file: ${(err as Error).message}`)
  }
}

/**
 * GEOIP_DB: undefined → the bundled CC0 database (the npm package `@ip-location-db/geo-whois-asn-country-mmdb`),
 * a path → that MMDB (GeoLite2-Country, DB-IP…), 'off' → always '(unknown)'.
 *
 * Synchronous: the whole file is read into memory once (the bundled one is 7.5 MiB, read in about
 * 10 ms), at start. Throws {@link ConfigError} naming GEOIP_DB when the file is not an MMDB.
 */
export function openCountryLookup(db: string | undefined): CountryLookup {
  if (db === 'off') return () => UNKNOWN
  const reader = openReader(db ?? bundledPath())
  const remembered = memo(ADDRESS_CACHE_SIZE, (ip) => {
    const address = searchable(ip)
    return address === undefined ? UNKNOWN : countryOf(reader.get(address))
  })
  // no address is that long: garbage from a header is answered without being kept
  return (ip) => (ip.length > MAX_ADDRESS_LENGTH ? UNKNOWN : remembered(ip))
}

/**
 * Read in this order. Only the header of the CDN in front is its own: a client can send the
 * others, and a CDN passes them on unless told to drop them. So behind Vercel or CloudFront a
 * client can claim a country with cf-ipcountry; it can claim one with a VPN too, and the claim
 * moves only its own visit.
 */
const COUNTRY_HEADERS = ['cf-ipcountry', 'x-vercel-ip-country', 'cloudfront-viewer-country']

/** A CDN's country header (cf-ipcountry, x-vercel-ip-country, cloudfront-viewer-country), only to be used behind trusted proxies; undefined when absent or not a real country code (Cloudflare's XX and T1 mean unknown / Tor). */
export function countryFromHeaders(headers: Headers): string | undefined {
  for (const name of COUNTRY_HEADERS) {
    // the first one present decides, even when it says unknown: a later name is no more
    // trustworthy than it (see the note on forged headers above)
    const value = headers.get(name)
    if (value !== null) return countryCode(value)
  }
  return undefined
}
