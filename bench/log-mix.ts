/**
 * Event log rows of a site's traffic, for bench/log-store.ts: in time order, 100,000 a day from
 * `start`. 90% from browsers in visits (2 in 9 of them begin one, with its source, a campaign on
 * one visit in five, entry page, browser, OS, device, country and host; about 200 visits open at
 * once), 70% page views of paths like /blog/post-123, 15% feature uses (half with two
 * properties), 5% downloads; 10% server events with a user id and no visit. Seeded: the same
 * rows every run.
 *
 * @example
 * const rows = siteRows(500_000, Date.parse('2026-01-05T00:00:00Z')) // five days of rows
 */
import type { EventType } from '../src/events/types.ts'
import { eventRow, type LogRow } from '../src/log/row.ts'
import { prng } from '../test/prng.ts'

const DAY_MS = 86_400_000
export const ROWS_PER_DAY = 100_000

const SOURCES = ['Google', 'Direct', 'Hacker News', 'Twitter', 'Reddit', 'Bing', 'DuckDuckGo', 'github.com']
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Microsoft Edge', 'Samsung Internet']
const SYSTEMS = ['Windows', 'macOS', 'iOS', 'Android', 'Linux']
const DEVICES = ['desktop', 'mobile', 'tablet']
const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'JP', 'CA', 'NL', 'ES']
const FEATURES = ['export', 'share_dialog', 'search', 'dark_mode', 'checkout', 'invite']
const SERVER_TYPES: EventType[] = ['generation_started', 'generation_completed', 'user_login']

/** The rows of `n` events from `start`, in time order. */
export function siteRows(n: number, start: number, seed = 20261206): LogRow[] {
  const r = prng(seed)
  const hex = () =>
    (r.int(2 ** 32) >>> 0).toString(16).padStart(8, '0') + (r.int(2 ** 32) >>> 0).toString(16).padStart(8, '0')
  const page = () =>
    r.next() < 0.15 ? r.pick(['/', '/pricing', '/docs/getting-started']) : `/blog/post-${r.int(2000)}`
  const visits: { id: string; visitor: string; visit: NonNullable<LogRow['visit']> }[] = []
  const rows: LogRow[] = []
  for (let i = 0; i < n; i++) {
    const at = start + Math.floor((i * DAY_MS) / ROWS_PER_DAY)
    if (r.next() < 0.1) {
      const type = r.pick(SERVER_TYPES)
      rows.push({
        ...eventRow(at, type),
        userId: `user-${r.int(5000)}`,
        props: type === 'user_login' ? null : { model: r.pick(['small', 'large']) },
      })
      continue
    }
    // 2 in 9 browser rows (a fifth of all) begin a visit, with a page view; of the other 70% of
    // all rows, 50 are page views, 15 feature uses, 5 downloads
    const begins = visits.length === 0 || r.next() < 2 / 9
    const k = r.next()
    const type: EventType = begins || k < 50 / 70 ? 'page_view' : k < 65 / 70 ? 'feature_used' : 'asset_downloaded'
    const path = type === 'page_view' ? page() : null
    if (begins) {
      const campaign = r.next() < 0.2
      const visit = {
        source: r.pick(SOURCES),
        utm_source: campaign ? 'newsletter' : null,
        utm_medium: campaign ? 'email' : null,
        utm_campaign: campaign ? 'winter-sale-2026' : null,
        entry_page: path ?? '/',
        browser: r.pick(BROWSERS),
        os: r.pick(SYSTEMS),
        device: r.pick(DEVICES),
        country: r.pick(COUNTRIES),
        hostname: 'shop.example.com',
      }
      const id = BigInt.asIntN(64, BigInt(`0x${hex()}`)).toString()
      const v = { id, visitor: hex(), visit }
      // about 200 visits open at once, interleaved as a site's are
      if (visits.length < 200) visits.push(v)
      else visits[r.int(visits.length)] = v
      rows.push({
        ...eventRow(at, 'page_view'),
        path,
        hostname: 'shop.example.com',
        visitId: id,
        began: true,
        visitor: v.visitor,
        visit,
      })
      continue
    }
    const v = r.pick(visits)
    rows.push({
      ...eventRow(at, type),
      path,
      hostname: 'shop.example.com',
      feature: type === 'feature_used' ? r.pick(FEATURES) : null,
      props:
        type === 'feature_used' && r.next() < 0.5
          ? { plan: r.pick(['free', 'pro', 'team']), variant: r.pick(['a', 'b']) }
          : null,
      visitId: v.id,
      visitor: v.visitor,
      visit: v.visit,
    })
  }
  return rows
}
