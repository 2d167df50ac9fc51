/**
 * `bun bench/client-geo.ts`: what the per-visit lookups cost, in one process, no services.
 *
 * - per call: `referrerSource` (a referrer seen before, and a new host), `clientInfo` (a User-Agent
 *   seen before, and a new one: a bowser parse and isbot) and the country lookup on the bundled
 *   database (an address seen before, and a new one: one MMDB read);
 * - memory: the JS heap kept (after a full GC, against one before) after 100,000 distinct
 *   addresses, User-Agents and referrer hosts, then after 100,000 more: the first fills each
 *   cache, the second should add nothing, as the caches are bounded.
 *
 * Each timing is the median of five rounds; the keys of a "new" round are made before it starts.
 */
import { heapStats } from 'bun:jsc'
import { clientInfo } from '../src/events/client.ts'
import { referrerSource } from '../src/events/source.ts'
import { openCountryLookup } from '../src/geo/country.ts'

const ROUNDS = 5
let sink = 0

/** Median nanoseconds per call of `f` over `keys`. */
function perCall(keys: readonly string[], f: (key: string) => unknown, fresh?: (round: number) => string[]): number {
  const times: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const input = fresh ? fresh(round) : keys
    const started = Bun.nanoseconds()
    for (const key of input) if (f(key)) sink++
    times.push((Bun.nanoseconds() - started) / input.length)
  }
  return times.sort((a, b) => a - b)[ROUNDS >> 1]!
}

function heapBytes(): number {
  Bun.gc(true)
  return heapStats().heapSize
}

const ua = (i: number) =>
  `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.${i >> 8}.${i & 255} Safari/537.36`
const address = (i: number) => `${11 + ((i >>> 16) % 200)}.${(i >>> 8) & 255}.${i & 255}.${(i * 7) & 255}`

const REFERRERS = [
  'https://www.google.com/',
  'https://www.google.co.uk/',
  'https://news.ycombinator.com/item?id=1',
  'https://t.co/abc',
  'https://blog.example.com/post/1',
  'android-app://com.google.android.gm',
  '',
]
const USER_AGENTS = Array.from({ length: 20 }, (_, i) => ua(i))
const ADDRESSES = Array.from({ length: 100 }, (_, i) => address(i))
const country = openCountryLookup(undefined)

let unique = 1_000_000
const distinct = (n: number, make: (i: number) => string) => () => Array.from({ length: n }, () => make(unique++))
const repeat = <T>(xs: readonly T[], n: number) => Array.from({ length: n }, (_, i) => xs[i % xs.length]!)

const rows: [string, string][] = []
const ns = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} µs` : `${v.toFixed(0)} ns`)
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`

/** Heap retained after `n` distinct keys went through `f` (made on the fly, then dropped). */
function growth(n: number, f: (key: string) => unknown, make: (i: number) => string): string {
  const before = heapBytes()
  for (let i = 0; i < n; i++) if (f(make(unique++))) sink++
  return mb(heapBytes() - before)
}

// memory first, while every cache is empty: the first 100,000 fill it, the next add nothing
for (const [what, f, make] of [
  ['addresses', country, address],
  ['User-Agents', clientInfo, ua],
  ['referrer hosts', referrerSource, (i: number) => `https://site-${i}.example/`],
] as const) {
  rows.push([`heap growth, 100,000 distinct ${what}`, growth(100_000, f, make)])
  rows.push([`heap growth, 100,000 more`, growth(100_000, f, make)])
}

rows.push(['referrerSource, a referrer seen before', ns(perCall(repeat(REFERRERS, 200_000), referrerSource))])
rows.push([
  'referrerSource, a new host',
  ns(
    perCall(
      [],
      referrerSource,
      distinct(50_000, (i) => `https://www.site-${i}.example.co.uk/page`),
    ),
  ),
])
rows.push(['clientInfo, a User-Agent seen before', ns(perCall(repeat(USER_AGENTS, 200_000), clientInfo))])
rows.push(['clientInfo, a new User-Agent', ns(perCall([], clientInfo, distinct(5_000, ua)))])
rows.push(['country, an address seen before', ns(perCall(repeat(ADDRESSES, 200_000), country))])
rows.push(['country, a new address', ns(perCall([], country, distinct(50_000, address)))])

const width = Math.max(...rows.map(([name]) => name.length))
console.log(`${'lookup'.padEnd(width)}  cost`)
for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`)
if (sink < 0) console.log(sink)
