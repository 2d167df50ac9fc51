/**
 * The dataset behind the README's pictures (scripts/dashboard-dataset.ts), seeded into a fresh
 * database: every event the generator meant is what the reads answer, unfiltered (the counters)
 * and filtered (the event log), so a seed that writes tables the reads no longer use, or leaves
 * the log empty, fails here before it makes a blank picture.
 */
import { expect, setDefaultTimeout, test } from 'bun:test'
import { generateDataset, SCREENSHOT_DATASET, seedDataset } from '../scripts/dashboard-dataset.ts'
import { EVENT_TYPES } from '../src/events/types.ts'
import { validateEvents } from '../src/events/validate.ts'
import { pendingTotal, testApp } from './app.ts'

setDefaultTimeout(30_000)

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' }
const NOW = Date.parse('2026-11-28T15:40:00Z')

test('the seeded dataset is what every read answers: counters, event log, filters and visitors', async () => {
  const dataset = generateDataset({ now: NOW, days: 10, visitsPerDay: 40, seed: 5 })
  const { expected, from, to } = dataset
  expect(expected.visits).toBeGreaterThan(300)
  const { deps, app, db } = await testApp({ countedProperties: ['plan'], eventsRetentionDays: 0 }, { now: () => NOW })
  await seedDataset(deps, dataset)

  const get = async (path: string) => {
    const res = await app.handle(new Request(`http://localhost${path}`, { headers: ADMIN }))
    expect({ path, status: res.status }).toEqual({ path, status: 200 })
    return (await res.json()) as { total: number; drift?: number }
  }
  const total = async (query: string, filters?: unknown) =>
    (
      await get(
        `/analytics/stats?${query}&from=${from}&to=${to}&tz=UTC` +
          (filters ? `&filters=${encodeURIComponent(JSON.stringify(filters))}` : ''),
      )
    ).total

  // all of it flushed: in Postgres, counters and log alike, nothing left waiting in Redis
  expect(await pendingTotal(deps)).toBe(0)
  const events = Object.values(expected.events).reduce((a, b) => a + b, 0)
  const stored = await db.pool.query(
    `SELECT (SELECT count(*) FROM analytics_events)::int AS rows,
            (SELECT sum(count) FROM analytics_daily WHERE event_type <> 'visit')::int AS counted`,
  )
  expect(stored.rows[0]).toEqual({ rows: events, counted: events })

  // unfiltered: the counters; a filter that matches every row: the log
  const everything = [['is_not', 'source', ['a source nobody has']]]
  for (const type of EVENT_TYPES) {
    const want = expected.events[type] ?? 0
    expect({ type, total: await total(`event_type=${type}`) }).toEqual({ type, total: want })
    expect({ type, log: await total(`event_type=${type}`, everything) }).toEqual({ type, log: want })
  }
  expect(await total('metric=visits')).toBe(expected.visits)
  expect(await total('metric=visits', everything)).toBe(expected.visits)

  // a filtered view: the visits of one source, and the events in them
  const google = expected.bySource.Google!
  expect(google.visits).toBeGreaterThan(50)
  const bySource = [['is', 'source', ['Google']]]
  expect(await total('metric=visits', bySource)).toBe(google.visits)
  expect(await total('event_type=page_view', bySource)).toBe(google.events.page_view!)
  expect(await total('event_type=feature_used', bySource)).toBe(google.events.feature_used ?? 0)
  // server events belong to no visit
  expect(await total('event_type=user_signup', bySource)).toBe(0)

  // the drift check finds the counters and the log in agreement on every day
  expect((await get(`/analytics/log/check?from=${from}&to=${to}&tz=UTC`)).drift).toBe(0)

  // unique visitors are a HyperLogLog's estimate: near the senders, not exact
  const visitors = await total('metric=visitors')
  expect(Math.abs(visitors - expected.visitors) / expected.visitors).toBeLessThan(0.03)
})

test("the README's dataset is the same on every run, and the service would take every send of it", () => {
  const a = generateDataset(SCREENSHOT_DATASET)
  const b = generateDataset(SCREENSHOT_DATASET)
  expect(b.expected).toEqual(a.expected)
  expect(b.sends.length).toBe(a.sends.length)
  // a realistic size: tens of thousands of visits over the 90 days
  expect(a.expected.visits).toBeGreaterThan(40_000)
  for (const send of a.sends) {
    const { errors } = validateEvents(send.events, {
      source: send.kind === 'beacon' ? 'browser' : 'server',
      now: send.at,
      countedProperties: ['plan'],
    })
    if (errors.length > 0) expect({ send, errors }).toEqual({ send, errors: [] })
  }
})
