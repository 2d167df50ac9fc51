/**
 * Top values of a dimension over a range of days of TIME_ZONE (the days the counters count in),
 * exact: Postgres history plus unflushed deltas. Dimensions: `feature` (of `feature_used` events), `page`, every visit dimension
 * (`source`, `utm_*`, `entry_page`, `browser`, `os`, `device`, `country`, `hostname`) and each
 * counted property (`prop:<key>`, of one event type or all).
 *
 * Only a bounded slice of Postgres is read: the top `limit + m` names by stored count, plus the
 * stored counts of the m names that have unflushed deltas. Any name outside both sets has no
 * delta and at least `limit` names ahead of it, so it cannot make the top.
 */
import { decodeField } from '../counters/fields.ts'
import type { PendingKind } from '../counters/keys.ts'
import { type EventType, VISIT, type VisitDimension } from '../events/types.ts'
import { splitMonths } from '../time.ts'
import { type Counts, committedSql, exactRead, type ReadDeps } from './exact.ts'
import { SqlParams } from './sql.ts'

export interface TopItem {
  name: string
  count: number
}

export type TopDimension = 'feature' | 'page' | VisitDimension | `prop:${string}`

export interface TopQuery {
  dimension: TopDimension
  /** for `prop:<key>`: the event type whose property values are ranked (all types when absent) */
  eventType?: EventType
  from: string
  to: string
  limit: number
}

export interface TopResult {
  items: TopItem[]
  /** the range's visits (visit dimensions) or events (the others) */
  total: number
}

/** The feature counters ranked are those of `feature_used` events. */
const FEATURE_EVENT = 'feature_used'

/** Where a dimension's counts live: the pending kind, and the stored rows of a range. */
interface Source {
  kind: Extract<PendingKind, 'f' | 'p' | 'x'>
  /** a field of the kind as (day, name), or undefined when it is not the query's */
  nameOf(field: string): { day: string; name: string } | undefined
  /**
   * A SQL subquery of the range's stored rows as (k, n): one row per name and day (or month),
   * narrowed by `names` when given. Its values are added to `params`.
   */
  rows(params: SqlParams, q: TopQuery, names?: string[]): string
  /** the event type the total counts (undefined: all event types) */
  totalType?: string
}

/** The rows of a daily table: one per name and day of the range. */
function dailyRows(table: string, column: string, where: string, from: string, to: string, namesSql: string): string {
  return `(SELECT ${column} AS k, count AS n FROM ${table}
          WHERE ${where} AND date BETWEEN ${from}::date AND ${to}::date${namesSql})`
}

function sourceOf(q: TopQuery): Source {
  if (q.dimension === 'feature') {
    return {
      kind: 'f',
      nameOf(field) {
        const { day, type, value } = decodeField('f', field)
        return type === FEATURE_EVENT ? { day, name: value } : undefined
      },
      rows: (p, q, names) =>
        dailyRows(
          'analytics_feature_daily',
          'feature_name',
          `${p.site()} AND event_type = ${p.add(FEATURE_EVENT)}`,
          p.add(q.from),
          p.add(q.to),
          names ? ` AND feature_name = ANY(${p.add(names)}::text[])` : '',
        ),
      totalType: FEATURE_EVENT,
    }
  }
  if (q.dimension === 'page') {
    return {
      kind: 'p',
      nameOf(field) {
        const { day, value } = decodeField('p', field)
        return { day, name: value }
      },
      rows: (p, q, names) =>
        dailyRows(
          'analytics_page_daily',
          'path',
          p.site(),
          p.add(q.from),
          p.add(q.to),
          names ? ` AND path = ANY(${p.add(names)}::text[])` : '',
        ),
      totalType: 'page_view',
    }
  }
  const dimension = q.dimension
  // visit dimensions are counted under the type `visit`; properties under their event's type
  const type: string | undefined = dimension.startsWith('prop:') ? q.eventType : VISIT
  return {
    kind: 'x',
    nameOf(field) {
      const x = decodeField('x', field)
      return x.dimension === dimension && (type === undefined || x.type === type)
        ? { day: x.day, name: x.value }
        : undefined
    },
    rows(p, q, names) {
      const where = `${p.site()} AND dimension = ${p.add(dimension)}${type === undefined ? '' : ` AND event_type = ${p.add(type)}`}`
      const narrowed = names ? ` AND value = ANY(${p.add(names)}::text[])` : ''
      // whole months of the range from the monthly totals, the days at either edge from the daily rows
      const { months, edges } = splitMonths(q.from, q.to)
      const parts = edges.map(([from, to]) =>
        dailyRows('analytics_dimension_daily', 'value', where, p.add(from), p.add(to), narrowed),
      )
      if (months) {
        parts.push(`(SELECT value AS k, count AS n FROM analytics_dimension_monthly
          WHERE ${where} AND month BETWEEN ${p.add(months[0])}::date AND ${p.add(months[1])}::date${narrowed})`)
      }
      return parts.length === 1 ? parts[0]! : `(${parts.join(' UNION ALL ')})`
    },
    totalType: type,
  }
}

/** The unflushed deltas of the query's dimension, by name. */
export function topDeltas(q: TopQuery, unflushed: Counts | undefined): Map<string, number> {
  const source = sourceOf(q)
  const out = new Map<string, number>()
  for (const [field, n] of unflushed ?? []) {
    const item = source.nameOf(field)
    if (!item || item.day < q.from || item.day > q.to) continue
    out.set(item.name, (out.get(item.name) ?? 0) + n)
  }
  return out
}

/** Names of the dimension present in any unflushed field (a superset of the deltas' names). */
export function candidateNames(q: TopQuery, fields: Set<string>): string[] {
  const source = sourceOf(q)
  const names = new Set<string>()
  for (const f of fields) {
    const item = source.nameOf(f)
    if (item) names.add(item.name)
  }
  return [...names]
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
  const source = sourceOf(q)
  const top = `(SELECT coalesce(json_agg(json_build_array(k, n)), '[]') FROM (
        SELECT k, sum(n)::bigint AS n FROM ${source.rows(params, q)} r
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${params.add(limit)}) x)`
  const touched = `(SELECT coalesce(json_agg(json_build_array(k, n)), '[]') FROM (
        SELECT k, sum(n)::bigint AS n FROM ${source.rows(params, q, names)} r GROUP BY 1) y)`
  return { top, touched }
}

/**
 * A SQL expression for the stored part of the range's total: the visits, or the events of the
 * dimension's type (of every event type, visits left out, when it has none).
 */
export function totalSql(q: TopQuery, params: SqlParams): string {
  const { totalType } = sourceOf(q)
  const type = totalType === undefined ? `event_type <> ${params.add(VISIT)}` : `event_type = ${params.add(totalType)}`
  return `(SELECT coalesce(sum(count), 0)::bigint FROM analytics_daily
        WHERE ${params.site()} AND ${type} AND date BETWEEN ${params.add(q.from)}::date AND ${params.add(q.to)}::date)`
}

/** The unflushed part of the range's total, from the daily deltas. */
export function totalDelta(q: TopQuery, unflushed: Counts | undefined): number {
  const { totalType } = sourceOf(q)
  let total = 0
  for (const [field, n] of unflushed ?? []) {
    const { day, type } = decodeField('d', field)
    if (day < q.from || day > q.to) continue
    if (totalType === undefined ? type !== VISIT : type === totalType) total += n
  }
  return total
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

export async function top(deps: ReadDeps, q: TopQuery): Promise<TopResult> {
  const { kind } = sourceOf(q)
  const { history: stored, unflushed } = await exactRead(deps.redis, deps.keys, { all: [kind, 'd'] }, async (view) => {
    const names = candidateNames(q, view.fieldNames(kind))
    const p = new SqlParams(deps.keys.site)
    const sql = topSql(q, p, q.limit + names.length, names)
    const r = await deps.pool.query(
      `SELECT ${sql.top} AS top, ${sql.touched} AS touched, ${totalSql(q, p)} AS total,
        ${committedSql(p, view.batchIds)} AS committed`,
      p.values,
    )
    const row = r.rows[0] as {
      top: [string, number][]
      touched: [string, number][]
      total: string
      committed: string[]
    }
    // touched rows repeat some top rows; a map keeps one of each
    const merged = new Map<string, number>([...row.top, ...row.touched])
    return { result: { rows: [...merged], total: Number(row.total) }, committed: row.committed }
  })
  return {
    items: rankTop(q, stored.rows, topDeltas(q, unflushed[kind])),
    total: stored.total + totalDelta(q, unflushed.d),
  }
}
