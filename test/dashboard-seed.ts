/**
 * A month of plausible traffic for a running server, sent the way a back end sends it
 * (`POST /analytics/events` with timestamps up to 29 days old), then flushed to Postgres: visits
 * from search, social and campaigns on a few pages, feature use, sign-ups, generations and
 * subscriptions, more on weekdays than at weekends. Seeded, so every run sends the same events.
 *
 * @example
 * const sent = await seedThroughApi(server.url, { days: 30, visitsPerDay: 40 })
 */
import { prng } from './prng.ts'

const INGEST = 'test-ingest-token-0123456789'
const ADMIN = 'test-admin-token-0123456789'

const REFERRERS = [
  ['', 30],
  ['https://www.google.com/', 28],
  ['https://news.ycombinator.com/item?id=1', 8],
  ['https://duckduckgo.com/', 6],
  ['https://www.reddit.com/r/selfhosted/', 6],
  ['https://github.com/', 5],
  ['https://x.com/', 4],
  ['https://www.linkedin.com/', 3],
  ['https://blog.example.org/post', 2],
] as const
const PAGES = [
  ['/', 40],
  ['/pricing', 15],
  ['/docs', 14],
  ['/blog/privacy-first-analytics', 10],
  ['/docs/tracker', 8],
  ['/changelog', 5],
  ['/signup', 5],
  ['/about', 3],
] as const
const CAMPAIGNS = [
  ['newsletter', 'email', 'november-launch'],
  ['mastodon', 'social', 'launch-week'],
  ['google', 'cpc', 'brand'],
] as const
const FEATURES = [
  ['export_csv', 6],
  ['share_link', 4],
  ['dark_mode', 3],
  ['api_key_created', 2],
  ['invite_sent', 1],
] as const

function weighted<T>(r: ReturnType<typeof prng>, table: readonly (readonly [T, number])[]): T {
  let x = r.next() * table.reduce((a, [, w]) => a + w, 0)
  for (const [value, w] of table) {
    x -= w
    if (x < 0) return value
  }
  return table[0]![0]
}

export interface SeedOptions {
  days?: number
  visitsPerDay?: number
  seed?: number
  now?: number
}

/** Sends the events and flushes; answers how many events of each type went in. */
export async function seedThroughApi(base: string, options: SeedOptions = {}): Promise<Record<string, number>> {
  const { days = 30, visitsPerDay = 40, seed = 16, now = Date.now() } = options
  const r = prng(seed)
  const events: Record<string, unknown>[] = []
  const sent: Record<string, number> = {}
  const add = (event_type: string, at: number, properties: Record<string, unknown> = {}, user_id?: string) => {
    events.push({ event_type, timestamp: new Date(at).toISOString(), properties, ...(user_id ? { user_id } : {}) })
    sent[event_type] = (sent[event_type] ?? 0) + 1
  }
  const dayStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate())
  for (let d = Math.min(days, 30) - 1; d >= 0; d--) {
    const start = dayStart - d * 86_400_000
    // the oldest day starts a minute later than 30 days ago would; today ends now
    const earliest = Math.max(start, now - 29 * 86_400_000 - 23 * 3_600_000)
    const latest = Math.min(start + 86_400_000 - 1, now - 1000)
    if (latest <= earliest) continue
    const weekday = new Date(start).getUTCDay()
    const scale = (weekday === 0 || weekday === 6 ? 0.6 : 1) * (0.8 + 0.4 * r.next()) * (1 + (days - d) / (days * 2))
    const visits = Math.round(visitsPerDay * scale)
    const at = () => earliest + Math.floor(r.next() * (latest - earliest))
    for (let v = 0; v < visits; v++) {
      const t = at()
      const path = weighted(r, PAGES)
      const props: Record<string, unknown> = { path, referrer: weighted(r, REFERRERS), hostname: 'example.com' }
      if (r.next() < 0.15) {
        const [source, medium, campaign] = r.pick(CAMPAIGNS)
        Object.assign(props, { utm_source: source, utm_medium: medium, utm_campaign: campaign })
      }
      add('page_view', t, props)
      // a visit reads a page or two more, from inside the site
      for (let p = 0; p < r.int(3); p++)
        add('page_view', Math.min(latest, t + 30_000 * (p + 1)), { path: weighted(r, PAGES) })
      if (r.next() < 0.35)
        add('feature_used', t + 60_000 > latest ? t : t + 60_000, { feature_name: weighted(r, FEATURES) })
      if (r.next() < 0.05) {
        const user = `user-${r.int(400)}`
        add('user_signup', t, {}, user)
        if (r.next() < 0.3) add('subscription_started', t, { plan: r.pick(['pro', 'team']) }, user)
      }
      if (r.next() < 0.2) {
        const user = `user-${r.int(400)}`
        add(r.next() < 0.93 ? 'generation_completed' : 'generation_failed', t, {}, user)
      }
      if (r.next() < 0.004) add('subscription_canceled', t, {}, `user-${r.int(400)}`)
    }
  }
  for (let i = 0; i < events.length; i += 1000) {
    const res = await fetch(`${base}/analytics/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST}` },
      body: JSON.stringify(events.slice(i, i + 1000)),
    })
    if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${await res.text()}`)
  }
  const flushed = await fetch(`${base}/analytics/flush`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}` },
  })
  if (!flushed.ok) throw new Error(`flush answered ${flushed.status}: ${await flushed.text()}`)
  return sent
}
