/**
 * A period and the one before it in one read where a read can hold both: half the requests for
 * the numbers, and both halves from one consistent view of the counters. A read's total is the
 * sum of its dense series, so each half's total is exact. Unique visitors are the exception: a
 * union over a range is not the sum of its days, so they are read per period.
 *
 * @example
 * readSpans('visits', { from: '2026-11-01', to: '2026-11-30', granularity: 'day' }, previous)
 * // [{ from: '2026-10-02', to: '2026-11-30', granularity: 'day' }]
 * splitAt(answer, '2026-11-01', 'day', 'UTC') // { previous: { series, total }, current: { series, total } }
 */
import { MAX_DAYS_DAILY, MAX_DAYS_HOURLY } from '../read/bounds.ts'
import { dayCount, localDay } from '../time.ts'
import type { Point } from './api.ts'
import type { MetricId } from './metrics.ts'
import type { Range } from './period.ts'

/** A period's part of a read: its points and their sum. */
export interface Part {
  series: Point[]
  total: number
}

/** The ranges to read for a metric over `range` and `previous` (which ends the day before it). */
export function readSpans(metric: MetricId, range: Range, previous: Range): Range[] {
  // a week or month read across both would put the week they share in one bucket; a previous
  // period cut at an instant is a read of its own
  const apart = range.granularity === 'week' || range.granularity === 'month' || previous.until !== undefined
  if (metric === 'visitors' || apart) return [range, previous]
  const both: Range = { from: previous.from, to: range.to, granularity: range.granularity }
  const max = range.granularity === 'hour' ? MAX_DAYS_HOURLY : MAX_DAYS_DAILY
  return dayCount(both.from, both.to) <= max ? [both] : [range, previous]
}

const part = (series: Point[]): Part => ({ series, total: series.reduce((a, p) => a + p.count, 0) })

/**
 * Splits a read over both periods where the current one starts (`from`, a local day). Hour
 * points are UTC instants, placed by their day in `tz`.
 */
export function splitAt(
  answer: { series: Point[] },
  from: string,
  granularity: 'day' | 'hour' | 'week' | 'month',
  tz: string,
): { previous: Part; current: Part } {
  const dayOf = (p: Point) => (granularity === 'hour' ? localDay(Date.parse(p.t), tz) : p.t)
  const at = answer.series.findIndex((p) => dayOf(p) >= from)
  const cut = at < 0 ? answer.series.length : at
  return { previous: part(answer.series.slice(0, cut)), current: part(answer.series.slice(cut)) }
}
