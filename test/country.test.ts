import { afterAll, describe, expect, spyOn, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Reader } from 'maxmind'
import { ConfigError } from '../src/config.ts'
import { ADDRESS_CACHE_SIZE, countryFromHeaders, openCountryLookup } from '../src/geo/country.ts'
import { mmdb } from './mmdb.ts'

const dir = mkdtempSync(join(tmpdir(), 'country-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, content: Buffer | string): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

function failure(db: string): ConfigError {
  try {
    openCountryLookup(db)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('openCountryLookup with the bundled database', () => {
  const country = openCountryLookup(undefined)

  test('well-known addresses', () => {
    const answers = Object.fromEntries(
      [
        '8.8.8.8', // Google Public DNS
        '2001:4860:4860::8888', // the same over IPv6
        '2606:4700:4700::1111', // Cloudflare's resolver over IPv6
        '1.1.1.1', // Cloudflare's resolver, in APNIC's research block, registered in Australia
        '193.0.6.139', // RIPE NCC, Amsterdam
        '194.25.0.60', // Deutsche Telekom's resolver
        '2003::1', // Deutsche Telekom's IPv6 block
        '212.27.40.240', // Free (France) resolver
        '77.88.8.8', // Yandex DNS
        '202.12.27.33', // the M root server (WIDE, Tokyo)
        '200.160.0.8', // NIC.br
      ].map((ip) => [ip, country(ip)]),
    )
    expect(answers).toEqual({
      '8.8.8.8': 'US',
      '2001:4860:4860::8888': 'US',
      '2606:4700:4700::1111': 'US',
      '1.1.1.1': 'AU',
      '193.0.6.139': 'NL',
      '194.25.0.60': 'DE',
      '2003::1': 'DE',
      '212.27.40.240': 'FR',
      '77.88.8.8': 'RU',
      '202.12.27.33': 'JP',
      '200.160.0.8': 'BR',
    })
  })

  test('IPv4-mapped IPv6 addresses are looked up as IPv4, however they are written', () => {
    for (const ip of ['::ffff:8.8.8.8', '::FFFF:8.8.8.8', '::ffff:808:808', '0:0:0:0:0:ffff:0808:0808']) {
      expect({ ip, country: country(ip) }).toEqual({ ip, country: 'US' })
    }
    expect(country('::ffff:194.25.0.60')).toBe('DE')
  })

  test('private, loopback and other special ranges are unknown (the data places some in a country)', () => {
    for (const ip of [
      '10.1.2.3',
      '172.16.5.4',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.1.1',
      '100.64.1.1',
      '0.0.0.0',
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.1',
      '198.18.0.1',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'fc00::1',
      '2001:db8::1',
      'ff02::1',
      '::ffff:192.168.1.1',
      '::ffff:127.0.0.1',
      '::192.168.1.1',
      '::8.8.8.8',
    ]) {
      expect({ ip, country: country(ip) }).toEqual({ ip, country: '(unknown)' })
    }
  })

  test('anything that is not an address is unknown', () => {
    for (const ip of [
      '',
      'garbage',
      '8.8.8',
      '8.8.8.8.8',
      '999.1.1.1',
      '08.8.8.8',
      ' 8.8.8.8',
      '8.8.8.8:443',
      '[2001:4860:4860::8888]',
      '2001:4860:4860::8888::1',
      'fe80::1%eth0',
      '8'.repeat(10_000),
    ]) {
      expect({ ip: ip.slice(0, 40), country: country(ip) }).toEqual({ ip: ip.slice(0, 40), country: '(unknown)' })
    }
  })

  test('one database read per distinct address while it is remembered; the memory is bounded', () => {
    const fresh = openCountryLookup(undefined)
    const reads = spyOn(Reader.prototype, 'get')
    try {
      for (let i = 0; i < 5; i++) expect(fresh('8.8.4.4')).toBe('US')
      expect(reads).toHaveBeenCalledTimes(1)
      // past the limit, the oldest address is forgotten and read again
      for (let i = 0; i < ADDRESS_CACHE_SIZE; i++) fresh(`11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)
      reads.mockClear()
      expect(fresh('8.8.4.4')).toBe('US')
      expect(reads).toHaveBeenCalledTimes(1)
    } finally {
      reads.mockRestore()
    }
  })
})

describe('openCountryLookup with GEOIP_DB', () => {
  const GEOLITE2_GB = {
    continent: { code: 'EU', geoname_id: 6255148, names: { en: 'Europe', de: 'Europa' } },
    country: { geoname_id: 2635167, is_in_european_union: false, iso_code: 'GB', names: { en: 'United Kingdom' } },
    registered_country: { geoname_id: 2635167, iso_code: 'GB', names: { en: 'United Kingdom' } },
  }

  test('off: every address is unknown, and no file is read', () => {
    const country = openCountryLookup('off')
    expect([country('8.8.8.8'), country('2001:4860:4860::8888'), country('')]).toEqual([
      '(unknown)',
      '(unknown)',
      '(unknown)',
    ])
  })

  test('a GeoLite2-Country (or DB-IP) file: country.iso_code; registered_country alone is not a location', () => {
    const path = file(
      'geolite2-style.mmdb',
      mmdb(
        [
          ['81.2.69.0/24', GEOLITE2_GB],
          ['89.160.20.112/28', { country: { iso_code: 'SE', names: { en: 'Sweden' } } }],
          ['2001:218::/32', { country: { iso_code: 'JP', names: { en: 'Japan' } } }],
          ['216.160.83.56/29', { registered_country: { iso_code: 'US', names: { en: 'United States' } } }],
          ['67.43.156.0/24', { country: { iso_code: 'ZZ' } }],
        ],
        { databaseType: 'GeoLite2-Country' },
      ),
    )
    const country = openCountryLookup(path)
    expect({
      gb: country('81.2.69.142'),
      gbMapped: country('::ffff:81.2.69.142'),
      se: country('89.160.20.115'),
      jp: country('2001:218:1:2::3'),
      registeredOnly: country('216.160.83.57'),
      notACountry: country('67.43.156.1'),
      notInTheFile: country('8.8.8.8'),
    }).toEqual({
      gb: 'GB',
      gbMapped: 'GB',
      se: 'SE',
      jp: 'JP',
      registeredOnly: '(unknown)',
      notACountry: '(unknown)',
      notInTheFile: '(unknown)',
    })
  })

  test('an IPv4-only file, and the layouts of ip-location-db and IPinfo', () => {
    const path = file(
      'ipv4-only.mmdb',
      mmdb(
        [
          ['5.0.0.0/16', { country_code: 'DE' }],
          ['5.1.0.0/16', { country: 'DE', country_name: 'Germany', continent: 'EU' }],
          ['5.2.0.0/16', { country_code: 'FR', country: 'France', continent_code: 'EU' }],
          ['5.3.0.0/16', { country_code: 'fr' }],
        ],
        { ipVersion: 4 },
      ),
    )
    const country = openCountryLookup(path)
    expect(['5.0.1.1', '5.1.1.1', '5.2.1.1', '5.3.1.1', '::ffff:5.0.1.1', '5.4.1.1'].map(country)).toEqual([
      'DE',
      'DE',
      'FR',
      'FR',
      'DE',
      '(unknown)',
    ])
  })

  test('a file that is not an MMDB stops the start naming GEOIP_DB', () => {
    const missing = failure(join(dir, 'nope.mmdb'))
    expect(missing.variable).toBe('GEOIP_DB')
    expect(missing.message).toContain('cannot read')
    const text = failure(file('not-a-db.mmdb', 'hello, world\n'.repeat(100)))
    expect(text.variable).toBe('GEOIP_DB')
    expect(text.message).toContain('is not a MaxMind DB (MMDB) file')
    const packed = failure(file('GeoLite2-Country.mmdb.gz', gzipSync(mmdb([['81.2.69.0/24', GEOLITE2_GB]]))))
    expect(packed.message).toContain('is compressed (gzip); extract the .mmdb file')
  })
})

describe('countryFromHeaders', () => {
  const from = (headers: Record<string, string>) => countryFromHeaders(new Headers(headers))

  test("a CDN's country code, upper-case", () => {
    expect(from({ 'cf-ipcountry': 'DE' })).toBe('DE')
    expect(from({ 'CF-IPCountry': 'de' })).toBe('DE')
    expect(from({ 'x-vercel-ip-country': 'US' })).toBe('US')
    expect(from({ 'cloudfront-viewer-country': 'FR' })).toBe('FR')
    expect(from({ 'cf-ipcountry': ' XK ' })).toBe('XK')
  })

  test('absent, unknown, Tor or not a country code: undefined', () => {
    expect(from({})).toBeUndefined()
    for (const value of ['XX', 'T1', 'ZZ', 'AA', 'QZ', 'EUR', 'USA', 'D', '', '1A', 'D1']) {
      expect({ value, country: from({ 'cf-ipcountry': value }) }).toEqual({ value, country: undefined })
    }
  })

  test('the first header present decides, even when it says unknown', () => {
    expect(from({ 'cf-ipcountry': 'XX', 'x-vercel-ip-country': 'DE' })).toBeUndefined()
    expect(from({ 'x-vercel-ip-country': 'DE', 'cloudfront-viewer-country': 'FR' })).toBe('DE')
  })
})
