/**
 * The browser-like beacon load: a few hundred distinct requests, each what the tracker (t.js)
 * sends from a visitor's browser, cycled through by wrk (bench/lib.ts) and by the in-process step
 * breakdown (bench/steps.ts) alike.
 *
 * One request in three is a visit: the page load's first `page_view`, with the page's path, an
 * external referrer (a search, a link aggregator, a social network; a few dozen distinct URLs) and
 * a campaign. The other two are a single-page app's later page view (path only) and a
 * `feature_used` event. Bodies are JSON arrays of one event, as t.js batches them, sent as
 * `text/plain;charset=UTF-8` (what `navigator.sendBeacon` sends with a string) with the page's
 * `Origin`, one of ten real browsers' User-Agents, and `X-Forwarded-For` naming a client address
 * from public allocations of many countries (read by the servers under `TRUST_PROXY=1`), so the
 * visitor hashes, the User-Agent cache and the country lookup see several hundred clients, as a
 * real site's endpoint does.
 *
 * Every choice comes from one seeded generator: the same load on every run.
 *
 * {@link spreadOverSites} makes the same load come from the pages of many sites: the bodies,
 * browsers and clients as here, only the Origin told apart.
 */
import { prng } from '../test/prng.ts'

export interface MixRequest {
  body: string
  headers: Record<string, string>
  /** what the request counts, for the exactness checks */
  eventType: 'page_view' | 'feature_used'
  /** the first of the load's three kinds: a page view that is a visit */
  visit: boolean
}

/** The site the load comes from (the Origin of every request). */
export const MIX_ORIGIN = 'https://shop.example.com'
/** The event types the load sends: every exactness check sums these. */
export const MIX_EVENT_TYPES = ['page_view', 'feature_used'] as const
/** Distinct requests in the load (a multiple of three: visit, page view, feature use). */
export const MIX_SIZE = 600

/** Current desktop and mobile browsers (Chrome, Safari, Firefox, Edge); none is a crawler. */
export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
]

/**
 * The first two octets of public IPv4 blocks, each allocated in the country noted (by the bundled
 * country database); addresses are drawn inside them.
 */
const BLOCKS: readonly (readonly [string, string])[] = [
  ['8.8', 'US'],
  ['64.233', 'US'],
  ['104.16', 'US'],
  ['128.32', 'US'],
  ['142.250', 'US'],
  ['151.101', 'US'],
  ['157.240', 'US'],
  ['158.69', 'CA'],
  ['143.107', 'BR'],
  ['177.54', 'BR'],
  ['186.192', 'BR'],
  ['189.6', 'BR'],
  ['200.160', 'BR'],
  ['181.30', 'AR'],
  ['190.210', 'AR'],
  ['5.9', 'DE'],
  ['46.4', 'DE'],
  ['78.46', 'DE'],
  ['85.214', 'DE'],
  ['88.198', 'DE'],
  ['136.243', 'DE'],
  ['176.9', 'DE'],
  ['62.210', 'FR'],
  ['82.165', 'FR'],
  ['163.172', 'FR'],
  ['195.154', 'FR'],
  ['2.16', 'NL'],
  ['130.225', 'DK'],
  ['152.66', 'HU'],
  ['49.36', 'IN'],
  ['59.160', 'IN'],
  ['115.240', 'IN'],
  ['122.160', 'IN'],
  ['114.114', 'CN'],
  ['121.42', 'CN'],
  ['220.181', 'CN'],
  ['133.11', 'JP'],
  ['153.120', 'JP'],
  ['210.140', 'JP'],
  ['211.43', 'KR'],
  ['110.33', 'AU'],
  ['118.69', 'VN'],
  ['197.210', 'NG'],
]
/** Client addresses per block: 43 blocks × 10 = 430 distinct clients. */
const ADDRESSES_PER_BLOCK = 10

/** Where visits come from: searches, link aggregators, social networks, apps, other sites. */
function referrers(r: ReturnType<typeof prng>): string[] {
  const words = ['analytics', 'privacy', 'pricing', 'self hosted', 'open source', 'dashboard', 'cookieless', 'gdpr']
  const list: string[] = []
  for (let i = 0; i < 8; i++) {
    const q = encodeURIComponent(`${words[i]} ${r.pick(words)}`).replaceAll('%20', '+')
    list.push(`https://www.google.com/search?q=${q}`)
  }
  for (let i = 0; i < 6; i++) list.push(`https://news.ycombinator.com/item?id=${42_000_000 + r.int(1_000_000)}`)
  for (let i = 0; i < 6; i++) list.push(`https://t.co/${(r.int(2 ** 30) + 2 ** 30).toString(36)}`)
  list.push(
    'https://www.google.com/',
    'https://www.google.co.uk/',
    'https://www.google.de/',
    'https://www.bing.com/search?q=web+analytics',
    'https://duckduckgo.com/',
    'https://www.reddit.com/r/selfhosted/comments/1h2k3l4/privacy_first_analytics/',
    'https://old.reddit.com/r/webdev/',
    'https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example.com%2F',
    'https://www.linkedin.com/feed/',
    'https://github.com/awesome-selfhosted/awesome-selfhosted',
    'https://search.brave.com/search?q=analytics',
    'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
    'android-app://com.google.android.gm',
    'https://blog.example.org/2026/11/comparing-analytics-tools',
    'https://lobste.rs/s/abc123/privacy_analytics',
  )
  return list
}

const PAGES = [
  '/',
  '/pricing',
  '/features',
  '/blog/launch-week',
  '/blog/privacy-by-design',
  '/docs/getting-started',
  '/docs/api',
  '/products/widget-pro',
  '/products/widget-mini',
  '/cart',
  '/checkout',
  '/about',
]
const APP_PAGES = ['/app', '/app/projects', '/app/projects/42', '/app/settings', '/app/reports', '/app/billing']
const FEATURES = ['export_csv', 'share_link', 'dark_mode', 'invite_member', 'create_report', 'filter_by_country']
const CAMPAIGNS: readonly (readonly [string, string, string])[] = [
  ['newsletter', 'email', 'black_friday_2026'],
  ['google', 'cpc', 'brand'],
  ['twitter', 'social', 'launch_week'],
  ['hn', 'referral', 'show_hn'],
  ['partner', 'affiliate', 'spring sale'],
]

/** The load: {@link MIX_SIZE} requests, the same on every call. */
export function beaconMix(): MixRequest[] {
  const r = prng(20261129)
  const refs = referrers(r)
  const addresses: string[] = []
  for (const [block] of BLOCKS) {
    for (let i = 0; i < ADDRESSES_PER_BLOCK; i++) addresses.push(`${block}.${r.int(256)}.${1 + r.int(254)}`)
  }
  // shuffled, so that consecutive requests come from different countries
  for (let i = addresses.length - 1; i > 0; i--) {
    const j = r.int(i + 1)
    ;[addresses[i], addresses[j]] = [addresses[j]!, addresses[i]!]
  }
  const mix: MixRequest[] = []
  for (let i = 0; i < MIX_SIZE; i++) {
    const kind = i % 3
    let event: object
    if (kind === 0) {
      const [source, medium, campaign] = r.pick(CAMPAIGNS)
      event = {
        event_type: 'page_view',
        properties: {
          path: r.pick(PAGES),
          referrer: r.pick(refs),
          utm_source: source,
          utm_medium: medium,
          utm_campaign: campaign,
        },
      }
    } else if (kind === 1) {
      event = { event_type: 'page_view', properties: { path: r.pick(APP_PAGES) } }
    } else {
      event = { event_type: 'feature_used', properties: { path: r.pick(APP_PAGES), feature_name: r.pick(FEATURES) } }
    }
    mix.push({
      body: JSON.stringify([event]),
      headers: {
        'Content-Type': 'text/plain;charset=UTF-8',
        Origin: MIX_ORIGIN,
        'User-Agent': r.pick(USER_AGENTS),
        'X-Forwarded-For': addresses[i % addresses.length]!,
      },
      eventType: kind === 2 ? 'feature_used' : 'page_view',
      visit: kind === 0,
    })
  }
  return mix
}

/** The domain of the n-th (from 1) site of the many-sites load. */
export const siteDomainOf = (n: number) => `site${n}.example.com`

/**
 * The same load sent from the pages of `sites` sites ({@link siteDomainOf} 1 to `sites`): request
 * i comes from site i mod `sites` + 1, so consecutive requests, and so every group commit, are of
 * many sites. Only the Origin changes (the load sends no Referer; a visit's `referrer` is the
 * external page it came from, the same on every site). With 50 sites each one gets all three
 * kinds of request, since 50 and 3 share no factor.
 */
export function spreadOverSites(mix: readonly MixRequest[], sites: number): MixRequest[] {
  return mix.map((r, i) => ({ ...r, headers: { ...r.headers, Origin: `https://${siteDomainOf((i % sites) + 1)}` } }))
}
