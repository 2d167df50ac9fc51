/**
 * Top features or pages over a range of UTC days, exact: Postgres history plus unflushed deltas.
 *
 * Only a bounded slice of Postgres is read: the top `limit + m` names by stored count, plus the
 * stored counts of the m names that have unflushed deltas. Any name outside both sets has no
 * delta and at least `limit` names ahead of it, so it cannot make the top.
 */
import { splitFields } from '../flush/rows.ts'
import { type Counts, committedSql, exactRead, type ReadDeps } from './exact.ts'

export interface TopItem {
  name: string
  count: number
}

export interface TopQuery {
  dimension: 'feature' | 'page'
  from: string
  to: string
  limit: number
}

/** The feature counters ranked are those of `feature_used` events. */
const FEATURE_EVENT = 'feature_used'

/** The unflushed deltas of the query's dimension, by name. */
export function topDeltas(q: TopQuery, unflushed: Counts | undefined): Map<string, number> {
  const out = new Map<string, number>()
  for (const [field, n] of unflushed ?? []) {
    let day: string | undefined
    let name: string | undefined
    if (q.dimension === 'feature') {
      const [d, type, feature] = splitFields(field, 2)
      if (type !== FEATURE_EVENT) continue
      day = d
      name = feature
    } else {
      ;[day, name] = splitFields(field, 1)
    }
    if (day! < q.from || day! > q.to) continue
    out.set(name!, (out.get(name!) ?? 0) + n)
  }
  return out
}

/**
 * Two SQL expressions (JSON arrays of [name, count]): the top `limit` stored names, and the stored
 * counts of `names`. Their parameters start at `$first`.
 */
export function topSql(
  q: TopQuery,
  first: number,
  limit: number,
  names: string[],
): { top: string; touched: string; params: unknown[] } {
  const feature = q.dimension === 'feature'
  const table = feature ? 'analytics_feature_daily' : 'analytics_page_daily'
  const column = feature ? 'feature_name' : 'path'
  const p = (i: number) => `$${first + i}`
  const where = `${feature ? `event_type = ${p(4)} AND ` : ''}date BETWEEN ${p(0)}::date AND ${p(1)}::date`
  const top = `(SELECT coalesce(json_agg(json_build_array(k, n)), '[]') FROM (
        SELECT ${column} AS k, sum(count)::bigint AS n FROM ${table} WHERE ${where}
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${p(2)}) x)`
  const touched = `(SELECT coalesce(json_agg(json_build_array(k, n)), '[]') FROM (
        SELECT ${column} AS k, sum(count)::bigint AS n FROM ${table} WHERE ${where} AND ${column} = ANY(${p(3)}::text[])
        GROUP BY 1) y)`
  const params: unknown[] = [q.from, q.to, limit, names]
  if (feature) params.push(FEATURE_EVENT)
  return { top, touched, params }
}

/** Merges stored top/touched rows with deltas and ranks them. */
export function rankTop(q: TopQuery, stored: [string, number][], deltas: Map<string, number>): TopItem[] {
  const totals = new Map<string, number>()
  for (const [k, n] of stored) totals.set(k, Number(n))
  for (const [k, n] of deltas) totals.set(k, (totals.get(k) ?? 0) + n)
  return [...totals]
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, q.limit)
}

/** Names of the dimension present in any unflushed field (a superset of the deltas' names). */
function candidateNames(q: TopQuery, fields: Set<string>): string[] {
  const names = new Set<string>()
  for (const f of fields) names.add(q.dimension === 'feature' ? splitFields(f, 2)[2]! : splitFields(f, 1)[1]!)
  return [...names]
}

export async function top(deps: ReadDeps, q: TopQuery): Promise<TopItem[]> {
  const kind = q.dimension === 'feature' ? 'f' : 'p'
  const { history: stored, unflushed } = await exactRead(deps.redis, deps.keys, { all: [kind] }, async (view) => {
    const names = candidateNames(q, view.fieldNames(kind))
    const sql = topSql(q, 2, q.limit + names.length, names)
    const r = await deps.pool.query(
      `SELECT ${sql.top} AS top, ${sql.touched} AS touched,
        ${committedSql(1)} AS committed`,
      [view.batchIds, ...sql.params],
    )
    const row = r.rows[0] as { top: [string, number][]; touched: [string, number][]; committed: string[] }
    // touched rows repeat some top rows; a map keeps one of each
    const merged = new Map<string, number>([...row.top, ...row.touched])
    return { result: [...merged], committed: row.committed }
  })
  return rankTop(q, stored, topDeltas(q, unflushed[kind]))
}
