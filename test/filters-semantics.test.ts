/**
 * What each filtered metric counts, on a few rows whose answers are known by hand, in both
 * executions: the SQL over the stored rows, and the JavaScript over the same rows.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import type { Pool } from '@neondatabase/serverless'
import type { VisitDimension } from '../src/events/types.ts'
import {
  bucketsOf,
  type CaseFold,
  events,
  type Filter,
  type LogMetric,
  type LogQuery,
  probeCaseFold,
  readLog,
  top,
  visitors,
  visits,
} from '../src/filters/index.ts'
import { eventRow, type LogRow } from '../src/log/row.ts'
import { insertLogRows, logPartitions } from './log-table.ts'
import { testContext } from './services.ts'

const DAY = '2026-11-28'
const T0 = Date.parse(`${DAY}T00:00:00Z`)
const MIN = 60_000

const visitOf = (v: Partial<Record<VisitDimension, string>>): Record<VisitDimension, string | null> => ({
  source: null,
  utm_source: null,
  utm_medium: null,
  utm_campaign: null,
  entry_page: null,
  browser: 'Chrome',
  os: 'Linux',
  device: 'desktop',
  country: 'DE',
  hostname: 'shop.example.com',
  ...v,
})

const row = (r: Partial<LogRow>): LogRow => ({ ...eventRow(T0, 'page_view'), ...r })

// visit 1: Google, saw /pricing; visit 2: Google, saw / only; visit 3: Bing, saw /pricing, began
// the day before (so outside a range of DAY); visit 4: Bing, no campaign; a server event of no visit
const google = visitOf({ source: 'Google', entry_page: '/', utm_campaign: 'Winter' })
const bing = visitOf({ source: 'Bing', entry_page: '/pricing' })
const bingHome = visitOf({ source: 'Bing', entry_page: '/' })
const ROWS: LogRow[] = [
  row({ at: T0 + 10 * MIN, visitId: '1', began: true, visitor: 'aaaaaaaaaaaaaaaa', visit: google, path: '/' }),
  row({ at: T0 + 11 * MIN, visitId: '1', visitor: 'aaaaaaaaaaaaaaaa', visit: google, path: '/pricing' }),
  row({
    at: T0 + 12 * MIN,
    type: 'feature_used',
    visitId: '1',
    visitor: 'aaaaaaaaaaaaaaaa',
    visit: google,
    feature: 'Export',
    props: { plan: 'Pro', constructor: 'x' },
  }),
  row({ at: T0 + 20 * MIN, visitId: '2', began: true, visitor: 'ffffffffffffffff', visit: google, path: '/' }),
  row({ at: T0 - 5 * MIN, visitId: '3', began: true, visitor: 'aaaaaaaaaaaaaaaa', visit: bing, path: '/pricing' }),
  row({ at: T0 + 30 * MIN, visitId: '3', visitor: 'aaaaaaaaaaaaaaaa', visit: bing, path: '/pricing' }),
  row({ at: T0 + 40 * MIN, type: 'user_signup', userId: 'u1', props: { plan: 'Pro' } }),
  row({ at: T0 + 50 * MIN, visitId: '4', began: true, visitor: 'bbbbbbbbbbbbbbbb', visit: bingHome, path: '/' }),
]

// a day of page views by path: stored a 5, b 4, c 3, d 2, e 1, and e 10 more pending
const DAY2 = Date.parse('2026-11-26T00:00:00Z')
const pageViews = (path: string, n: number) =>
  Array.from({ length: n }, (_, i) => row({ at: DAY2 + i * MIN, path, visitId: '9', visitor: 'cccccccccccccccc' }))
const STORED_PAGES = [
  ...pageViews('/a', 5),
  ...pageViews('/b', 4),
  ...pageViews('/c', 3),
  ...pageViews('/d', 2),
  ...pageViews('/e', 1),
]
const PENDING_PAGES = pageViews('/e', 10)

let pool: Pool
let fold: CaseFold
const bounds = bucketsOf('day', DAY, DAY, 'UTC').bounds

beforeAll(async () => {
  const { db } = await testContext()
  pool = db.pool
  await logPartitions(pool, '2026-11-26', DAY)
  await insertLogRows(pool, [...ROWS, ...STORED_PAGES])
  fold = await probeCaseFold(pool)
})

/** The metric by SQL over the stored rows, after checking the JavaScript over them says the same. */
async function both<Q extends LogQuery, R>(metric: LogMetric<Q, unknown, unknown, R>, q: Omit<Q, 'fold' | 'bounds'>) {
  const query = { ...q, bounds, fold } as unknown as Q
  const sql = await readLog(pool, metric, query)
  expect(metric.ofRows(query, ROWS)).toEqual(sql)
  return sql
}

const is = (dimension: Filter['dimension'], ...values: string[]): Filter => ({ op: 'is', dimension, values })

describe('filtered metrics', () => {
  test('events: the rows in the range that pass every filter', async () => {
    expect(await both(events, { site: 0, filters: [] })).toEqual([7])
    expect(await both(events, { site: 0, filters: [is('source', 'Google')] })).toEqual([4])
    expect(await both(events, { site: 0, filters: [is('source', 'Google')], eventType: 'page_view' })).toEqual([3])
    expect(await both(events, { site: 0, filters: [is('page', '/pricing')] })).toEqual([2])
  })

  test('visits: begun in the range, and with an event filter, matched by a row of the visit', async () => {
    expect(await both(visits, { site: 0, filters: [] })).toEqual([3])
    expect(await both(visits, { site: 0, filters: [is('source', 'Google')] })).toEqual([2])
    // visit 1 saw /pricing, visit 2 did not; visit 3 did but began the day before
    expect(await both(visits, { site: 0, filters: [is('page', '/pricing')] })).toEqual([1])
    expect(await both(visits, { site: 0, filters: [is('source', 'Google'), is('feature', 'Export')] })).toEqual([1])
    expect(await both(visits, { site: 0, filters: [is('source', 'Bing')] })).toEqual([1])
  })

  test('visitors: distinct visitors of the rows that pass; an event of no visit is no one', async () => {
    expect(await both(visitors, { site: 0, filters: [] })).toEqual({ counts: [3], total: 3 })
    expect(await both(visitors, { site: 0, filters: [is('page', '/pricing')] })).toEqual({ counts: [1], total: 1 })
    expect(await both(visitors, { site: 0, filters: [is('prop:plan', 'Pro')] })).toEqual({ counts: [1], total: 1 })
  })

  test('the negations match rows with no value: server events and absent properties', async () => {
    expect(
      await both(events, { site: 0, filters: [{ op: 'is_not', dimension: 'source', values: ['Google'] }] }),
    ).toEqual([3])
    expect(
      await both(events, { site: 0, filters: [{ op: 'contains_not', dimension: 'source', values: ['o'] }] }),
    ).toEqual([3])
    expect(await both(events, { site: 0, filters: [is('prop:constructor', 'x')] })).toEqual([1])
    // an absent key, even one every object inherits, is no value
    expect(await both(events, { site: 0, filters: [is('prop:toString', 'x')] })).toEqual([0])
    expect(
      await both(events, { site: 0, filters: [{ op: 'is_not', dimension: 'prop:toString', values: ['x'] }] }),
    ).toEqual([7])
  })

  test('contains ignores case, and % _ \\ are plain characters', async () => {
    expect(
      await both(events, { site: 0, filters: [{ op: 'contains', dimension: 'source', values: ['OOG'] }] }),
    ).toEqual([4])
    expect(await both(events, { site: 0, filters: [{ op: 'contains', dimension: 'page', values: ['%'] }] })).toEqual([
      0,
    ])
    expect(
      await both(events, { site: 0, filters: [{ op: 'contains', dimension: 'page', values: ['_', 'RIC'] }] }),
    ).toEqual([2])
  })

  test('top: visits under the value of the row that began them, events under theirs', async () => {
    expect(await both(top, { site: 0, filters: [], dimension: 'source', limit: 10 })).toEqual({
      items: [
        { name: 'Google', count: 2 },
        { name: 'Bing', count: 1 },
      ],
      total: 3,
    })
    // a visit with no UTM campaign is in the total, under no name
    expect(await both(top, { site: 0, filters: [], dimension: 'utm_campaign', limit: 10 })).toEqual({
      items: [{ name: 'Winter', count: 2 }],
      total: 3,
    })
    expect(
      await both(top, { site: 0, filters: [is('page', '/pricing')], dimension: 'utm_campaign', limit: 10 }),
    ).toEqual({
      items: [{ name: 'Winter', count: 1 }],
      total: 1,
    })
    expect(await both(top, { site: 0, filters: [], dimension: 'page', limit: 1 })).toEqual({
      items: [{ name: '/', count: 3 }],
      total: 5,
    })
    expect(await both(top, { site: 0, filters: [], dimension: 'prop:plan', limit: 10 })).toEqual({
      items: [{ name: 'Pro', count: 2 }],
      total: 7,
    })
    expect(
      await both(top, { site: 0, filters: [], dimension: 'prop:plan', eventType: 'user_signup', limit: 10 }),
    ).toEqual({
      items: [{ name: 'Pro', count: 1 }],
      total: 1,
    })
    expect(await both(top, { site: 0, filters: [], dimension: 'feature', limit: 10 })).toEqual({
      items: [{ name: 'Export', count: 1 }],
      total: 1,
    })
  })

  test('top: a pending name past the stored top keeps its stored count', async () => {
    // Postgres' top 1 + 1 is /a and /b; /e, the one pending name, is counted from its own row
    const q = { site: 0, filters: [], bounds: bucketsOf('day', '2026-11-26', '2026-11-26', 'UTC').bounds, fold }
    const expected = { items: [{ name: '/e', count: 11 }], total: 25 }
    expect(await readLog(pool, top, { ...q, dimension: 'page', limit: 1 }, PENDING_PAGES)).toEqual(expected)
    expect(top.ofRows({ ...q, dimension: 'page', limit: 1 }, [...STORED_PAGES, ...PENDING_PAGES])).toEqual(expected)
  })
})
