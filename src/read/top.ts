/**
 * Top features or pages over a range of UTC days, exact: Postgres history plus unflushed deltas.
 *
 * Only a bounded slice of Postgres is read: the top `limit + m` names by stored count, plus the
 * stored counts of the m names that have unflushed deltas. Any name outside both sets has no
 * delta and at least `limit` names ahead of it, so it cannot make the top.
 */
import { decodeField } from '../counters/fields.ts'
import { type Counts, committedSql, exactRead, type ReadDeps } from './exact.ts'
import { SqlParams } from './sql.ts'

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

/** A field of the query's kind as (day, name), or undefined when it is not the query's. */
function nameOf(q: TopQuery, field: string): { day: string; name: string } | undefined {
  if (q.dimension === 'feature') {
    const { day, type, value } = decodeField('f', field)
    return type === FEATURE_EVENT ? { day, name: value } : undefined
  }
  const { day, value } = decodeField('p', field)
  return { day, name: value }
}

/** The unflushed deltas of the query's dimension, by name. */
export function topDeltas(q: TopQuery, unflushed: Counts | undefined): Map<string, number> {
  const out = new Map<string, number>()
  for (const [field, n] of unflushed ?? []) {
    const item = nameOf(q, field)
    if (!item || item.day < q.from || item.day > q.to) continue
    out.set(item.name, (out.get(item.name) ?? 0) + n)
  }
  return out
}

/**
 * Two SQL expressions (JSON arrays of [name, count]): the top `limit` stored names, and the stored
 * counts of `names`. Their values are added to `params`.
 */
export function topSql(
  q: TopQuery,
  params: SqlParams,
  limit: number,
  names: string[],
): { top: string; touched: string } {
  const feature = q.dimension === 'feature'
  const table = feature ? 'analytics_feature_daily' : 'analytics_page_daily'
  const column = feature ? 'feature_name' : 'path'
  const where =
    `${feature ? `event_type = ${params.add(FEATURE_EVENT)} AND ` : ''}` +
    `date BETWEEN ${params.add(q.from)}::date AND ${params.add(q.to)}::date`
  const top = `(SELECT coalesce(json_agg(json_build_array(k, n)), '[]') FROM (
        SELECT ${column} AS k, sum(count)::bigint AS n FROM ${table} WHERE ${where}
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${params.add(limit)}) x)`
  const touched = `(SELECT coalesce(json_agg(json_build_array(k, n)), '[]') FROM (
        SELECT ${column} AS k, sum(count)::bigint AS n FROM ${table}
        WHERE ${where} AND ${column} = ANY(${params.add(names)}::text[])
        GROUP BY 1) y)`
  return { top, touched }
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
export function candidateNames(q: TopQuery, fields: Set<string>): string[] {
  const names = new Set<string>()
  for (const f of fields) {
    const item = nameOf(q, f)
    if (item) names.add(item.name)
  }
  return [...names]
}

export async function top(deps: ReadDeps, q: TopQuery): Promise<TopItem[]> {
  const kind = q.dimension === 'feature' ? 'f' : 'p'
  const { history: stored, unflushed } = await exactRead(deps.redis, deps.keys, { all: [kind] }, async (view) => {
    const names = candidateNames(q, view.fieldNames(kind))
    const p = new SqlParams()
    const sql = topSql(q, p, q.limit + names.length, names)
    const r = await deps.pool.query(
      `SELECT ${sql.top} AS top, ${sql.touched} AS touched, ${committedSql(p, view.batchIds)} AS committed`,
      p.values,
    )
    const row = r.rows[0] as { top: [string, number][]; touched: [string, number][]; committed: string[] }
    // touched rows repeat some top rows; a map keeps one of each
    const merged = new Map<string, number>([...row.top, ...row.touched])
    return { result: [...merged], committed: row.committed }
  })
  return rankTop(q, stored, topDeltas(q, unflushed[kind]))
}
