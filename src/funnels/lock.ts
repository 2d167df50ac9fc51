/**
 * What a goal's deletion and a funnel's making agree on, apart from both stores: the lock both
 * hold, and the funnels a goal is a step of. A configured goal a funnel names cannot be deleted,
 * and a funnel cannot be saved with a goal deleted while it was checked.
 *
 * @example
 * await client.query(FUNNELS_LOCK)             // in a transaction
 * await funnelsNaming(client, 0, '7')          // ['Sign-up']
 */
import type { Queryable } from '../filters/fold.ts'

export const FUNNELS_LOCK = `SELECT pg_advisory_xact_lock(hashtext('analytics_funnels'))`

/** Names of the site's saved funnels with `goalId` as a step (the caller holds {@link FUNNELS_LOCK}). */
export async function funnelsNaming(client: Queryable, site: number, goalId: string): Promise<string[]> {
  const r = await client.query('SELECT name FROM analytics_funnels WHERE site = $1 AND $2 = ANY(steps) ORDER BY id', [
    site,
    goalId,
  ])
  return (r.rows as { name: string }[]).map((x) => x.name)
}
