/**
 * Filtered top values of a dimension, counting what the unfiltered top counts (src/read/top.ts),
 * so that a filter matching everything gives its answer:
 *
 * - a visit dimension: visits (as visits.ts counts them), under the value of the row that began
 *   each; the total is every visit counted, those with no value (no UTM) included;
 * - `page`: page views, by path; `feature`: `feature_used` events, by feature; the total is every
 *   such event, those without one included;
 * - `prop:<key>`: events (of `eventType`, or of every type) by the property's value; the total is
 *   every such event.
 *
 * Sorted by count, then by name in code point order (Postgres sorts `COLLATE "C"`, the same order),
 * and cut at `limit`. As in the unfiltered top, Postgres returns only its top `limit + m` names
 * and its counts of the m names the pending rows hold: a name outside both has at least `limit`
 * names ahead of it that no pending row changes, so it cannot make the top.
 *
 * @example
 * const { items, total } = await readLog(pool, top, { filters, bounds, dimension: 'source', limit: 10 }, pendingRows)
 */
import { EVENT_TYPES, type EventType } from '../events/types.ts'
import type { LogRow } from '../log/row.ts'
import type { TopDimension } from '../read/top.ts'
import { dimensionSource, isVisitDimension, nameOfId, typeCode } from './filter.ts'
import { matches } from './match.ts'
import { filtersSql, foldOf, type LogMetric, type LogQuery, rangeOf, rangeSql, rowBucket } from './query.ts'
import {
  countedVisits,
  countedVisitsSql,
  VISITS_TABLE,
  type VisitsPending,
  visitsPending,
  withClause,
} from './visits.ts'

export interface TopQuery extends LogQuery {
  dimension: TopDimension
  /** `prop:<key>` only: the event type whose values are ranked (every type when absent) */
  eventType?: EventType
  limit: number
}

export interface TopItem {
  name: string
  count: number
}

export interface TopResult {
  items: TopItem[]
  /** the visits (visit dimensions) or the events (the others) counted */
  total: number
}

export interface TopPending {
  /** names the pending rows count under */
  names: string[]
  /** visit dimensions: what visits.ts tells its SQL */
  visits: VisitsPending
}

export interface TopStored {
  top: [string, number][]
  touched: [string, number][]
  total: number
  adopted: string[]
}

/** The event type a dimension other than a visit one counts, if one. */
function typeOf(q: TopQuery): EventType | undefined {
  if (q.dimension === 'page') return 'page_view'
  if (q.dimension === 'feature') return 'feature_used'
  return q.eventType
}

/** Code point order, which is Postgres' `COLLATE "C"` order of UTF-8 (JS `<` compares UTF-16 units). */
export function codePointOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    // a surrogate (a code point past U+FFFF) sorts after every unit from U+E000 up
    if (x >= 0xd800 && y >= 0xd800) {
      x += x < 0xe000 ? 0x2000 : -0x800
      y += y < 0xe000 ? 0x2000 : -0x800
    }
    return x - y
  }
  return a.length - b.length
}

/** The counts of the rows given, by name, and their total: visits or events as the dimension counts. */
function countRows(q: TopQuery, rows: readonly LogRow[], adopted: ReadonlySet<string>) {
  const { value } = dimensionSource(q.dimension)
  const counts = new Map<string, number>()
  let total = 0
  const add = (row: LogRow) => {
    total += 1
    const v = value(row)
    if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1)
  }
  if (isVisitDimension(q.dimension)) {
    for (const row of countedVisits(q, rows, adopted)) add(row)
  } else {
    const type = typeOf(q)
    const keep = matches(q.filters, foldOf(q))
    for (const row of rows)
      if ((type === undefined || row.type === type) && rowBucket(q, row) >= 0 && keep(row)) add(row)
  }
  return { counts, total }
}

const json = (select: string) => `(SELECT coalesce(json_agg(json_build_array(k, n)), '[]') FROM (${select}) t)`

export const top: LogMetric<TopQuery, TopPending, TopStored, TopResult> = {
  pending(q, rows) {
    if (!isVisitDimension(q.dimension)) {
      return { names: [...countRows(q, rows, new Set()).counts.keys()], visits: { matched: [], began: [] } }
    }
    // every visit begun among these rows may be counted (adopted), so all their values are named
    const visits = visitsPending(q, rows)
    const { value } = dimensionSource(q.dimension)
    const names = new Set<string>()
    for (const row of countedVisits(q, rows, new Set(visits.began))) {
      const v = value(row)
      if (v !== null) names.add(v)
    }
    return { names: [...names], visits }
  },
  sql(q, p, pending) {
    const source = dimensionSource(q.dimension)
    const key = source.sql((v) => p.add(v))
    let ctes: string[]
    let from: string
    let adopted = `'[]'::json`
    if (isVisitDimension(q.dimension)) {
      const counted = countedVisitsSql(q, p, pending.visits)
      ctes = counted.ctes
      from = `analytics_visits WHERE ${rangeSql(q, p, VISITS_TABLE.at)} AND ${counted.where(rangeOf(q))}`
      adopted = counted.adopted
    } else {
      const type = typeOf(q)
      ctes = []
      from = `analytics_events WHERE ${rangeSql(q, p)}${type === undefined ? '' : ` AND event_type = ${p.add(typeCode(type))}`} AND ${filtersSql(q, p)}`
    }
    // one pass over the range: every name's count, the rows without one under NULL (for the
    // total); an id's name looked up once per name
    const g = `g AS MATERIALIZED (SELECT ${source.id ? nameOfId('k') : 'k'} AS k, n FROM (
      SELECT ${key} AS k, count(*) AS n FROM ${from} GROUP BY 1) x)`
    return `(${withClause([...ctes, g])}SELECT json_build_object(
      'top', ${json(`SELECT k, n FROM g WHERE k IS NOT NULL ORDER BY n DESC, k COLLATE "C" LIMIT ${p.add(q.limit + pending.names.length)}`)},
      'touched', ${json(`SELECT k, n FROM g WHERE k IN (SELECT unnest(${p.add(pending.names)}::text[]))`)},
      'total', (SELECT coalesce(sum(n), 0) FROM g),
      'adopted', ${adopted}))`
  },
  finish(q, stored, rows) {
    const totals = new Map<string, number>()
    for (const [k, n] of [...stored.top, ...stored.touched]) totals.set(k, Number(n))
    const mine = countRows(q, rows, new Set(stored.adopted))
    for (const [k, n] of mine.counts) totals.set(k, (totals.get(k) ?? 0) + n)
    const items = [...totals]
      .map(([name, count]) => ({ name, count }))
      .sort((a, b) => b.count - a.count || codePointOrder(a.name, b.name))
      .slice(0, q.limit)
    return { items, total: Number(stored.total) + mine.total }
  },
  ofRows: (q, rows) => top.finish(q, { top: [], touched: [], total: 0, adopted: [] }, rows),
}

/** Every event dimension's counts by event type and name, as {@link eventTops} reads them. */
export interface EventTopsStored {
  /** `[set, event type, name | null, n]`: set 0 the path, 1 the feature, 2 + i the i-th property */
  g: [number, string, string | null, number][]
}

/** The event dimensions one pass of {@link eventTops} counts: page, feature and these properties. */
export const eventTopDimensions = (keys: readonly string[]): TopDimension[] => [
  'page',
  'feature',
  ...keys.map((k) => `prop:${k}` as TopDimension),
]

/**
 * The tops of every event dimension in one pass (GROUPING SETS): a dashboard asks for the top
 * pages, features and properties under the same filters, and each by itself is a pass over the
 * range. Every name's count by event type is kept, so {@link topOfEventTops} answers any of those
 * tops, for any event type and limit, exactly, with the pending rows added.
 */
export function eventTops(
  keys: readonly string[],
): LogMetric<LogQuery, null, EventTopsStored, { stored: EventTopsStored; rows: readonly LogRow[] }> {
  return {
    pending: () => null,
    sql(q, p) {
      const props = keys.map((k) => `(props ->> ${p.add(k)})`)
      const sets = ['path', 'feature', ...props]
      const set = `CASE ${sets
        .slice(0, -1)
        .map((s, i) => `WHEN GROUPING(${s}) = 0 THEN ${i}`)
        .join(' ')} ELSE ${sets.length - 1} END`
      // ids grouped, their names looked up once per group
      const names = [nameOfId('path'), nameOfId('feature'), ...props.map((_, i) => `p${i}`)]
      return `(SELECT json_build_object('g', coalesce(json_agg(json_build_array(s,
          (${p.add(EVENT_TYPES)}::text[])[event_type + 1], coalesce(${names.join(', ')}), n)), '[]')) FROM (
        SELECT ${set} AS s, event_type, path, feature${props.map((e, i) => `, ${e} AS p${i}`).join('')}, count(*) AS n
        FROM analytics_events WHERE ${rangeSql(q, p)} AND ${filtersSql(q, p)}
        GROUP BY GROUPING SETS (${sets.map((s) => `(event_type, ${s})`).join(', ')})) t)`
    },
    // the pending rows are kept for the top asked, which counts them (topOfEventTops)
    finish: (_q, stored, rows) => ({ stored, rows }),
    ofRows: (_q, rows) => ({ stored: { g: [] }, rows }),
  }
}

/** One top from {@link eventTops}' counts (`q.dimension` one of {@link eventTopDimensions} of `keys`). */
export function topOfEventTops(
  q: TopQuery,
  keys: readonly string[],
  { stored, rows }: { stored: EventTopsStored; rows: readonly LogRow[] },
): TopResult {
  const set = eventTopDimensions(keys).indexOf(q.dimension)
  if (set < 0) throw new Error(`not an event dimension of one pass: ${q.dimension}`)
  const type = typeOf(q)
  const counts = new Map<string, number>()
  let total = 0
  for (const [s, eventType, name, n] of stored.g) {
    if (s !== set || (type !== undefined && eventType !== type)) continue
    total += Number(n)
    if (name !== null) counts.set(name, (counts.get(name) ?? 0) + Number(n))
  }
  return top.finish(q, { top: [...counts], touched: [], total, adopted: [] }, rows)
}
