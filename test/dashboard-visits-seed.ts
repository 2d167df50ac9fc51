/**
 * Visits of today as browsers make them, for views that break visits down: beacons (`POST /e`)
 * from distinct visitors (an address each, behind one trusted proxy: start the server with
 * `TRUST_PROXY=1`), from a few sources, on phones and desktops, landing on a few pages and
 * reading one more. Seeded, so every run sends the same; flushed at the end, as the API seed is.
 *
 * @example
 * await seedVisits(server.url, { visits: 60 })
 */
import { prng } from './prng.ts'

const ADMIN = 'test-admin-token-0123456789'
const DESKTOP =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const PHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'
const REFERRERS = ['https://www.google.com/', 'https://www.bing.com/', 'https://news.ycombinator.com/item?id=1', '']
const PAGES = ['/', '/pricing', '/blog/privacy-first-analytics', '/docs', '/blog/why-we-left-cookies']

export async function seedVisits(base: string, options: { visits?: number; seed?: number } = {}): Promise<void> {
  const { visits = 60, seed = 7 } = options
  const r = prng(seed)
  for (let v = 0; v < visits; v++) {
    const headers = {
      'content-type': 'text/plain;charset=UTF-8',
      'user-agent': r.next() < 0.4 ? PHONE : DESKTOP,
      'x-forwarded-for': `198.51.100.${v + 1}`,
      origin: 'https://example.com',
    }
    const events = [
      { event_type: 'page_view', properties: { path: r.pick(PAGES), referrer: r.pick(REFERRERS) } },
      { event_type: 'page_view', properties: { path: r.pick(PAGES), referrer: 'https://example.com/' } },
    ]
    if (r.next() < 0.3) events.push({ event_type: 'feature_used', properties: { feature_name: 'export_csv' } } as never)
    const res = await fetch(`${base}/e`, { method: 'POST', headers, body: JSON.stringify(events) })
    if (res.status !== 202) throw new Error(`beacon answered ${res.status}: ${await res.text()}`)
  }
  const flushed = await fetch(`${base}/analytics/flush`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}` },
  })
  if (!flushed.ok) throw new Error(`flush answered ${flushed.status}: ${await flushed.text()}`)
}
