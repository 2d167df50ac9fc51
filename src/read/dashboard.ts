/**
 * `GET /analytics/dashboard`: the original pattern's metrics with its snake_case keys, made exact
 * (Postgres history + unflushed deltas, see exact.ts), plus page views, visitors, visits, top
 * pages, and the week's visits by source, country, device and browser.
 * Cost is fixed whatever the data: one Redis MULTI (+ registry and sequence reads), one PFCOUNT,
 * one Postgres statement.
 *
 * "Today", its hours and the trend are days and hours of TIME_ZONE; `total_users` counts distinct user ids ever counted, since
 * this service owns no users table.
 */

import { quarterStart } from '../counters/calendar.ts'
import { decodeField } from '../counters/fields.ts'
import { VISIT } from '../events/types.ts'
import { addDays, dayStarts, daysBetween, localHours } from '../time.ts'
import { committedSql, exactRead, type ReadDeps } from './exact.ts'
import { SqlParams } from './sql.ts'
import { candidateNames, rankTop, type TopDimension, type TopQuery, topDeltas, topSql } from './top.ts'
import { visitorsOf } from './visitors.ts'

export interface Dashboard {
  /** today, in `time_zone` (TIME_ZONE): the day every "today" below counts */
  day: string
  time_zone: string
  total_generations: number
  total_users: number
  generations_today: number
  signups_today: number
  page_views_today: number
  visitors_today: number
  /** unique visitors of the last 7 and 30 days (today included): unions, not sums */
  visitors_7d: number
  visitors_30d: number
  visits_today: number
  /** local hour "0".."23" (TIME_ZONE) → generations completed in that hour today */
  hourly_generations: Record<string, number>
  /** day (TIME_ZONE) → generations completed, the last 30 days */
  daily_trend: Record<string, number>
  top_features: { feature: string; usage: number }[]
  top_pages: { path: string; views: number }[]
  /** the last 7 days' visits by source, country, device type and browser */
  top_sources: { source: string; visits: number }[]
  top_countries: { country: string; visits: number }[]
  devices: { device: string; visits: number }[]
  browsers: { browser: string; visits: number }[]
}

const TOP = 10

/** The ranked lists, each over the last 7 days: its query, and the key its items take. */
export const PANELS = [
  { name: 'top_features', dimension: 'feature', key: 'feature', count: 'usage' },
  { name: 'top_pages', dimension: 'page', key: 'path', count: 'views' },
  { name: 'top_sources', dimension: 'source', key: 'source', count: 'visits' },
  { name: 'top_countries', dimension: 'country', key: 'country', count: 'visits' },
  { name: 'devices', dimension: 'device', key: 'device', count: 'visits' },
  { name: 'browsers', dimension: 'browser', key: 'browser', count: 'visits' },
] as const satisfies readonly { name: keyof Dashboard; dimension: TopDimension; key: string; count: string }[]

type Pairs = [string, number][]

interface Stored {
  totalGenerations: number
  totalUsers: number
  daily: [string, string, number][]
  hourly: [number, number][]
  /** per panel, the stored top and touched rows */
  panels: Pairs[]
}

export async function dashboard(deps: ReadDeps): Promise<Dashboard> {
  const today = deps.calendar.day(deps.now())
  const zone = deps.calendar.zone
  // today's local hours, as the time-of-day counters' quarters fall into them
  const [dayBegins, dayEnds] = dayStarts(today, today, zone) as [number, number]
  const hours = localHours(dayBegins, dayEnds, zone)
  const hourStarts = [...hours.map((h) => h.start), dayEnds]
  const trendFrom = addDays(today, -29)
  const weekFrom = addDays(today, -6)
  const queries: TopQuery[] = PANELS.map((panel) => ({
    dimension: panel.dimension,
    from: weekFrom,
    to: today,
    limit: TOP,
  }))
  const kindOf = (q: TopQuery) => (q.dimension === 'feature' ? 'f' : q.dimension === 'page' ? 'p' : 'x')

  const [{ history: stored, unflushed }, visitors] = await Promise.all([
    exactRead(deps.redis, deps.keys, { all: ['d', 'h', 'u', 'f', 'p', 'x'] }, async (view) => {
      const userIds = [...new Set([...view.fieldNames('u')].map((f) => decodeField('u', f).value))]
      const p = new SqlParams(deps.keys.site)
      const today$ = p.add(today)
      const panels = queries.map((q) => {
        const names = candidateNames(q, view.fieldNames(kindOf(q)))
        const sql = topSql(q, p, TOP + names.length, names)
        return `${sql.top}, ${sql.touched}`
      })
      const r = await deps.pool.query(
        `SELECT
          (SELECT coalesce(sum(count), 0)::bigint FROM analytics_daily WHERE ${p.site()} AND event_type = 'generation_completed') AS total_generations,
          (SELECT count(*) FROM analytics_users WHERE ${p.site()})
            + (SELECT count(*) FROM unnest(${p.add(userIds)}::text[]) AS u(id) WHERE NOT EXISTS
                (SELECT 1 FROM analytics_users a WHERE ${p.site('a')} AND a.user_id = u.id)) AS total_users,
          (SELECT coalesce(json_agg(json_build_array(event_type, d, n)), '[]') FROM (
            SELECT event_type, to_char(date, 'YYYY-MM-DD') AS d, sum(count)::bigint AS n FROM analytics_daily
            WHERE ${p.site()} AND date BETWEEN ${p.add(trendFrom)}::date AND ${today$}::date
              AND event_type IN ('generation_completed', 'user_signup', 'page_view', ${p.add(VISIT)})
            GROUP BY 1, 2) x) AS daily,
          (SELECT coalesce(json_agg(json_build_array(b, n)), '[]') FROM (
            SELECT width_bucket(at, ${p.add(hourStarts.map((ms) => new Date(ms).toISOString()))}::timestamptz[]) - 1 AS b,
              sum(count)::bigint AS n FROM analytics_quarters
            WHERE ${p.site()} AND event_type = 'generation_completed' AND at >= ${p.add(new Date(dayBegins).toISOString())}::timestamptz
              AND at < ${p.add(new Date(dayEnds).toISOString())}::timestamptz
            GROUP BY 1) y) AS hourly,
          json_build_array(${panels.join(', ')}) AS panels,
          ${committedSql(p, view.batchIds)} AS committed`,
        p.values,
      )
      const row = r.rows[0] as Record<string, unknown> & {
        daily: Stored['daily']
        hourly: Stored['hourly']
        panels: Pairs[]
        committed: string[]
      }
      return {
        result: {
          totalGenerations: Number(row.total_generations),
          totalUsers: Number(row.total_users),
          daily: row.daily,
          hourly: row.hourly,
          // each panel's top and touched rows, merged: touched ones repeat some of the top
          panels: queries.map((_, i) => [
            ...new Map<string, number>([...row.panels[2 * i]!, ...row.panels[2 * i + 1]!]),
          ]),
        } satisfies Stored,
        committed: row.committed,
      }
    }),
    visitorsOf(deps, daysBetween(trendFrom, today), [weekFrom]),
  ])

  const trend: Record<string, number> = Object.fromEntries(daysBetween(trendFrom, today).map((d) => [d, 0]))
  const todays: Record<string, number> = { generation_completed: 0, user_signup: 0, page_view: 0, [VISIT]: 0 }
  const addDaily = (type: string, day: string, n: number) => {
    if (type === 'generation_completed' && day in trend) trend[day]! += n
    if (day === today && type in todays) todays[type]! += n
  }
  for (const [type, day, n] of stored.daily) addDaily(type, day, Number(n))
  let totalGenerations = stored.totalGenerations
  for (const [field, n] of unflushed.d ?? []) {
    const { day, type } = decodeField('d', field)
    addDaily(type, day, n)
    if (type === 'generation_completed') totalGenerations += n
  }

  // keyed by local hour: a day whose clocks go back adds its repeated hour's two counts together
  const hourly: Record<string, number> = Object.fromEntries(Array.from({ length: 24 }, (_, h) => [String(h), 0]))
  const addHour = (bucket: number, n: number) => {
    const hour = hours[bucket]
    if (hour) hourly[String(hour.hour)]! += n
  }
  for (const [b, n] of stored.hourly) addHour(Number(b), Number(n))
  for (const [field, n] of unflushed.h ?? []) {
    const { quarter, type } = decodeField('h', field)
    const at = quarterStart(quarter)
    if (type !== 'generation_completed' || at < dayBegins || at >= dayEnds) continue
    let b = hours.length - 1
    while (b > 0 && hours[b]!.start > at) b--
    addHour(b, n)
  }

  const lists = Object.fromEntries(
    PANELS.map((panel, i) => {
      const q = queries[i]!
      const items = rankTop(q, stored.panels[i]!, topDeltas(q, unflushed[kindOf(q)]))
      return [panel.name, items.map((t) => ({ [panel.key]: t.name, [panel.count]: t.count }))]
    }),
  ) as Pick<Dashboard, (typeof PANELS)[number]['name']>

  return {
    day: today,
    time_zone: zone,
    total_generations: totalGenerations,
    total_users: stored.totalUsers,
    generations_today: todays.generation_completed!,
    signups_today: todays.user_signup!,
    page_views_today: todays.page_view!,
    visitors_today: visitors.days.get(today) ?? 0,
    visitors_7d: visitors.since.get(weekFrom)!,
    visitors_30d: visitors.union,
    visits_today: todays[VISIT]!,
    hourly_generations: hourly,
    daily_trend: trend,
    ...lists,
  }
}
