/**
 * Per-user generation counts (`/analytics/me`, `/analytics/users/:id`): today, this month and all
 * time, in the days of TIME_ZONE, exact.
 *
 * The unflushed side is read with HMGET of the user's fields for the last 62 days: the write path
 * refuses timestamps older than 30 days, so only a flusher stopped for a month could leave older
 * deltas in Redis.
 */
import { decodeField, encodeField } from '../counters/fields.ts'
import { addDays, daysBetween } from '../time.ts'
import { committedSql, exactRead, type ReadDeps } from './exact.ts'
import { SqlParams } from './sql.ts'

export const USER_LOOKBACK_DAYS = 62

/** The event type these counts are of. */
const GENERATIONS = 'generation_completed'

export interface UserGenerations {
  generations_today: number
  generations_this_month: number
  generations_total: number
}

/** Today and this month are those of TIME_ZONE. */
export async function userGenerations(deps: ReadDeps, userId: string): Promise<UserGenerations> {
  const today = deps.calendar.day(deps.now())
  const monthStart = `${today.slice(0, 8)}01`
  const days = daysBetween(addDays(today, -USER_LOOKBACK_DAYS), today)
  const fields = days.map((day) => encodeField('u', { day, type: GENERATIONS, value: userId }))
  const { history, unflushed } = await exactRead(deps.redis, deps.keys, { fields: { u: fields } }, async (view) => {
    const p = new SqlParams()
    const r = await deps.pool.query(
      `SELECT coalesce(sum(count), 0)::bigint AS total,
              coalesce(sum(count) FILTER (WHERE date >= ${p.add(monthStart)}::date), 0)::bigint AS month,
              coalesce(sum(count) FILTER (WHERE date = ${p.add(today)}::date), 0)::bigint AS today,
              ${committedSql(p, view.batchIds)} AS committed
       FROM analytics_user_daily WHERE user_id = ${p.add(userId)} AND event_type = ${p.add(GENERATIONS)}`,
      p.values,
    )
    const row = r.rows[0] as { total: string; month: string; today: string; committed: string[] }
    return {
      result: { total: Number(row.total), month: Number(row.month), today: Number(row.today) },
      committed: row.committed,
    }
  })
  const result = {
    generations_today: history.today,
    generations_this_month: history.month,
    generations_total: history.total,
  }
  for (const [field, n] of unflushed.u ?? []) {
    const { day } = decodeField('u', field)
    result.generations_total += n
    if (day >= monthStart) result.generations_this_month += n
    if (day === today) result.generations_today += n
  }
  return result
}
