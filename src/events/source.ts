/**
 * Where a visit came from: a referrer URL → its host and the source it counts under. A source is
 * the host itself, or one name for the many hosts of a search engine or network ({@link SOURCES}):
 * `www.google.co.uk`, `news.google.com` and the Google app are all `Google`.
 *
 * - No referrer, or one that is not an `http(s)` or `android-app` URL (`about:blank`, `file:`,
 *   an extension page, garbage): host `''`, source `(direct)`.
 * - An `http(s)` referrer whose host is no host name (longer than 253 characters, or with
 *   characters no DNS label has): host `''`, source `(invalid)`. No browser sends one.
 * - Hosts are lower-case, without a leading `www.` or a trailing dot, internationalized names in
 *   their ASCII (`xn--`) form, IPv6 addresses in brackets; ports and user info are dropped.
 * - `android-app://<package>` (what Android sends for a link opened from an app): host is the
 *   package, source its name in the table, else `android-app:<package>`.
 *
 * Runs for every visit: one Map lookup for a referrer seen recently (up to 256 characters, as a
 * search engine's origin is); else a URL parse and one Map lookup for a host seen recently; the
 * folding rules run once per distinct host. Both memories are bounded ({@link REFERRER_CACHE_SIZE},
 * {@link HOST_CACHE_SIZE}).
 *
 * @example
 * referrerSource('https://www.google.co.uk/')        // { host: 'google.co.uk', source: 'Google' }
 * referrerSource('https://news.ycombinator.com/item') // { host: 'news.ycombinator.com', source: 'Hacker News' }
 * referrerSource('https://docs.google.com/document/d/…') // { host: 'docs.google.com', source: 'docs.google.com' }
 * referrerSource('')                                  // { host: '', source: '(direct)' }
 */
import { memo } from '../memo.ts'
import { hostname, INVALID } from './values.ts'

/**
 * The sources that several hosts fold into. A pattern is one of:
 * - `example.com`: that host (a leading `www.` is always dropped first);
 * - `*.example.com`: that host and every host under it;
 * - `google.*`: the label before a public suffix, as in `google.de`, `google.co.uk`,
 *   `google.com.br` (a suffix is the last label, or `com`, `co`, `net`, `org`, `ac`, `edu`,
 *   `gov`, `ne` or `or` before a two-letter country code); `*.google.*` also every host under
 *   those. `google.evil.example` and `notgoogle.com` match neither;
 * - `android-app:<package>`: a link opened from that Android app.
 *
 * The most specific pattern wins: `mail.google.*` (Gmail) over `google.*`. Only Google's search
 * and news front ends fold to Google: a link followed from a document or a site someone made
 * there (`docs.google.com`, `sites.google.com`) counts under that host, and one from a mail
 * under Gmail, as a visit from a newsletter is not one from a search.
 */
export const SOURCES: Readonly<Record<string, readonly string[]>> = {
  Google: [
    'google.*',
    'm.google.*',
    'news.google.*',
    'images.google.*',
    'scholar.google.*',
    'encrypted.google.*',
    'consent.google.*',
    'android-app:com.google.android.googlequicksearchbox',
  ],
  Gmail: ['mail.google.*', 'android-app:com.google.android.gm'],
  Bing: ['*.bing.*'],
  DuckDuckGo: ['*.duckduckgo.com'],
  Yahoo: ['*.yahoo.*'],
  Yandex: ['*.yandex.*', 'ya.ru'],
  Baidu: ['*.baidu.com'],
  Ecosia: ['*.ecosia.org'],
  Facebook: ['*.facebook.com', 'fb.me', 'android-app:com.facebook.katana', 'android-app:com.facebook.lite'],
  Instagram: ['*.instagram.com', 'android-app:com.instagram.android'],
  X: ['*.x.com', '*.twitter.com', 't.co', 'android-app:com.twitter.android'],
  LinkedIn: ['*.linkedin.com', 'lnkd.in', 'android-app:com.linkedin.android'],
  Reddit: ['*.reddit.com', 'redd.it', 'android-app:com.reddit.frontpage'],
  'Hacker News': ['news.ycombinator.com'],
  GitHub: ['*.github.com'],
  YouTube: ['*.youtube.com', 'youtu.be', 'android-app:com.google.android.youtube'],
  ChatGPT: ['chatgpt.com', 'chat.openai.com', 'android-app:com.openai.chatgpt'],
  Gemini: ['gemini.google.com'],
  Perplexity: ['*.perplexity.ai'],
  Wikipedia: ['*.wikipedia.org'],
}

export const DIRECT = '(direct)'
/** Distinct hosts whose source is remembered. */
export const HOST_CACHE_SIZE = 2000
/** Distinct referrers (of at most {@link MAX_REMEMBERED_LENGTH} characters) whose answer is remembered. */
export const REFERRER_CACHE_SIZE = 2000
const MAX_REMEMBERED_LENGTH = 256
const NONE = Object.freeze({ host: '', source: DIRECT })
/** A referrer whose host is no host name: no browser sends one. */
const FORGED = Object.freeze({ host: '', source: INVALID })
/** The longest host name DNS allows; anything longer is not a host a link came from. */
const MAX_HOST_LENGTH = 253
const APP = 'android-app:'
/** Second-level labels under a country code that are part of its public suffix (`co.uk`). */
const SECOND_LEVEL = new Set(['ac', 'co', 'com', 'edu', 'gov', 'ne', 'net', 'or', 'org'])
/** An Android package name: two or more dotted Java identifiers. */
const PACKAGE = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/

/** The table as four lookups, by kind of pattern. */
const exact = new Map<string, string>()
const under = new Map<string, string>()
const brand = new Map<string, string>()
const underBrand = new Map<string, string>()
for (const [source, patterns] of Object.entries(SOURCES)) {
  for (const pattern of patterns) {
    const anyTld = pattern.endsWith('.*')
    const anyHost = pattern.startsWith('*.')
    const name = pattern.slice(anyHost ? 2 : 0, anyTld ? -2 : undefined)
    const table = anyTld ? (anyHost ? underBrand : brand) : anyHost ? under : exact
    table.set(name, source)
  }
}

/** The host without its public suffix (`mail.google` of `mail.google.co.uk`); '' when none is left. */
function withoutSuffix(host: string): string {
  const last = host.lastIndexOf('.')
  if (last <= 0) return ''
  if (host.length - last === 3) {
    const prev = host.lastIndexOf('.', last - 1)
    if (SECOND_LEVEL.has(host.slice(prev + 1, last))) return prev <= 0 ? '' : host.slice(0, prev)
  }
  return host.slice(0, last)
}

/** The source of a host (lower-case, no `www.`): the most specific pattern that matches, else the host. */
function fold(host: string): string {
  const code = host.charCodeAt(host.length - 1)
  // an IP address: a URL host ending in a digit is IPv4 (the URL parser makes it so)
  if (host.startsWith('[') || (code >= 48 && code <= 57)) return host
  const hit = exact.get(host)
  if (hit !== undefined) return hit
  let name = withoutSuffix(host)
  const named = name === '' ? undefined : brand.get(name)
  if (named !== undefined) return named
  // from the whole host to its last label, both with and without the public suffix
  for (let h = host; ; ) {
    const found = under.get(h) ?? (name === '' ? undefined : underBrand.get(name))
    if (found !== undefined) return found
    const dot = h.indexOf('.')
    if (dot < 0) return host
    h = h.slice(dot + 1)
    const nameDot = name.indexOf('.')
    name = nameDot < 0 ? '' : name.slice(nameDot + 1)
  }
}

const sourceOf = memo(HOST_CACHE_SIZE, fold)

function parse(referrer: string): Readonly<{ host: string; source: string }> {
  const url = referrer === '' ? null : URL.parse(referrer)
  if (url === null) return NONE
  const scheme = url.protocol
  // an opaque host: neither lower-cased nor checked by the parser
  if (scheme === 'android-app:') {
    const app = url.hostname.toLowerCase()
    if (app.length > MAX_HOST_LENGTH || !PACKAGE.test(app)) return NONE
    return { host: app, source: exact.get(APP + app) ?? APP + app }
  }
  if (scheme !== 'https:' && scheme !== 'http:') return NONE
  if (url.hostname === '') return NONE
  // the URL parser lets through characters no DNS name has (`*`, quotes, braces) and any length
  let host = hostname(url.hostname)
  if (host === undefined) return FORGED
  if (host.startsWith('www.')) host = host.slice(4)
  return { host, source: sourceOf(host) }
}

// a search engine's referrer is its origin, the same string for every visit it sends: the
// whole string is remembered, and the URL parse (most of the cost) skipped
const remembered = memo(REFERRER_CACHE_SIZE, parse)

/** The referrer's host (lower-case, without a leading `www.`; '' when there is none or it is not a URL) and the source it counts under. */
export function referrerSource(referrer: string): { host: string; source: string } {
  const { host, source } = referrer.length <= MAX_REMEMBERED_LENGTH ? remembered(referrer) : parse(referrer)
  return { host, source }
}
