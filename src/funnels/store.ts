/**
 * Saved funnels in Postgres (`analytics_funnels`, sql/008_funnels.sql). A funnel keeps its steps
 * as goal ids; a configured goal a funnel names cannot be deleted (src/goals/store.ts asks
 * funnelsNaming (lock.ts) under the same lock a funnel is made under, so neither can slip past the
 * other).
 *
 * @example
 * const f = await createFunnel(pool, parseFunnelBody(body)) // 409 when the name is taken
 * await listFunnels(pool)                                   // oldest first
 */
import type { Pool } from '@neondatabase/serverless'
import { HttpError } from '../errors.ts'
import type { Queryable } from '../filters/fold.ts'
import { MINUTE_MS } from '../filters/funnel.ts'
import type { Goal } from '../goals/goal.ts'
import { findGoal } from '../goals/store.ts'
import { type Funnel, MAX_FUNNELS } from './funnel.ts'
import { FUNNELS_LOCK } from './lock.ts'

interface FunnelRow {
  id: number
  name: string
  steps: string[]
  window_minutes: number
}

const COLUMNS = 'id, name, steps, window_minutes'
const funnelOf = (r: FunnelRow): Funnel => ({
  id: String(r.id),
  name: r.name,
  steps: r.steps,
  windowMs: r.window_minutes * MINUTE_MS,
})

const storedId = (id: string): number | undefined =>
  /^[1-9][0-9]{0,9}$/.test(id) && Number(id) <= 2 ** 31 - 1 ? Number(id) : undefined

export async function listFunnels(pool: Pool, site: number): Promise<Funnel[]> {
  const r = await pool.query(`SELECT ${COLUMNS} FROM analytics_funnels WHERE site = $1 ORDER BY id`, [site])
  return (r.rows as FunnelRow[]).map(funnelOf)
}

/** The saved funnel of an id, or 422 naming `field` (a read's parameter) when there is none. */
export async function findFunnel(pool: Pool, site: number, id: string, field = 'funnel'): Promise<Funnel> {
  const n = storedId(id)
  const r =
    n === undefined
      ? { rows: [] }
      : await pool.query(`SELECT ${COLUMNS} FROM analytics_funnels WHERE site = $2 AND id = $1`, [n, site])
  const row = r.rows[0] as FunnelRow | undefined
  if (!row) {
    throw new HttpError(
      422,
      `${field} ${JSON.stringify(id.slice(0, 60))} is no saved funnel (GET /analytics/funnels)`,
      {
        parameter: field,
      },
    )
  }
  return funnelOf(row)
}

/** The goals of steps, in order; 422 naming `steps[i]` for an id that is no goal. */
export async function stepGoals(
  pool: Queryable,
  site: number,
  steps: readonly string[],
  field = 'steps',
): Promise<Goal[]> {
  return Promise.all(steps.map((id, i) => findGoal(pool, site, id, `${field}[${i}]`)))
}

/** Saves a funnel whose steps are all goals; 409 when its name is taken, 422 past {@link MAX_FUNNELS}. */
export async function createFunnel(
  pool: Pool,
  site: number,
  f: Omit<Funnel, 'id'>,
): Promise<{ funnel: Funnel; goals: Goal[] }> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(FUNNELS_LOCK)
    // looked up under the lock: a goal deleted meanwhile is refused here, not left dangling
    const goals = await stepGoals(client, site, f.steps)
    const n = Number(
      (
        (await client.query('SELECT count(*) AS n FROM analytics_funnels WHERE site = $1', [site])).rows[0] as {
          n: string
        }
      ).n,
    )
    if (n >= MAX_FUNNELS)
      throw new HttpError(422, `there are ${n} funnels already; at most ${MAX_FUNNELS}: delete one first`)
    const r = await client.query(
      `INSERT INTO analytics_funnels (site, name, steps, window_minutes) VALUES ($4, $1, $2, $3)
       ON CONFLICT (site, name) DO NOTHING RETURNING ${COLUMNS}`,
      [f.name, f.steps, Math.round(f.windowMs / MINUTE_MS), site],
    )
    const row = r.rows[0] as FunnelRow | undefined
    if (!row) throw new HttpError(409, `a funnel is named ${JSON.stringify(f.name)} already`, { field: 'name' })
    await client.query('COMMIT')
    return { funnel: funnelOf(row), goals }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

/** Deletes a saved funnel; 404 when there is none of that id. */
export async function deleteFunnel(pool: Pool, site: number, id: string): Promise<void> {
  const n = storedId(id)
  const r =
    n === undefined
      ? { rowCount: 0 }
      : await pool.query('DELETE FROM analytics_funnels WHERE site = $2 AND id = $1', [n, site])
  if (!r.rowCount) throw new HttpError(404, `no funnel has the id ${JSON.stringify(id.slice(0, 60))}`)
}
