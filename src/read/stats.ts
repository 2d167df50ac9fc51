/**
 * `GET /analytics/stats`: a dense (zero-filled) series and its total for one event type or all,
 * by UTC day from the daily counters, or by hour — and by day in another time zone — from the
 * hourly counters.
 */
import type { Pool } from '@neondatabase/serverless'
import { decodeField } from '../counters/fields.ts'
import { VISIT } from '../events/types.ts'
import { committedSql, exactRead, type ReadDeps } from './exact.ts'
import type { StatsParams } from './params.ts'
import { SqlParams } from './sql.ts'
import { daysBetween, hoursOfLocalDays, localDay } from './time.ts'

export interface Point {
  t: string
  count: number
}

export interface StatsResult {
  metric: 'events' | 'visits'
  event_type: string | null
  granularity: 'day' | 'hour'
  tz: string
  from: string
  to: string
  series: Point[]
  total: number
}

/** Postgres rows `{t, n}` plus the committed batch ids, in one statement. */
async function history(
  pool: Pool,
  table: 'analytics_daily' | 'analytics_hourly',
  lo: string,
  hi: string,
  eventType: string | undefined,
  batchIds: string[],
): Promise<{ result: Map<string, number>; committed: string[] }> {
  const p = new SqlParams()
  const bound =
    table === 'analytics_daily'
      ? `date BETWEEN ${p.add(lo)}::date AND ${p.add(hi)}::date`
      : `hour >= ${p.add(lo)} AND hour < ${p.add(hi)}`
  const key =
    table === 'analytics_daily' ? "to_char(date, 'YYYY-MM-DD')" : `(extract(epoch FROM hour) * 1000)::bigint::text`
  const sql = `SELECT
      (SELECT coalesce(json_agg(json_build_array(k, n)), '[]') FROM (
        SELECT ${key} AS k, sum(count)::bigint AS n FROM ${table}
        WHERE ${bound} AND ${eventType ? `event_type = ${p.add(eventType)}` : `event_type <> ${p.add(VISIT)}`}
        GROUP BY 1) x) AS rows,
      ${committedSql(p, batchIds)} AS committed`
  const r = await pool.query(sql, p.values)
  const row = r.rows[0] as { rows: [string, number][]; committed: string[] }
  return { result: new Map(row.rows.map(([k, n]) => [k, Number(n)])), committed: row.committed }
}

export async function stats(deps: ReadDeps, p: StatsParams): Promise<StatsResult> {
  const utcDays = p.granularity === 'day' && p.tz === 'UTC'
  // visits are counted like an event type of their own, which "all types" leaves out
  const series = p.metric === 'visits' ? VISIT : p.eventType
  const counted = (type: string) => (series ? type === series : type !== VISIT)
  const counts = new Map<string, number>()
  const add = (k: string, n: number) => counts.set(k, (counts.get(k) ?? 0) + n)
  let buckets: string[]

  if (utcDays) {
    buckets = daysBetween(p.from, p.to)
    const { history: stored, unflushed } = await exactRead(deps.redis, deps.keys, { all: ['d'] }, (view) =>
      history(deps.pool, 'analytics_daily', p.from, p.to, series, view.batchIds),
    )
    for (const [day, n] of stored) add(day, n)
    for (const [field, n] of unflushed.d ?? []) {
      const { day, type } = decodeField('d', field)
      if (day >= p.from && day <= p.to && counted(type)) add(day, n)
    }
  } else {
    const hours = hoursOfLocalDays(p.from, p.to, p.tz)
    // a local day the zone skipped (Pacific/Apia 2011-12-30) has no hours: an empty range
    const lo = new Date(hours[0] ?? 0).toISOString()
    const hi = new Date(hours.length > 0 ? hours.at(-1)! + 3_600_000 : 0).toISOString()
    const perHour = new Map<number, number>()
    const { history: stored, unflushed } = await exactRead(deps.redis, deps.keys, { all: ['h'] }, (view) =>
      history(deps.pool, 'analytics_hourly', lo, hi, series, view.batchIds),
    )
    for (const [ms, n] of stored) perHour.set(Number(ms), (perHour.get(Number(ms)) ?? 0) + n)
    for (const [field, n] of unflushed.h ?? []) {
      const { hour, type } = decodeField('h', field)
      if (!counted(type)) continue
      const ms = Date.parse(`${hour}:00:00Z`)
      perHour.set(ms, (perHour.get(ms) ?? 0) + n)
    }
    const wanted = new Set(hours)
    if (p.granularity === 'hour') {
      buckets = hours.map((h) => new Date(h).toISOString())
      for (const [ms, n] of perHour) if (wanted.has(ms)) add(new Date(ms).toISOString(), n)
    } else {
      buckets = daysBetween(p.from, p.to)
      for (const [ms, n] of perHour) if (wanted.has(ms)) add(localDay(ms, p.tz), n)
    }
  }
  const points = buckets.map((t) => ({ t, count: counts.get(t) ?? 0 }))
  return {
    metric: p.metric,
    event_type: p.eventType ?? null,
    granularity: p.granularity,
    tz: p.tz,
    from: p.from,
    to: p.to,
    series: points,
    total: points.reduce((a, b) => a + b.count, 0),
  }
}
