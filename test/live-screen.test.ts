/**
 * The live screen's day (src/live-screen/day.ts): today in TIME_ZONE from the feed, its hours
 * kept across messages and across the zone's midnight; the UTC day from a server without them.
 */
import { expect, test } from 'bun:test'
import { clockOf, countsFor, diffStates, type LiveDiff, liveState, snapshotFor } from '../src/live/state.ts'
import { applyCounts, dayOf } from '../src/live-screen/day.ts'

const v = (today: number) => ({ today, now: 0 })
const la = (day: string, hour: number, fields: Record<string, string>) => ({
  day,
  timeZone: 'America/Los_Angeles',
  hour,
  fields,
})

test('a day of TIME_ZONE follows the feed through its hours and past its midnight', () => {
  const clock = clockOf(Date.parse('2026-11-29T07:00:00Z')) // 23:00 on 28 November in Los Angeles
  const first = liveState(
    {},
    v(1),
    clock,
    la('2026-11-28', 23, { page_view: '5', 'page_view|15': '2', 'page_view|23': '3' }),
  )
  const day = dayOf(snapshotFor(first, ['page_view']))
  expect(day).toMatchObject({ day: '2026-11-28', hour: 23, zone: 'America/Los_Angeles', zoned: true })
  expect(day.totals.get('page_view')).toBe(5)
  expect(day.hours.get('page_view')![15]).toBe(2)

  const more = liveState(
    {},
    v(2),
    clock,
    la('2026-11-28', 23, { page_view: '6', 'page_view|15': '2', 'page_view|23': '4' }),
  )
  expect(applyCounts(day, countsFor(diffStates(first, more) as LiveDiff, more, ['page_view'])!)).toEqual({
    changed: ['page_view'],
    hourMoved: false,
  })
  expect(day.hours.get('page_view')![23]).toBe(4)
  expect(day.totals.get('page_view')).toBe(6)

  // midnight there: a new day whose hours start empty, and one event in its first hour
  const next = liveState(
    {},
    v(2),
    clockOf(Date.parse('2026-11-29T08:00:00Z')),
    la('2026-11-29', 0, { page_view: '1', 'page_view|00': '1' }),
  )
  expect(applyCounts(day, countsFor(diffStates(more, next) as LiveDiff, next, ['page_view'])!).hourMoved).toBe(true)
  expect(day).toMatchObject({ day: '2026-11-29', hour: 0 })
  expect(day.totals.get('page_view')).toBe(1)
  expect(day.hours.get('page_view')).toEqual([1, ...new Array(23).fill(0)])
})

test('without today in TIME_ZONE, the UTC day stands in', () => {
  const s = snapshotFor(liveState({ 'page_view|12': '3' }, v(1), clockOf(Date.parse('2026-11-28T12:00:00Z'))))
  const { today: _, ...older } = s
  const day = dayOf(older as typeof s)
  expect(day).toMatchObject({ day: '2026-11-28', hour: 12, zone: 'UTC', zoned: false })
  applyCounts(day, { day: '2026-11-28', hour: 12, types: { page_view: { total: 5, hours: { 12: 5 } } } })
  expect(day.totals.get('page_view')).toBe(5)
})
