/**
 * What a visit was worth: for the visits {@link visits} counts (in the bucket of the row that
 * began each, under the same filters), how many bounced, how long they lasted and how many pages
 * they viewed. Each visit is measured over all its rows in the range, whichever rows the filters
 * matched: a filter selects visits, and a visit is described whole.
 *
 * - **bounce**: the visit has one row in the range, and it is a page view (a single page view
 *   and no other event);
 * - **duration**: its last row's time minus its first's (a bounce lasts 0);
 * - **views**: its page views.
 *
 * Every figure adds up across buckets, so the range's is their sum, and the rates (bounce rate,
 * average duration, views per visit) are divided out by the reader.
 *
 * With visit filters alone (or none), the dashboard's case, Postgres's part is read from the
 * visits' rows of the range's days, which hold what each (visit, UTC day)'s events add up to
 * (sql/010_visit_aggregates.sql), rather than from every event of the range grouped by visit;
 * only the visits active at a range's start or end instant that is not a UTC midnight (another
 * zone, `until`) read those days' events ({@link aggregatesSql}). Event filters read the events.
 *
 * A visit's rows may be partly in Postgres and partly pending. The SQL sums the visits no pending
 * row touches, and returns the ones that some pending row does (`touched`) one by one, as far as
 * Postgres holds them; `finish` adds the pending rows to those and decides them.
 *
 * @example
 * const perBucket = await readLog(pool, visitQuality, { filters, bounds }, pendingRows)
 * const bounceRate = perBucket[0].bounces / perBucket[0].visits
 */

import type { VisitDimension } from '../events/types.ts'
import type { LogRow } from '../log/row.ts'
import type { SqlParams } from '../read/sql.ts'
import { bucketOf } from './buckets.ts'
import { dimensionSource, nameOfId, splitFilters, typeCode } from './filter.ts'
import { matches } from './match.ts'
import { foldOf, type LogMetric, type LogQuery, rangeOf, rangeSql, rowBucket } from './query.ts'
import {
  eventWhereSql,
  rangeEdges,
  visitDaysSql,
  visitRowsInRangeSql,
  visitValuesSql,
  visitWhereSql,
  windowsSql,
} from './where.ts'

/** One bucket's visits and what they add up to. */
export interface Quality {
  visits: number
  /** visits of a single page view and no other event */
  bounces: number
  /** the visits' durations added up, ms */
  durationMs: number
  /** their page views */
  views: number
}

/** One visit, over its rows in the range on one side (Postgres or pending), or both. */
interface VisitPart {
  /** when the row that began it happened, if that row is here */
  beganAt: number | null
  /** the row that began it is here and passes the visit filters */
  ok: boolean
  /** its value of the dimension grouped by (none: by bucket), from the row that began it */
  value: string | null
  /** some row here passes every filter */
  matched: boolean
  rows: number
  views: number
  first: number
  last: number
}

/** `[visit id, began at ms | null, ok, matched, rows, views, first ms, last ms, value]` */
type StoredPart = [string, number | null, boolean, boolean, number, number, number, number, string | null]

export interface QualityStored {
  /** `[group, visits, bounces, duration ms, views]` of the visits no pending row touches */
  b: [number | string | null, number, number, number, number][]
  /** the touched visits as Postgres holds them */
  t: StoredPart[]
}

const none = (): Quality => ({ visits: 0, bounces: 0, durationMs: 0, views: 0 })

/** What visits are grouped by: the bucket they began in, or their value of a visit dimension. */
interface Grouping<K> {
  /** the column of the value in `analytics_visits` (an id; none: by bucket) */
  column?: string
  /** the group of a visit in SQL, over the CTE of visits (began_at, value_id) */
  sql(q: LogQuery, p: SqlParams): string
  /** the group of a counted visit, or undefined for none */
  of(q: LogQuery, beganAt: number, value: string | null): K | undefined
}

/** Each visit's part among `rows` (those in the range with a visit). */
function partsOf(
  q: LogQuery,
  rows: readonly LogRow[],
  visitValue?: (row: LogRow) => string | null,
): Map<string, VisitPart> {
  const { visit } = splitFilters(q.filters)
  const visitTest = matches(visit, foldOf(q))
  const allTest = matches(q.filters, foldOf(q))
  const parts = new Map<string, VisitPart>()
  for (const row of rows) {
    if (row.visitId === null || rowBucket(q, row) < 0) continue
    let part = parts.get(row.visitId)
    if (!part) {
      part = { beganAt: null, ok: false, value: null, matched: false, rows: 0, views: 0, first: row.at, last: row.at }
      parts.set(row.visitId, part)
    }
    if (row.began) {
      part.beganAt = row.at
      part.ok = visitTest(row)
      part.value = visitValue ? visitValue(row) : null
    }
    if (allTest(row)) part.matched = true
    part.rows += 1
    if (row.type === 'page_view') part.views += 1
    part.first = Math.min(part.first, row.at)
    part.last = Math.max(part.last, row.at)
  }
  return parts
}

function addTo<K>(out: Map<K, Quality>, key: K, visits: number, bounces: number, durationMs: number, views: number) {
  let q = out.get(key)
  if (!q) {
    q = none()
    out.set(key, q)
  }
  q.visits += visits
  q.bounces += bounces
  q.durationMs += durationMs
  q.views += views
}

/**
 * The CTE `v` of the range's visits (visit_id, began_at, value_id, ok, matched, n, views, first,
 * last), from one pass over the range's events, grouped by visit: each visit's figures, whether a
 * row of it matches every filter; its beginning, values and visit filters from its row in
 * analytics_visits, when it began in the range. For reads with event filters.
 */
function eventsSql(q: LogQuery, p: SqlParams, column: string | undefined): string {
  const { visit } = splitFilters(q.filters)
  const fold = foldOf(q)
  // a row matches when it passes the event filters and, by its visit's values, the visit
  // filters: the visit's values are tested once, as `ok`, for the visits counted
  const events =
    [eventWhereSql(q.filters, p, fold), visitValuesSql(visit)].filter((c) => c !== 'true').join(' AND ') || 'true'
  return `v AS MATERIALIZED (SELECT e.visit_id, b.began_at, ${column ? 'b.value_id' : 'NULL::integer'} AS value_id,
      coalesce(b.ok, false) AS ok, e.matched, e.n, e.views, e.first, e.last
    FROM (SELECT visit_id, ${events === 'true' ? 'true' : `coalesce(bool_or(${events}), false)`} AS matched,
        count(*) AS n, count(*) FILTER (WHERE event_type = ${p.add(typeCode('page_view'))}) AS views,
        min(at) AS first, max(at) AS last
      FROM analytics_events WHERE ${rangeSql(q, p)} AND visit_id IS NOT NULL GROUP BY visit_id) e
    LEFT JOIN (SELECT visit_id, began_at, coalesce(${visitWhereSql(visit, p, fold)}, false) AS ok
        ${column ? `, ${column} AS value_id` : ''}
      FROM analytics_visits WHERE ${rangeSql(q, p, 'began_at')} AND ${visitDaysSql(rangeOf(q), p)}) b
    ON b.visit_id = e.visit_id)`
}

/** A timestamptz as epoch ms. */
const msSql = (t: string) => `(extract(epoch FROM ${t}) * 1000)::bigint`

/**
 * The SQL of a read with visit filters alone (or none), from the visits' rows of the range's UTC
 * days (sql/010_visit_aggregates.sql) rather than the events: per visit, its rows' events and
 * page views added up, the least first time and the greatest last. A row that lies wholly in the
 * range is taken as it is, one wholly outside (the range's first or last day, in another zone or
 * cut by `until`) adds nothing. A row across the range's start or end instant (its first event
 * before it and its last at or after it) is measured from its events in the range instead: only
 * the visits active at those two instants, and only those days' events in the range are read for
 * them. A range that starts and ends on UTC midnights has no such row.
 *
 * Nearly every visit has one row, the one it began on, wholly in the range: those are summed as
 * they are read, in one pass with no grouping by visit. The others (`o`: a visit with a row
 * that did not begin it in the range, across a cut instant, or touched by pending rows) are few,
 * and are grouped by visit (`d`, `v`) as the events' pass groups them.
 */
function aggregatesSql<K>(q: LogQuery, p: SqlParams, grouping: Grouping<K>, ids: string): string {
  const { visit } = splitFilters(q.filters)
  const fold = foldOf(q)
  const column = grouping.column
  const [fromMs, toMs] = rangeOf(q)
  const iso = (ms: number) => `${p.add(new Date(ms).toISOString())}::timestamptz`
  const from = iso(fromMs)
  const to = iso(toMs)
  // the rows across the range's start or end instant, and the events read for them
  const { windows, across: cut } = rangeEdges(rangeOf(q), p)
  const began = `began_at >= ${from} AND began_at < ${to}`
  // the range's rows: of its days, with an event in it
  const rows = `analytics_visits WHERE ${visitRowsInRangeSql(rangeOf(q), p)}`
  // a row is whole when it began its visit in the range and has all its events in it (NULL,
  // not false, for a row that did not begin its visit)
  const whole = `${began} AND first_at >= ${from} AND last_at < ${to}`
  // (the rows that are not, written as what Postgres estimates well: few)
  const notWhole = `(began_at IS NULL OR began_at < ${from} OR began_at >= ${to} OR first_at < ${from} OR last_at >= ${to})`
  const o = `o AS MATERIALIZED (SELECT visit_id FROM ${rows} AND ${notWhole}
      UNION SELECT unnest(${ids}))`
  const d = `d AS MATERIALIZED (SELECT visit_id, day, events, views, first_at, last_at,
      CASE WHEN ${began} THEN began_at END AS began_at,
      CASE WHEN ${began} THEN coalesce(${visitWhereSql(visit, p, fold)}, false) END AS ok,
      ${column ? `CASE WHEN ${began} THEN ${column} END` : 'NULL::integer'} AS value_id,
      ${cut === '' ? 'false' : `(${cut})`} AS cut
    FROM ${rows} AND visit_id IN (SELECT visit_id FROM o))`
  const c =
    windows.length === 0
      ? ''
      : `, c AS (SELECT visit_id, (at AT TIME ZONE 'UTC')::date AS day, count(*) AS n,
        count(*) FILTER (WHERE event_type = ${p.add(typeCode('page_view'))}) AS views,
        min(at) AS first, max(at) AS last
      FROM analytics_events
      WHERE ${windowsSql(windows, p)}
        AND visit_id IN (SELECT visit_id FROM d WHERE cut)
      GROUP BY 1, 2)`
  const of = (mine: string, theirs: string) => (c === '' ? mine : `CASE WHEN d.cut THEN ${theirs} ELSE ${mine} END`)
  const v = `v AS MATERIALIZED (SELECT visit_id, began_at, value_id, ok, n, views, first, last
    FROM (SELECT d.visit_id, max(d.began_at) AS began_at, max(d.value_id) AS value_id, coalesce(bool_or(d.ok), false) AS ok,
        sum(${of('d.events', 'c.n')})::integer AS n, sum(${of('d.views', 'c.views')})::integer AS views,
        min(${of('d.first_at', 'c.first')}) AS first, max(${of('d.last_at', 'c.last')}) AS last
      FROM d${c === '' ? '' : ' LEFT JOIN c ON d.cut AND c.visit_id = d.visit_id AND c.day = d.day'}
      GROUP BY d.visit_id) x
    WHERE n > 0)`
  // the whole rows of the visits not in o, as they are (an anti-join, o hashed once); then the
  // visits of o that count. Each grouped on its own, a group of the two is added up by finish
  const group = (from: string) => `SELECT ${grouping.sql(q, p)} AS g, count(*) AS visits,
      count(*) FILTER (WHERE n = 1 AND views = 1) AS bounces, ${msSql('sum(last - first)')} AS duration, sum(views) AS views
    FROM ${from} GROUP BY 1`
  const wholeRows =
    group(`(SELECT began_at, ${column ? `${column} AS value_id` : 'NULL::integer AS value_id'}, events AS n, views,
        first_at AS first, last_at AS last
      FROM ${rows} AND ${whole} AND coalesce(${visitWhereSql(visit, p, fold)}, false)
        AND NOT EXISTS (SELECT 1 FROM o WHERE o.visit_id = analytics_visits.visit_id)) s`)
  const others = group(`v WHERE ok AND began_at IS NOT NULL AND visit_id NOT IN (SELECT unnest(${ids}))`)
  const counted = `${wholeRows} UNION ALL ${others}`
  const name = (id: string) => (column ? nameOfId(id) : 'NULL::text')
  return `(WITH ${o}, ${d}${c}, ${v} SELECT json_build_object(
    'b', (SELECT coalesce(json_agg(json_build_array(${column ? nameOfId('g') : 'g'}, visits, bounces, duration, views)), '[]') FROM (
      ${counted}) x),
    't', (SELECT coalesce(json_agg(json_build_array(visit_id::text,
        CASE WHEN began_at IS NULL THEN NULL ELSE ${msSql('began_at')} END, ok, true, n, views, ${msSql('first')}, ${msSql('last')}, ${name('value_id')})), '[]')
      FROM v WHERE visit_id IN (SELECT unnest(${ids})))))`
}

/** The metric of visit quality grouped as `grouping` says. */
function qualityMetric<K>(
  grouping: Grouping<K>,
  visitValue?: (row: LogRow) => string | null,
): LogMetric<LogQuery, string[], QualityStored, Map<K, Quality>> {
  const add = (q: LogQuery, out: Map<K, Quality>, v: VisitPart, eventFilters: boolean) => {
    if (v.beganAt === null || !v.ok || (eventFilters && !v.matched)) return
    const key = grouping.of(q, v.beganAt, v.value)
    if (key === undefined) return
    addTo(out, key, 1, v.rows === 1 && v.views === 1 ? 1 : 0, v.last - v.first, v.views)
  }
  return {
    // the visits the pending rows touch (the SQL returns those one by one)
    pending: (q, rows) => [...partsOf(q, rows).keys()],
    sql(q, p, touched) {
      const { event } = splitFilters(q.filters)
      const ids = `${p.add(touched)}::bigint[]`
      // visit filters alone (or none): from the visits' rows of the range's days, their
      // aggregates; event filters: one pass over the range's events
      if (event.length === 0) return aggregatesSql(q, p, grouping, ids)
      const v = eventsSql(q, p, grouping.column)
      const ms = (t: string) => `(extract(epoch FROM ${t}) * 1000)::bigint`
      // a value's name looked up once per group
      const name = (id: string) => (grouping.column ? nameOfId(id) : 'NULL::text')
      return `(WITH ${v} SELECT json_build_object(
        'b', (SELECT coalesce(json_agg(json_build_array(${grouping.column ? nameOfId('g') : 'g'}, visits, bounces, duration, views)), '[]') FROM (
          SELECT ${grouping.sql(q, p)} AS g, count(*) AS visits, count(*) FILTER (WHERE n = 1 AND views = 1) AS bounces,
            sum(${ms('last - first')}) AS duration, sum(views) AS views
          FROM v WHERE ok AND matched AND began_at IS NOT NULL AND visit_id <> ALL(${ids}) GROUP BY 1) x),
        't', (SELECT coalesce(json_agg(json_build_array(visit_id::text,
            CASE WHEN began_at IS NULL THEN NULL ELSE ${ms('began_at')} END, ok, matched, n, views, ${ms('first')}, ${ms('last')}, ${name('value_id')})), '[]')
          FROM v WHERE visit_id = ANY(${ids}))))`
    },
    finish(q, stored, rows) {
      const out = new Map<K, Quality>()
      for (const [g, visits, bounces, duration, views] of stored.b) {
        if (g === null) continue // the SQL groups as K: a bucket, or a value (none: left out)
        addTo(out, g as K, Number(visits), Number(bounces), Number(duration), Number(views))
      }
      const eventFilters = splitFilters(q.filters).event.length > 0
      const parts = partsOf(q, rows, visitValue)
      for (const [id, beganAt, ok, matched, n, views, first, last, value] of stored.t) {
        const mine = parts.get(id)
        const part: VisitPart = {
          beganAt: beganAt === null ? null : Number(beganAt),
          ok,
          value,
          matched,
          rows: Number(n),
          views: Number(views),
          first: Number(first),
          last: Number(last),
        }
        if (mine) {
          if (mine.beganAt !== null) {
            part.beganAt = mine.beganAt
            part.ok = mine.ok
            part.value = mine.value
          }
          part.matched ||= mine.matched
          part.rows += mine.rows
          part.views += mine.views
          part.first = Math.min(part.first, mine.first)
          part.last = Math.max(part.last, mine.last)
          parts.delete(id)
        }
        add(q, out, part, eventFilters)
      }
      // visits Postgres holds nothing of
      for (const part of parts.values()) add(q, out, part, eventFilters)
      return out
    },
    ofRows(q, rows) {
      // the obvious way: every visit's rows in the range, then each counted visit's figures
      const { visit } = splitFilters(q.filters)
      const visitTest = matches(visit, foldOf(q))
      const allTest = matches(q.filters, foldOf(q))
      const eventFilters = splitFilters(q.filters).event.length > 0
      const byVisit = new Map<string, LogRow[]>()
      for (const row of rows) {
        if (row.visitId === null || rowBucket(q, row) < 0) continue
        const list = byVisit.get(row.visitId)
        if (list) list.push(row)
        else byVisit.set(row.visitId, [row])
      }
      const out = new Map<K, Quality>()
      for (const visitRows of byVisit.values()) {
        const first = visitRows.find((row) => row.began)
        if (!first || !visitTest(first)) continue
        if (eventFilters && !visitRows.some(allTest)) continue
        const key = grouping.of(q, first.at, visitValue ? visitValue(first) : null)
        if (key === undefined) continue
        const times = visitRows.map((row) => row.at)
        const views = visitRows.filter((row) => row.type === 'page_view').length
        const bounce = visitRows.length === 1 && views === 1 ? 1 : 0
        addTo(out, key, 1, bounce, Math.max(...times) - Math.min(...times), views)
      }
      return out
    },
  }
}

const byBucket = qualityMetric<number>({
  sql: (q, p) =>
    q.bounds.length <= 2
      ? '0'
      : `(width_bucket(began_at, ${p.add(q.bounds.map((ms) => new Date(ms).toISOString()))}::timestamptz[]) - 1)`,
  of: (q, beganAt) => {
    const b = bucketOf(q.bounds, beganAt)
    return b < 0 ? undefined : b
  },
})

const asBuckets = (q: LogQuery, byKey: Map<number, Quality>): Quality[] =>
  Array.from({ length: Math.max(0, q.bounds.length - 1) }, (_, i) => byKey.get(i) ?? none())

/** Per bucket (of the row that began each visit). */
export const visitQuality: LogMetric<LogQuery, string[], QualityStored, Quality[]> = {
  pending: byBucket.pending,
  sql: byBucket.sql,
  finish: (q, stored, rows) => asBuckets(q, byBucket.finish(q, stored, rows)),
  ofRows: (q, rows) => asBuckets(q, byBucket.ofRows(q, rows)),
}

/**
 * Per value of a visit dimension (the visit's, from the row that began it; visits without one are
 * left out): the quality of each row of a top of that dimension.
 */
export function visitQualityBy(
  dimension: VisitDimension,
): LogMetric<LogQuery, string[], QualityStored, Map<string, Quality>> {
  const source = dimensionSource(dimension)
  return qualityMetric<string>(
    {
      column: source.sql(() => {
        throw new Error('a visit dimension has no parameters')
      }),
      sql: () => 'value_id',
      of: (_q, _beganAt, value) => value ?? undefined,
    },
    source.value,
  )
}
