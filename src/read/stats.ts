/**
 * `GET /analytics/stats`: a dense (zero-filled) series and its total, of events (one type, or
 * all) or of visits, exact in every zone.
 *
 * - By day in `TIME_ZONE` (the days the counters count in): from the daily counters.
 * - By day in any other zone, by hour in any zone, and up to an instant (`until`): from the
 *   time-of-day counters, kept by UTC quarter-hour. Every offset in use is a multiple of 15 minutes, so each local day or hour is a
 *   whole number of quarters; a series' buckets are given by their start instants, and stored and
 *   unflushed quarters fall into them the same way (`width_bucket` in SQL, a binary search here).
 *
 * - By ISO week or calendar month: the day series summed, so the buckets add up to the days.
 *
 * Unique visitors are a union, not a sum: see visitors.ts. A week's or month's is its days' union.
 */

import type { Pool } from '@neondatabase/serverless'
import { quarterStart } from '../counters/calendar.ts'
import { decodeField } from '../counters/fields.ts'
import { VISIT } from '../events/types.ts'
import { bucketOf } from '../filters/buckets.ts'
import { dayStarts, daysBetween, localHours, periodsOf } from '../time.ts'
import { committedSql, exactRead, type ReadDeps } from './exact.ts'
import type { Granularity, StatsParams } from './params.ts'
import type { QualityMetric, StatsMetric } from './quality.ts'
import { SqlParams } from './sql.ts'
import { visitorsOf } from './visitors.ts'

export interface Point {
  t: string
  count: number
  /** a visit-quality metric: the bucket's figure (null without visits), count its visits; conversion_rate: the rate */
  value?: number | null
  /** conversions and conversion_rate: the unique visitors, of whom count converted */
  visitors?: number
  /** conversions and conversion_rate of a goal with a value: its converting events' value */
  goal_value?: number
}

export interface StatsResult {
  metric: StatsMetric
  event_type: string | null
  granularity: Granularity
  tz: string
  from: string
  to: string
  /** the instant counting stopped at, when asked for */
  until?: string
  series: Point[]
  /** the sum of the points; for visitors the union of the days (a visitor of two days is one) */
  total: number
  /** visitors only: some day was stored before sets were kept, so the total is an upper bound */
  partial?: boolean
  /** a visit-quality metric only: the range's figure (null without visits); total is its visits */
  value?: number | null
  /**
   * a visit-quality metric only: the range's figure of each of the three, from the same visits,
   * so that one read answers for all of them (the dashboard's cards read one, not three)
   */
  quality?: Record<QualityMetric, number | null>
  /** conversions and conversion_rate: the range's unique visitors; total is those who converted */
  visitors?: number
  /** conversions and conversion_rate of a goal with a value: the range's */
  goal_value?: number
}

/** The SQL condition on event_type: one series' type, or every event type (visits left out). */
function typeSql(p: SqlParams, type: string | undefined): string {
  return type ? `event_type = ${p.add(type)}` : `event_type <> ${p.add(VISIT)}`
}

/** Stored daily counts `{day → n}` of [from, to], plus the committed batch ids, in one statement. */
async function storedDays(
  pool: Pool,
  site: number,
  from: string,
  to: string,
  type: string | undefined,
  batchIds: string[],
): Promise<{ result: Map<string, number>; committed: string[] }> {
  const p = new SqlParams(site)
  const r = await pool.query(
    `SELECT
      (SELECT coalesce(json_agg(json_build_array(k, n)), '[]') FROM (
        SELECT to_char(date, 'YYYY-MM-DD') AS k, sum(count)::bigint AS n FROM analytics_daily
        WHERE ${p.site()} AND date BETWEEN ${p.add(from)}::date AND ${p.add(to)}::date AND ${typeSql(p, type)}
        GROUP BY 1) x) AS rows,
      ${committedSql(p, batchIds)} AS committed`,
    p.values,
  )
  const row = r.rows[0] as { rows: [string, number][]; committed: string[] }
  return { result: new Map(row.rows.map(([k, n]) => [k, Number(n)])), committed: row.committed }
}

/**
 * Stored quarters summed into buckets: `starts` are the buckets' start instants and the end of the
 * last (ascending); the result is bucket index (0-based) → n.
 */
async function storedBuckets(
  pool: Pool,
  site: number,
  starts: number[],
  type: string | undefined,
  batchIds: string[],
): Promise<{ result: Map<number, number>; committed: string[] }> {
  const p = new SqlParams(site)
  const bounds = starts.map((ms) => new Date(ms).toISOString())
  const lo = p.add(bounds[0])
  const hi = p.add(bounds.at(-1))
  const r = await pool.query(
    `SELECT
      (SELECT coalesce(json_agg(json_build_array(b, n)), '[]') FROM (
        SELECT width_bucket(at, ${p.add(bounds)}::timestamptz[]) - 1 AS b, sum(count)::bigint AS n
        FROM analytics_quarters
        WHERE ${p.site()} AND at >= ${lo}::timestamptz AND at < ${hi}::timestamptz AND ${typeSql(p, type)}
        GROUP BY 1) x) AS rows,
      ${committedSql(p, batchIds)} AS committed`,
    p.values,
  )
  const row = r.rows[0] as { rows: [number, number][]; committed: string[] }
  return { result: new Map(row.rows.map(([b, n]) => [Number(b), Number(n)])), committed: row.committed }
}

/**
 * The dense series of events (of `type`, or all but visits) by local day or hour in `p.tz`.
 * With `p.until`, quarters from it on are left out: the buckets are cut there.
 */
async function countSeries(deps: ReadDeps, p: StatsParams, type: string | undefined): Promise<Point[]> {
  const counted = (t: string) => (type ? t === type : t !== VISIT)
  if (p.granularity !== 'hour' && p.tz === deps.calendar.zone && p.until === undefined) {
    const counts = new Map<string, number>()
    const { history, unflushed } = await exactRead(deps.redis, deps.keys, { all: ['d'] }, (view) =>
      storedDays(deps.pool, deps.keys.site, p.from, p.to, type, view.batchIds),
    )
    for (const [day, n] of history) counts.set(day, n)
    for (const [field, n] of unflushed.d ?? []) {
      const { day, type: t } = decodeField('d', field)
      if (day >= p.from && day <= p.to && counted(t)) counts.set(day, (counts.get(day) ?? 0) + n)
    }
    return daysBetween(p.from, p.to).map((t) => ({ t, count: counts.get(t) ?? 0 }))
  }
  const days = dayStarts(p.from, p.to, p.tz)
  const hours = p.granularity === 'hour' ? localHours(days[0]!, days.at(-1)!, p.tz) : undefined
  const bounds = hours ? [...hours.map((h) => h.start), days.at(-1)!] : days
  // a bucket that starts at or after `until` is empty, one across it is cut there
  const until = p.until
  const starts = until === undefined ? bounds : bounds.map((ms) => Math.min(ms, until))
  const { history, unflushed } = await exactRead(deps.redis, deps.keys, { all: ['h'] }, (view) =>
    storedBuckets(deps.pool, deps.keys.site, starts, type, view.batchIds),
  )
  const counts = new Array<number>(starts.length - 1).fill(0)
  for (const [b, n] of history) if (b >= 0 && b < counts.length) counts[b]! += n
  for (const [field, n] of unflushed.h ?? []) {
    const { quarter, type: t } = decodeField('h', field)
    if (!counted(t)) continue
    const b = bucketOf(starts, quarterStart(quarter))
    if (b >= 0) counts[b]! += n
  }
  const labels = hours ? hours.map((h) => new Date(h.start).toISOString()) : daysBetween(p.from, p.to)
  return labels.map((t, i) => ({ t, count: counts[i]! }))
}

/** A day series summed into periods (first and last day of each, in order, covering it). */
function sumPeriods(days: Point[], periods: [string, string][]): Point[] {
  let i = 0
  return periods.map(([from, to]) => {
    let count = 0
    for (; i < days.length && days[i]!.t <= to; i++) count += days[i]!.count
    return { t: from, count }
  })
}

/** What a stats answer says of the read it answers: every field but the numbers. */
export function statsHead(p: StatsParams): Omit<StatsResult, 'series' | 'total'> {
  return {
    metric: p.metric,
    event_type: p.eventType ?? null,
    granularity: p.granularity,
    tz: p.tz,
    from: p.from,
    to: p.to,
    ...(p.until === undefined ? {} : { until: new Date(p.until).toISOString() }),
  }
}

/** `zone`: the zone the daily counters count in (TIME_ZONE). */
export async function stats(deps: ReadDeps, p: StatsParams): Promise<StatsResult> {
  const head = statsHead(p)
  const periods =
    p.granularity === 'week' || p.granularity === 'month' ? periodsOf(p.from, p.to, p.granularity) : undefined
  if (p.metric === 'visitors') {
    const days = daysBetween(p.from, p.to)
    // a week's or a month's visitors are the union of its days, as the range's total is
    const visitors = await visitorsOf(deps, days, [], periods)
    const series = periods
      ? periods.map(([t], i) => ({ t, count: visitors.spans[i]! }))
      : days.map((t) => ({ t, count: visitors.days.get(t) ?? 0 }))
    return { ...head, series, total: visitors.union, ...(visitors.partial ? { partial: true } : {}) }
  }
  // visits are counted like an event type of their own, which "all types" leaves out
  const type = p.metric === 'visits' ? VISIT : p.eventType
  const counts = await countSeries(deps, p, type)
  // a week or a month is the sum of its days, so the buckets add up to the days' total
  const series = periods ? sumPeriods(counts, periods) : counts
  return { ...head, series, total: series.reduce((a, b) => a + b.count, 0) }
}
