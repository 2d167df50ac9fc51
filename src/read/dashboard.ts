/**
 * `GET /analytics/dashboard`: the original pattern's metrics with its snake_case keys, made exact
 * (Postgres history + unflushed deltas, see exact.ts), plus page views, visitors and top pages.
 * Cost is fixed whatever the data: one Redis MULTI (+ registry and sequence reads), one PFCOUNT,
 * one Postgres statement.
 *
 * "Today" and the trend are UTC days; `total_users` counts distinct user ids ever counted, since
 * this service owns no users table.
 */
import { decodeField } from '../counters/fields.ts'
import { dayOf } from '../counters/keys.ts'
import { committedSql, exactRead, type ReadDeps } from './exact.ts'
import { SqlParams } from './sql.ts'
import { addDays, daysBetween } from './time.ts'
import { candidateNames, rankTop, type TopItem, type TopQuery, topDeltas, topSql } from './top.ts'

export interface Dashboard {
  total_generations: number
  total_users: number
  generations_today: number
  signups_today: number
  page_views_today: number
  visitors_today: number
  /** UTC hour "0".."23" → generations completed in that hour today */
  hourly_generations: Record<string, number>
  /** UTC day → generations completed, the last 30 days */
  daily_trend: Record<string, number>
  top_features: { feature: string; usage: number }[]
  top_pages: { path: string; views: number }[]
}

const TOP = 10

interface Stored {
  totalGenerations: number
  totalUsers: number
  daily: [string, string, number][]
  hourly: [number, number][]
  topFeatures: [string, number][]
  topPages: [string, number][]
}

export async function dashboard(deps: ReadDeps, now = Date.now()): Promise<Dashboard> {
  const today = dayOf(now)
  const trendFrom = addDays(today, -29)
  const weekFrom = addDays(today, -6)
  const features: TopQuery = { dimension: 'feature', from: weekFrom, to: today, limit: TOP }
  const pages: TopQuery = { dimension: 'page', from: weekFrom, to: today, limit: TOP }

  const [{ history: stored, unflushed }, visitors] = await Promise.all([
    exactRead(deps.redis, deps.keys, { all: ['d', 'h', 'u', 'f', 'p'] }, async (view) => {
      const userIds = [...new Set([...view.fieldNames('u')].map((f) => decodeField('u', f).value))]
      const featureNames = candidateNames(features, view.fieldNames('f'))
      const pagePaths = candidateNames(pages, view.fieldNames('p'))
      const p = new SqlParams()
      const today$ = p.add(today)
      const dayStart = p.add(`${today}T00:00:00Z`)
      const f = topSql(features, p, TOP + featureNames.length, featureNames)
      const pg = topSql(pages, p, TOP + pagePaths.length, pagePaths)
      const r = await deps.pool.query(
        `SELECT
          (SELECT coalesce(sum(count), 0)::bigint FROM analytics_daily WHERE event_type = 'generation_completed') AS total_generations,
          (SELECT count(*) FROM analytics_users)
            + (SELECT count(*) FROM unnest(${p.add(userIds)}::text[]) AS u(id) WHERE NOT EXISTS
                (SELECT 1 FROM analytics_users a WHERE a.user_id = u.id)) AS total_users,
          (SELECT coalesce(json_agg(json_build_array(event_type, d, n)), '[]') FROM (
            SELECT event_type, to_char(date, 'YYYY-MM-DD') AS d, sum(count)::bigint AS n FROM analytics_daily
            WHERE date BETWEEN ${p.add(trendFrom)}::date AND ${today$}::date
              AND event_type IN ('generation_completed', 'user_signup', 'page_view')
            GROUP BY 1, 2) x) AS daily,
          (SELECT coalesce(json_agg(json_build_array(h, n)), '[]') FROM (
            SELECT extract(hour FROM hour AT TIME ZONE 'UTC')::int AS h, sum(count)::bigint AS n FROM analytics_hourly
            WHERE event_type = 'generation_completed' AND hour >= ${dayStart}::timestamptz
              AND hour < ${dayStart}::timestamptz + interval '1 day'
            GROUP BY 1) y) AS hourly,
          ${f.top} AS top_features, ${f.touched} AS touched_features,
          ${pg.top} AS top_pages, ${pg.touched} AS touched_pages,
          ${committedSql(p, view.batchIds)} AS committed`,
        p.values,
      )
      type Pairs = [string, number][]
      const row = r.rows[0] as Record<string, unknown> & {
        daily: Stored['daily']
        hourly: Stored['hourly']
        top_features: Pairs
        touched_features: Pairs
        top_pages: Pairs
        touched_pages: Pairs
      }
      return {
        result: {
          totalGenerations: Number(row.total_generations),
          totalUsers: Number(row.total_users),
          daily: row.daily,
          hourly: row.hourly,
          topFeatures: [...new Map<string, number>([...row.top_features, ...row.touched_features])],
          topPages: [...new Map<string, number>([...row.top_pages, ...row.touched_pages])],
        } satisfies Stored,
        committed: row.committed as string[],
      }
    }),
    deps.redis.pfCount(deps.keys.visitors(today)),
  ])

  const trend: Record<string, number> = Object.fromEntries(daysBetween(trendFrom, today).map((d) => [d, 0]))
  const todays = { generation_completed: 0, user_signup: 0, page_view: 0 }
  const addDaily = (type: string, day: string, n: number) => {
    if (type === 'generation_completed' && day in trend) trend[day]! += n
    if (day === today && type in todays) todays[type as keyof typeof todays] += n
  }
  for (const [type, day, n] of stored.daily) addDaily(type, day, Number(n))
  let totalGenerations = stored.totalGenerations
  for (const [field, n] of unflushed.d ?? []) {
    const { day, type } = decodeField('d', field)
    addDaily(type, day, n)
    if (type === 'generation_completed') totalGenerations += n
  }

  const hourly: Record<string, number> = Object.fromEntries(Array.from({ length: 24 }, (_, h) => [String(h), 0]))
  for (const [h, n] of stored.hourly) hourly[String(h)]! += Number(n)
  for (const [field, n] of unflushed.h ?? []) {
    const { hour, type } = decodeField('h', field)
    if (type === 'generation_completed' && hour.startsWith(today)) hourly[String(Number(hour.slice(11, 13)))]! += n
  }

  const rank = (q: TopQuery, rows: [string, number][], kind: 'f' | 'p'): TopItem[] =>
    rankTop(q, rows, topDeltas(q, unflushed[kind]))

  return {
    total_generations: totalGenerations,
    total_users: stored.totalUsers,
    generations_today: todays.generation_completed,
    signups_today: todays.user_signup,
    page_views_today: todays.page_view,
    visitors_today: visitors,
    hourly_generations: hourly,
    daily_trend: trend,
    top_features: rank(features, stored.topFeatures, 'f').map((t) => ({ feature: t.name, usage: t.count })),
    top_pages: rank(pages, stored.topPages, 'p').map((t) => ({ path: t.name, views: t.count })),
  }
}
