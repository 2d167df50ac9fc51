/**
 * The dataset of the README's pictures of the dashboard: months of a small SaaS site, made by one
 * seeded generator and counted through the service's own write path, so the counters and the
 * event log hold the same events and a filtered view shows them too.
 *
 * The generator makes what the service receives: page loads and feature uses as a browser's
 * beacons (the event JSON, its sender's address, User-Agent, country and page host), sign-ups,
 * logins, generations and subscriptions as a back end's batches. {@link seedDataset} then takes
 * them the way the routes do, at each event's own time: validation, the visit a beacon would
 * begin, the visitor's hash, the group commit into Redis, and the flush, which writes the counters
 * and the log's rows in one transaction. History older than 30 days and a sender's country cannot
 * go through the HTTP routes (their clock is now and the country comes from the address), which
 * is why the routes' steps are taken here one by one rather than over HTTP.
 *
 * Everything is seeded: the same options give the same events, and the same numbers on every run.
 *
 * @example
 * const dataset = generateDataset(SCREENSHOT_DATASET)
 * await seedDataset(deps, dataset) // deps of createDeps, with EVENTS_RETENTION_DAYS=0
 * dataset.expected.events.page_view // what GET /analytics/stats answers for the whole range
 */
import { periodOf } from '../src/counters/visitors.ts'
import type { Deps } from '../src/deps.ts'
import { clientInfo } from '../src/events/client.ts'
import { validateEvents } from '../src/events/validate.ts'
import { visitOf } from '../src/events/visit.ts'
import { prng } from '../test/prng.ts'

const DAY_MS = 86_400_000
const MINUTE_MS = 60_000

export interface DatasetOptions {
  /** the moment the dataset ends (epoch ms): the last day is partly over */
  now: number
  /** days of traffic, the last one being now's (UTC) */
  days: number
  /** visits on an ordinary weekday at the start; they grow to twice as many by the end */
  visitsPerDay: number
  seed: number
}

/** The README's pictures: ninety days up to a fixed afternoon. */
export const SCREENSHOT_DATASET: DatasetOptions = {
  now: Date.parse('2026-11-28T15:40:00Z'),
  days: 90,
  visitsPerDay: 520,
  seed: 20261128,
}

/** A browser's request to `POST /e`, or a back end's to `POST /analytics/events`. */
export type Send =
  | {
      kind: 'beacon'
      /** receive time: every event of a beacon is counted at it */
      at: number
      ip: string
      userAgent: string
      country: string
      /** the page's host (its Origin) */
      host: string
      events: Record<string, unknown>[]
    }
  | { kind: 'server'; at: number; events: Record<string, unknown>[] }

/** What the generator meant to send, counted on its own side. */
export interface Expected {
  /** events by type */
  events: Record<string, number>
  visits: number
  /** distinct senders (address and User-Agent) */
  visitors: number
  /** per source, as the service names it: its visits and the events in them, by type */
  bySource: Record<string, { visits: number; events: Record<string, number> }>
}

export interface Dataset {
  options: DatasetOptions
  /** in time order */
  sends: Send[]
  expected: Expected
  /** the first and the last day (UTC), YYYY-MM-DD */
  from: string
  to: string
}

type Table<T> = readonly (readonly [T, number])[]

/** Where visits come from: the referrer a page load sends, and the source the service makes of it. */
const REFERRERS: Table<readonly [string, string]> = [
  [['https://www.google.com/', 'Google'], 38],
  [['', '(direct)'], 24],
  [['https://news.ycombinator.com/item?id=42210511', 'Hacker News'], 9],
  [['https://duckduckgo.com/', 'DuckDuckGo'], 6],
  [['https://www.reddit.com/r/selfhosted/comments/1gx2k7p/', 'Reddit'], 5],
  [['https://github.com/example/edge-analytics', 'GitHub'], 4],
  [['https://www.bing.com/', 'Bing'], 3],
  [['https://www.linkedin.com/feed/', 'LinkedIn'], 3],
  [['https://t.co/4Jk2mQ', 'X'], 2],
  [['https://chatgpt.com/', 'ChatGPT'], 2],
  [['https://news.example.org/2026/11/privacy-tools', 'news.example.org'], 1.5],
  [['https://mastodon.social/@example', 'mastodon.social'], 1],
]
/** The launch spike, three weeks before the end, comes mostly from Hacker News. */
const LAUNCH: readonly [string, string] = ['https://news.ycombinator.com/item?id=42210511', 'Hacker News']
const PAGES: Table<string> = [
  ['/', 30],
  ['/pricing', 14],
  ['/docs', 12],
  ['/docs/getting-started', 9],
  ['/blog/privacy-first-analytics', 8],
  ['/features', 6],
  ['/changelog', 4],
  ['/signup', 4],
  ['/blog/why-we-left-cookies', 3],
  ['/about', 2],
  ['/docs/api', 2],
]
const COUNTRIES: Table<string> = [
  ['US', 31],
  ['DE', 12],
  ['GB', 9],
  ['FR', 7],
  ['IN', 6],
  ['NL', 5],
  ['CA', 4],
  ['BR', 3],
  ['SE', 3],
  ['JP', 3],
  ['ES', 2],
  ['PL', 2],
  ['AU', 2],
]
/** User-Agents of the families a small developer-facing site sees. */
const USER_AGENTS: Table<string> = [
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    26,
  ],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    14,
  ],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
    10,
  ],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    15,
  ],
  [
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    13,
  ],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 6],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 3],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
    7,
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36',
    2,
  ],
  [
    'Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    3,
  ],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 3],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0',
    1,
  ],
]
/** utm_source, utm_medium, utm_campaign of campaign links */
const CAMPAIGNS: Table<readonly [string, string, string]> = [
  [['newsletter', 'email', 'newsletter-nov'], 3],
  [['mastodon', 'social', 'launch-week'], 4],
  [['google', 'cpc', 'brand'], 3],
]
const FEATURES: Table<string> = [
  ['export_csv', 30],
  ['share_link', 22],
  ['dark_mode', 14],
  ['invite_sent', 9],
  ['api_key_created', 6],
  ['webhook_added', 3],
]
const PLANS: Table<string> = [
  ['free', 70],
  ['pro', 24],
  ['team', 6],
]
/** visits by hour of the day (UTC): a European and American audience */
const HOURS: Table<number> = [2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8, 7.5, 7, 7, 7.5, 8, 8.5, 8, 7, 6, 5, 4.5, 4, 3].map(
  (w, h) => [h, w] as const,
)

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

interface Visitor {
  ip: string
  userAgent: string
  country: string
  /** the time of their last event */
  last: number
}

export function generateDataset(options: DatasetOptions): Dataset {
  const { now, days, visitsPerDay, seed } = options
  const r = prng(seed)
  const weighted = <T>(table: Table<T>): T => {
    let x = r.next() * table.reduce((a, [, w]) => a + w, 0)
    for (const [value, w] of table) {
      x -= w
      if (x < 0) return value
    }
    return table[0]![0]
  }
  const today = Math.floor(now / DAY_MS) * DAY_MS

  // when each visit begins: growth over the period, quieter weekends, a launch three weeks ago
  const starts: { at: number; launch: boolean }[] = []
  for (let d = days - 1; d >= 0; d--) {
    const start = today - d * DAY_MS
    const weekday = new Date(start).getUTCDay()
    const trend = visitsPerDay * (1 + (days - d) / days) * (weekday === 0 || weekday === 6 ? 0.62 : 1)
    const spike = d >= 19 && d <= 21 ? 2.4 - Math.abs(d - 20) * 0.6 : 1
    const visits = Math.round(trend * spike * (0.9 + 0.2 * r.next()))
    for (let v = 0; v < visits; v++) {
      const at = start + weighted(HOURS) * 3_600_000 + Math.floor(r.next() * 3_600_000)
      // of the launch's extra visits, most come from its thread
      if (at < now) starts.push({ at, launch: spike > 1 && r.next() < 1 - 1 / spike })
    }
  }
  starts.sort((a, b) => a.at - b.at)

  const sends: Send[] = []
  const expected: Expected = { events: {}, visits: 0, visitors: 0, bySource: {} }
  const count = (type: string, source?: string) => {
    expected.events[type] = (expected.events[type] ?? 0) + 1
    if (source !== undefined) {
      const of = expected.bySource[source]!
      of.events[type] = (of.events[type] ?? 0) + 1
    }
  }
  const server = (at: number, event_type: string, user_id: string, properties?: Record<string, string>) => {
    if (at > now) return
    sends.push({
      kind: 'server',
      at,
      events: [{ event_type, user_id, timestamp: new Date(at).toISOString(), ...(properties ? { properties } : {}) }],
    })
    count(event_type)
  }

  const visitors: Visitor[] = []
  const users: string[] = Array.from({ length: 1500 }, (_, i) => `user-${String(i + 1).padStart(5, '0')}`)
  const subscribers: string[] = users.slice(0, 120)
  const newVisitor = (): Visitor => {
    const n = visitors.length + 1
    const visitor = {
      ip: `2001:db8:${(n >> 16).toString(16)}:${(n & 0xffff).toString(16)}::1`,
      userAgent: weighted(USER_AGENTS),
      country: weighted(COUNTRIES),
      last: 0,
    }
    visitors.push(visitor)
    expected.visitors++
    return visitor
  }
  for (const { at: start, launch } of starts) {
    // a third of visits are by someone seen before, more than 30 minutes after their last event
    let back: Visitor | undefined
    if (visitors.length > 50 && r.next() < 0.33) {
      back = visitors[visitors.length - 1 - r.int(Math.min(visitors.length, 4000))]!
      if (back.last + 31 * MINUTE_MS >= start) back = undefined
    }
    const visitor = back ?? newVisitor()
    const [referrer, source] = launch ? LAUNCH : weighted(REFERRERS)
    expected.visits++
    expected.bySource[source] ??= { visits: 0, events: {} }
    expected.bySource[source].visits++

    let at = start
    let path = weighted(PAGES)
    const beacon = (events: Record<string, unknown>[]) => {
      sends.push({
        kind: 'beacon',
        at,
        ip: visitor.ip,
        userAgent: visitor.userAgent,
        country: visitor.country,
        host: path.startsWith('/docs') ? 'docs.example.com' : 'example.com',
        events,
      })
      for (const e of events) count(e.event_type as string, source)
      visitor.last = at
    }
    const entry: Record<string, unknown> = { path, referrer }
    if (r.next() < 0.09) {
      const [utmSource, medium, campaign] = weighted(CAMPAIGNS)
      Object.assign(entry, { utm_source: utmSource, utm_medium: medium, utm_campaign: campaign })
    }
    beacon([{ event_type: 'page_view', properties: entry }])
    const user = users[r.int(users.length)]!
    if (r.next() < 0.12) server(at + 20_000, 'user_login', user)
    // more pages, from inside the site, each a minute or three after the one before
    const pages = r.next() < 0.45 ? 0 : 1 + Math.floor(-Math.log(1 - r.next()) * 1.4)
    for (let p = 0; p < pages; p++) {
      const from = path
      at += 20_000 + r.int(170_000)
      if (at > now) break
      path = weighted(PAGES)
      beacon([{ event_type: 'page_view', properties: { path, referrer: `https://example.com${from}` } }])
    }
    if (r.next() < 0.33) {
      at += 30_000 + r.int(90_000)
      const uses = r.next() < 0.25 ? 2 : 1
      const events = Array.from({ length: uses }, () => ({
        event_type: 'feature_used',
        properties: { feature_name: weighted(FEATURES) },
      }))
      if (at <= now) beacon(events)
    }
    if (r.next() < 0.3) {
      for (let g = 1 + r.int(2); g > 0; g--) {
        at += 15_000 + r.int(60_000)
        server(at, 'generation_started', user)
        server(at + 8_000, r.next() < 0.045 ? 'generation_failed' : 'generation_completed', user)
      }
    }
    if (r.next() < 0.031 && at + 40_000 <= now) {
      at += 40_000
      path = '/signup'
      beacon([{ event_type: 'page_view', properties: { path, referrer: 'https://example.com/pricing' } }])
      const id = `user-${String(users.length + 1).padStart(5, '0')}`
      users.push(id)
      server(at + 15_000, 'user_signup', id, { plan: weighted(PLANS) })
      if (r.next() < 0.22) {
        server(at + 60_000, 'subscription_started', id)
        subscribers.push(id)
      }
    }
    if (r.next() < 0.002) server(start + 5_000, 'subscription_canceled', subscribers[r.int(subscribers.length)]!)
  }
  // stable: a visit's own sends stay in their order
  sends.sort((a, b) => a.at - b.at)
  return { options, sends, expected, from: utcDay(today - (days - 1) * DAY_MS), to: utcDay(today) }
}

/** The salt of visitor hashes, fixed so that the same senders make the same visitors on every run. */
const SALT = '5eed5eed5eed5eed5eed5eed5eed5eed'

/**
 * Counts the dataset's sends as the routes would have at their times, and flushes them to
 * Postgres (counters and event log). `deps` must keep the log's days
 * (`eventsRetentionDays: 0`): retention runs by the real clock, and the dataset's days are fixed.
 * A send the service refuses throws, naming it: the dataset must be one the service takes whole.
 */
export async function seedDataset(deps: Deps, dataset: Dataset): Promise<void> {
  const { config, recorder } = deps
  const counting = { countedProperties: config.countedProperties, keepQueryParams: config.pathQueryParams }
  const salted = new Set<string>()
  let waiting: Promise<void>[] = []
  const settle = async () => {
    await Promise.all(waiting)
    waiting = []
  }
  for (const [i, send] of dataset.sends.entries()) {
    if (send.kind === 'server') {
      const { events, errors } = validateEvents(send.events, { source: 'server', now: send.at, ...counting })
      if (errors.length > 0) throw new Error(`send ${i} refused: ${JSON.stringify(errors)}`)
      waiting.push(recorder.server(events))
    } else {
      const client = clientInfo(send.userAgent)
      if (client.bot) throw new Error(`send ${i}: ${send.userAgent} counts as a crawler`)
      const { events, errors } = validateEvents(send.events, { source: 'browser', now: send.at, ...counting })
      if (errors.length > 0) throw new Error(`send ${i} refused: ${JSON.stringify(errors)}`)
      const visit = visitOf(events, {
        host: send.host,
        visitor: { browser: client.browser, os: client.os, device: client.device, country: send.country },
      })
      const period = periodOf(deps.calendar.day(send.at), config.visitorSaltPeriod)
      if (!salted.has(period)) {
        // the period's salt, set before its first hash (a hash waits for it): fixed, not random
        await settle()
        await deps.redis.set(deps.keys.salt(period), SALT, { expiration: { type: 'EX', value: 3 * 86_400 } })
        salted.add(period)
      }
      waiting.push(recorder.browser({ events, visit }, { ip: send.ip, userAgent: send.userAgent }))
    }
    if (waiting.length >= 2000) await settle()
    // flush as a running service would, well before the pending log rows' bound
    if (i % 50_000 === 49_999) {
      await settle()
      await deps.flusher.flush()
    }
  }
  await settle()
  await deps.flusher.flush()
}
