import { describe, expect, test } from 'bun:test'
import { PANELS } from '../src/dashboard/components/Panels.tsx'
import { change } from '../src/dashboard/format.ts'
import { chartable, METRICS, statsQuery, successRate } from '../src/dashboard/metrics.ts'
import {
  customRangeProblem,
  intervalsFor,
  presetRange,
  previousRange,
  sameTimeBefore,
  withInterval,
} from '../src/dashboard/period.ts'
import { readSpans, splitAt } from '../src/dashboard/series.ts'
import { parseView, readView, viewSearch } from '../src/dashboard/view.ts'
import { countLabel } from '../src/events/labels.ts'
import { VISIT_DIMENSIONS } from '../src/events/types.ts'

describe('periods', () => {
  const today = '2026-11-28'
  test('each preset is the days a person expects, by hour for a single day', () => {
    expect(presetRange('today', today)).toEqual({ from: today, to: today, granularity: 'hour' })
    expect(presetRange('yesterday', today)).toEqual({ from: '2026-11-27', to: '2026-11-27', granularity: 'hour' })
    expect(presetRange('7d', today)).toEqual({ from: '2026-11-22', to: today, granularity: 'day' })
    expect(presetRange('30d', today)).toEqual({ from: '2026-10-30', to: today, granularity: 'day' })
    expect(presetRange('month', today)).toEqual({ from: '2026-11-01', to: today, granularity: 'day' })
    expect(presetRange('lastmonth', today)).toEqual({ from: '2026-10-01', to: '2026-10-31', granularity: 'day' })
    expect(presetRange('12mo', today)).toEqual({ from: '2025-11-29', to: today, granularity: 'day' })
    expect(presetRange('lastmonth', '2026-01-15')).toEqual({ from: '2025-12-01', to: '2025-12-31', granularity: 'day' })
    expect(presetRange('12mo', '2028-02-29').from).toBe('2027-03-01')
    expect(presetRange('month', '2026-11-01')).toEqual({ from: '2026-11-01', to: '2026-11-01', granularity: 'hour' })
    expect(presetRange('custom', today, { from: '2026-01-01', to: '2026-01-31' }).granularity).toBe('day')
  })

  test('the previous period has the same length and ends the day before', () => {
    expect(previousRange({ from: '2026-10-30', to: '2026-11-28', granularity: 'day' })).toEqual({
      from: '2026-09-30',
      to: '2026-10-29',
      granularity: 'day',
    })
    expect(previousRange({ from: '2026-03-01', to: '2026-03-01', granularity: 'hour' })).toEqual({
      from: '2026-02-28',
      to: '2026-02-28',
      granularity: 'hour',
    })
  })

  test('intervals: months by default beyond 90 days, weeks beyond a month, hours up to a week', () => {
    expect(intervalsFor(presetRange('12mo', today))).toEqual(['month', 'week', 'day'])
    expect(intervalsFor({ from: '2026-09-01', to: today })).toEqual(['week', 'day', 'month'])
    expect(intervalsFor(presetRange('30d', today))).toEqual(['day', 'week'])
    expect(intervalsFor(presetRange('7d', today))).toEqual(['day', 'hour'])
    expect(intervalsFor(presetRange('today', today))).toEqual(['hour'])
    expect(withInterval(presetRange('12mo', today), undefined).granularity).toBe('month')
    expect(withInterval(presetRange('12mo', today), 'week').granularity).toBe('week')
    // an interval the range cannot take gives way to its default
    expect(withInterval(presetRange('12mo', today), 'hour').granularity).toBe('month')
  })

  test('today is measured against yesterday until the same time of day, to the quarter-hour', () => {
    const now = Date.parse('2026-11-28T14:37:00Z')
    const day = presetRange('today', today)
    expect(sameTimeBefore(now, 'UTC')).toBe(Date.parse('2026-11-27T14:30:00Z'))
    expect(previousRange(day, { now, tz: 'UTC', wholeDay: false }).until).toBe(Date.parse('2026-11-27T14:30:00Z'))
    expect(previousRange(day, { now, tz: 'UTC', wholeDay: true }).until).toBeUndefined()
    // another day than today, or more than one day, is measured against whole days
    expect(previousRange(presetRange('yesterday', today), { now, tz: 'UTC', wholeDay: false }).until).toBeUndefined()
    expect(previousRange(presetRange('7d', today), { now, tz: 'UTC', wholeDay: false }).until).toBeUndefined()
    // India's quarters start at :00 and :30 of UTC too; 20:07 there is 14:37 UTC
    expect(sameTimeBefore(now, 'Asia/Kolkata')).toBe(Date.parse('2026-11-27T14:30:00Z'))
    // New York's clocks went back on 1 November: 10:00 on the 2nd is 15:00 UTC, on the 1st 15:00 too
    // (EST), while 10:00 on the 1st against 31 October (EDT) is 14:00 UTC: the same time on the clock
    expect(sameTimeBefore(Date.parse('2026-11-02T15:05:00Z'), 'America/New_York')).toBe(
      Date.parse('2026-11-01T15:00:00Z'),
    )
    expect(sameTimeBefore(Date.parse('2026-11-01T15:05:00Z'), 'America/New_York')).toBe(
      Date.parse('2026-10-31T14:00:00Z'),
    )
  })

  test('a custom range says what is wrong with it', () => {
    expect(customRangeProblem('2026-01-01', '2026-01-31')).toBeUndefined()
    expect(customRangeProblem('2026-02-30', '2026-03-01')).toMatch(/Pick/)
    expect(customRangeProblem('2026-03-01', '2026-02-01')).toMatch(/after/)
    expect(customRangeProblem('2025-01-01', '2026-03-01')).toMatch(/400 days/)
    expect(customRangeProblem('1969-12-31', '1970-01-02')).toMatch(/Pick/)
  })
})

describe('the view in the address', () => {
  test('round-trips every field', () => {
    for (const view of [
      { period: '30d', compare: false },
      { period: '7d', type: 'page_view', tz: 'Europe/Berlin', compare: true },
      { period: 'custom', from: '2026-01-01', to: '2026-02-15', type: 'visitors', compare: false },
    ] as const) {
      expect(parseView(viewSearch(view))).toEqual(view)
    }
    expect(viewSearch({ period: '7d', type: 'page_view', tz: 'Europe/Berlin', compare: false })).toBe(
      '?period=7d&type=page_view&tz=Europe/Berlin',
    )
  })

  test('what it cannot use falls back to the default, never to an error', () => {
    expect(parseView('')).toEqual({ period: '30d', compare: false })
    expect(parseView('?period=forever&type=nope&tz=Mars/Olympus&compare=yes')).toEqual({
      period: '30d',
      compare: false,
    })
    expect(parseView('?period=custom&from=2026-01-01')).toEqual({ period: '30d', compare: false })
    expect(parseView('?tz=europe/berlin').tz).toBe('Europe/Berlin')
  })

  test('says what it could not use, and what stands instead', () => {
    expect(readView('?period=7d&tz=Europe/Berlin', 'UTC').problems).toEqual([])
    expect(readView('?period=forever&type=nope&tz=Mars/Olympus', 'Asia/Kolkata').problems).toEqual([
      '"forever" is not a period: showing Last 30 days.',
      '"nope" is not a number this page shows: the chart shows the first.',
      'The time zone "Mars/Olympus" is unknown: showing Asia/Kolkata, the server’s days.',
    ])
    expect(readView('?period=custom&from=2026-03-01&to=2026-02-01', 'UTC').problems).toEqual([
      'The range "2026-03-01" to "2026-02-01" cannot be shown (the first day comes after the last): showing Last 30 days.',
    ])
  })
})

describe('reads of the numbers', () => {
  const range = { from: '2026-11-01', to: '2026-11-30', granularity: 'day' } as const
  const previous = previousRange(range)

  test('one read spans both periods where it can; visitors, a union, never', () => {
    expect(readSpans('visits', range, previous)).toEqual([{ from: '2026-10-02', to: '2026-11-30', granularity: 'day' }])
    expect(readSpans('visitors', range, previous)).toEqual([range, previous])
    const year = { from: '2025-12-01', to: '2026-11-30', granularity: 'day' } as const
    expect(readSpans('page_view', year, previousRange(year))).toHaveLength(2)
  })

  test('a read over both periods splits where the current one starts, totals exact', () => {
    const series = [
      { t: '2026-10-30', count: 2 },
      { t: '2026-10-31', count: 3 },
      { t: '2026-11-01', count: 5 },
      { t: '2026-11-02', count: 7 },
    ]
    const halves = splitAt({ series }, '2026-11-01', 'day', 'UTC')
    expect(halves.previous).toEqual({ series: series.slice(0, 2), total: 5 })
    expect(halves.current).toEqual({ series: series.slice(2), total: 12 })
    // hour points are UTC instants: 23:00 UTC on the 31st is already November 1st in Berlin
    const hours = [
      { t: '2026-10-31T22:00:00.000Z', count: 1 },
      { t: '2026-10-31T23:00:00.000Z', count: 4 },
    ]
    expect(splitAt({ series: hours }, '2026-11-01', 'hour', 'Europe/Berlin').current.total).toBe(4)
  })

  test('each metric reads the stats route it needs', () => {
    expect(statsQuery('visitors', range, 'UTC')).toMatchObject({ metric: 'visitors' })
    // a day by hour: its visitors are read by day (its total), the other metrics by hour
    const day = { from: '2026-11-28', to: '2026-11-28', granularity: 'hour' as const }
    expect(statsQuery('visitors', day, 'UTC')).toMatchObject({ metric: 'visitors', granularity: 'day' })
    expect(statsQuery('visits', day, 'UTC')).toMatchObject({ metric: 'visits', granularity: 'hour' })
    expect([chartable('visitors', 'hour'), chartable('visitors', 'day'), chartable('visits', 'hour')]).toEqual([
      false,
      true,
      true,
    ])
    expect(statsQuery('visits', range, 'UTC')).toMatchObject({ metric: 'visits' })
    expect(statsQuery('user_signup', range, 'Asia/Tokyo')).toEqual({
      metric: 'events',
      event_type: 'user_signup',
      from: range.from,
      to: range.to,
      granularity: 'day',
      tz: 'Asia/Tokyo',
    })
  })

  test('changes and the success rate', () => {
    expect(change(120, 100)).toEqual({ text: '+20%', direction: 'up' })
    expect(change(50, 100)).toEqual({ text: '−50%', direction: 'down' })
    expect(change(5, 0)).toEqual({ text: 'new', direction: 'new' })
    expect(change(0, 0)).toEqual({ text: '0%', direction: 'flat' })
    expect(successRate(93, 7)).toBe(0.93)
    expect(successRate(0, 0)).toBeUndefined()
  })

  test('a count of one is followed by the singular', () => {
    expect(countLabel('page_view', 1)).toBe('page view')
    expect(countLabel('page_view', 0)).toBe('page views')
    expect(countLabel('page_view', 2)).toBe('page views')
    expect(countLabel('user_signup', 1)).toBe('sign-up')
    expect(countLabel('asset_downloaded', 3)).toBe('downloads')
    // every metric has a singular of its own, in lower case
    for (const metric of METRICS) {
      expect(metric.one).toBe(metric.one.toLowerCase())
      expect(metric.one).not.toBe(metric.label.toLowerCase())
    }
  })
})

describe('the breakdowns', () => {
  test('every dimension a read ranks has one tab, in one panel', () => {
    const shown = PANELS.flatMap((p) => p.tabs.map((t) => t.dimension))
    expect(shown.toSorted()).toEqual(['feature', 'page', ...VISIT_DIMENSIONS].toSorted())
  })
})
