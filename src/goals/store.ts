/**
 * Configured goals in Postgres (`analytics_goals`), with the built-in ones before them. Read on
 * every read that needs them: a handful of rows, and every instance then sees a goal the moment
 * another one makes or deletes it.
 *
 * @example
 * const goal = await createGoal(pool, parseGoalBody(body)) // 409 when the name is taken
 * const all = await listGoals(pool)                        // built-in, then configured by id
 * await findGoal(pool, 'user_signup')                      // a built-in goal, by its type
 */
import type { Pool } from '@neondatabase/serverless'
import { HttpError } from '../errors.ts'
import type { EventType } from '../events/types.ts'
import type { Filter } from '../filters/filter.ts'
import type { Queryable } from '../filters/fold.ts'
import { FilterError } from '../filters/parse.ts'
import { FUNNELS_LOCK, funnelsNaming } from '../funnels/lock.ts'
import { BUILT_IN_GOALS, configuredGoal, type Goal, MAX_GOALS } from './goal.ts'

interface GoalRow {
  id: number
  name: string
  event_type: EventType
  page: string | null
  property_key: string | null
  property_value: string | null
  value_property: string | null
  currency: string | null
}

const COLUMNS = 'id, name, event_type, page, property_key, property_value, value_property, currency'

const goalOf = (r: GoalRow): Goal =>
  configuredGoal(String(r.id), {
    name: r.name,
    eventType: r.event_type,
    page: r.page,
    property: r.property_key === null ? null : { key: r.property_key, value: r.property_value ?? '' },
    value: r.value_property === null ? null : { property: r.value_property, currency: r.currency },
  })

/** A configured goal's id as its column holds it (a positive int4), or undefined for text that is none. */
function configuredId(id: string): number | undefined {
  return /^[1-9][0-9]{0,9}$/.test(id) && Number(id) <= 2 ** 31 - 1 ? Number(id) : undefined
}

/** The site's configured goals, oldest first. */
export async function configuredGoals(pool: Pool, site: number): Promise<Goal[]> {
  const r = await pool.query(`SELECT ${COLUMNS} FROM analytics_goals WHERE site = $1 ORDER BY id`, [site])
  return (r.rows as GoalRow[]).map(goalOf)
}

/** Every goal of the site: one per event type, then the configured ones. */
export async function listGoals(pool: Pool, site: number): Promise<Goal[]> {
  return [...BUILT_IN_GOALS, ...(await configuredGoals(pool, site))]
}

/**
 * The goal of an id (an event type or the number of one of the site's configured goals), or 422
 * naming `field`.
 */
export async function findGoal(pool: Queryable, site: number, id: string, field = 'goal'): Promise<Goal> {
  const builtIn = BUILT_IN_GOALS.find((g) => g.id === id)
  if (builtIn) return builtIn
  const n = configuredId(id)
  if (n !== undefined) {
    const r = await pool.query(`SELECT ${COLUMNS} FROM analytics_goals WHERE site = $2 AND id = $1`, [n, site])
    const row = r.rows[0] as GoalRow | undefined
    if (row) return goalOf(row)
  }
  throw new HttpError(
    422,
    `${field} ${JSON.stringify(id.length > 60 ? `${id.slice(0, 60)}…` : id)} is no goal: give an event type or the id of a configured goal (GET /analytics/goals)`,
    { parameter: field },
  )
}

/** Adds a goal to the site; 409 when its name is taken there, 422 past {@link MAX_GOALS}. */
export async function createGoal(pool: Pool, site: number, g: Omit<Goal, 'id' | 'builtIn'>): Promise<Goal> {
  // the count and the insert under one lock: two creations racing at the limit cannot both pass it
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('analytics_goals'))`)
    const n = Number(
      (
        (await client.query('SELECT count(*) AS n FROM analytics_goals WHERE site = $1', [site])).rows[0] as {
          n: string
        }
      ).n,
    )
    if (n >= MAX_GOALS) {
      throw new HttpError(422, `there are ${n} goals already; at most ${MAX_GOALS}: delete one first`)
    }
    const r = await client.query(
      `INSERT INTO analytics_goals (site, name, event_type, page, property_key, property_value, value_property, currency)
       VALUES ($8, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (site, name) DO NOTHING RETURNING ${COLUMNS}`,
      [
        g.name,
        g.eventType,
        g.page,
        g.property?.key ?? null,
        g.property?.value ?? null,
        g.value?.property ?? null,
        g.value?.currency ?? null,
        site,
      ],
    )
    const row = r.rows[0] as GoalRow | undefined
    if (!row) throw new HttpError(409, `a goal is named ${JSON.stringify(g.name)} already`, { field: 'name' })
    await client.query('COMMIT')
    return goalOf(row)
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

/**
 * Deletes a configured goal; 404 when there is none of that id, 422 for a built-in one, 409 while
 * a saved funnel names it (under the lock funnels are made under: neither slips past the other).
 */
export async function deleteGoal(pool: Pool, site: number, id: string): Promise<void> {
  if (BUILT_IN_GOALS.some((g) => g.id === id)) {
    throw new HttpError(422, `${id} is an event type: a built-in goal, which cannot be deleted`, { parameter: 'id' })
  }
  const n = configuredId(id)
  if (n === undefined) throw new HttpError(404, `no goal has the id ${JSON.stringify(id.slice(0, 60))}`)
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(FUNNELS_LOCK)
    const funnels = await funnelsNaming(client, site, String(n))
    if (funnels.length > 0) {
      throw new HttpError(
        409,
        `goal ${n} is a step of the funnel${funnels.length > 1 ? 's' : ''} ${funnels.map((f) => JSON.stringify(f)).join(', ')}: delete ${funnels.length > 1 ? 'them' : 'it'} first`,
      )
    }
    const r = await client.query('DELETE FROM analytics_goals WHERE site = $2 AND id = $1', [n, site])
    if (!r.rowCount) throw new HttpError(404, `no goal has the id ${JSON.stringify(id.slice(0, 60))}`)
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

/**
 * The filters with each goal filter's goals found (`Filter.goals`); a value that names no goal is
 * a 422 of `filters`, as any bad filter is.
 */
export async function withGoals(pool: Pool, site: number, filters: Filter[]): Promise<Filter[]> {
  if (!filters.some((f) => f.dimension === 'goal')) return filters
  return Promise.all(
    filters.map(async (f, i) => {
      if (f.dimension !== 'goal') return f
      const goals = await Promise.all(
        f.values.map((id) =>
          findGoal(pool, site, id, `filters[${i}]`).catch((err) => {
            throw err instanceof HttpError && err.status === 422
              ? new FilterError(
                  `filters[${i}] names the goal ${JSON.stringify(id.slice(0, 60))}, which is none: give an event type or the id of a configured goal`,
                )
              : err
          }),
        ),
      )
      return { ...f, goals }
    }),
  )
}
