/**
 * Per-user counts (`/analytics/me`, `/analytics/users/:id`): of every event type, today, this
 * month and all time, in the days of TIME_ZONE, exact; and the original pattern's generation
 * counts (of `generation_completed`) under their own keys.
 *
 * The unflushed side is read with HMGET of the user's fields for the last 62 days: the write path
 * refuses timestamps older than 30 days, so only a flusher stopped for a month could leave older
 * deltas in Redis.
 */
import { decodeField, encodeField } from '../counters/fields.ts'
import { EVENT_TYPES, type EventType, isEventType } from '../events/types.ts'
import { addDays, daysBetween } from '../time.ts'
import { committedSql, exactRead, type ReadDeps } from './exact.ts'
import { SqlParams } from './sql.ts'

export const USER_LOOKBACK_DAYS = 62

/** The event type the generation counts are of. */
const GENERATIONS = 'generation_completed'

export interface UserGenerations {
  generations_today: number
  generations_this_month: number
  generations_total: number
}

/** One event type's counts for a user. */
export interface UserTypeCounts {
  today: number
  this_month: number
  total: number
}

export interface UserCounts extends UserGenerations {
  /** every event type counted for the user (types never counted are left out: `{}` for none) */
  events: Partial<Record<EventType, UserTypeCounts>>
}

const none = (): UserTypeCounts => ({ today: 0, this_month: 0, total: 0 })

/** Today and this month are those of TIME_ZONE. */
export async function userCounts(deps: ReadDeps, userId: string): Promise<UserCounts> {
  const today = deps.calendar.day(deps.now())
  const monthStart = `${today.slice(0, 8)}01`
  const days = daysBetween(addDays(today, -USER_LOOKBACK_DAYS), today)
  const fields = days.flatMap((day) => EVENT_TYPES.map((type) => encodeField('u', { day, type, value: userId })))
  const { history, unflushed } = await exactRead(deps.redis, deps.keys, { fields: { u: fields } }, async (view) => {
    const p = new SqlParams(deps.keys.site)
    const r = await deps.pool.query(
      `SELECT coalesce((
                SELECT json_agg(json_build_array(event_type, total, month, today)) FROM (
                  SELECT event_type,
                         sum(count)::bigint AS total,
                         coalesce(sum(count) FILTER (WHERE date >= ${p.add(monthStart)}::date), 0)::bigint AS month,
                         coalesce(sum(count) FILTER (WHERE date = ${p.add(today)}::date), 0)::bigint AS today
                  FROM analytics_user_daily WHERE ${p.site()} AND user_id = ${p.add(userId)}
                  GROUP BY event_type) t
              ), '[]'::json) AS counts,
              ${committedSql(p, view.batchIds)} AS committed`,
      p.values,
    )
    const row = r.rows[0] as { counts: [string, number, number, number][]; committed: string[] }
    return { result: row.counts, committed: row.committed }
  })
  const counts = new Map<EventType, UserTypeCounts>()
  const of = (type: EventType) => counts.get(type) ?? counts.set(type, none()).get(type)!
  for (const [type, total, month, day] of history) {
    if (!isEventType(type)) continue
    const c = of(type)
    c.total += Number(total)
    c.this_month += Number(month)
    c.today += Number(day)
  }
  for (const [field, n] of unflushed.u ?? []) {
    const { day, type } = decodeField('u', field)
    if (!isEventType(type)) continue
    const c = of(type)
    c.total += n
    if (day >= monthStart) c.this_month += n
    if (day === today) c.today += n
  }
  const events: UserCounts['events'] = {}
  for (const type of EVENT_TYPES) {
    const c = counts.get(type)
    if (c && c.total > 0) events[type] = c
  }
  const generations = events[GENERATIONS] ?? none()
  return {
    generations_today: generations.today,
    generations_this_month: generations.this_month,
    generations_total: generations.total,
    events,
  }
}
