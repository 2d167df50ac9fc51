/**
 * Filters as a SQL condition over a row of `analytics_events`, with every value a bound
 * parameter. The twin of match.ts: each operator below says what its JavaScript does.
 *
 * A string the log keeps as an id (a path, a feature, a visit's values) is tested on the
 * dictionary's values, once per distinct value rather than once per row (`contains` folds case on
 * the dictionary), and the row's id on the ids found. Visit filters are a condition on the row's
 * visit in `analytics_visits`, read from the days of the range only: a visit has a row for every
 * UTC day it has events on (sql/009_log_layout.sql), so the visits of the range's rows are all
 * there, however long ago they began; visit ids are random, and no time window before the range
 * would hold them all.
 *
 * NULL is "no value": `is` and `contains` never match it, their negations always do, so the
 * negations are written `x IS NULL OR NOT (…)` rather than left to SQL's three-valued logic, which
 * would drop the row. A row of no visit, or whose visit's values were never stored, has none.
 *
 * @example
 * const p = new SqlParams(0)
 * whereSql([{ op: 'contains', dimension: 'page', values: ['Pricing'] }], p, fold, [from, to])
 * // (path IN (SELECT id FROM analytics_values WHERE lower((value) COLLATE "default") LIKE ANY($1::text[])))
 */
import { goalSql } from '../goals/goal.ts'
import type { SqlParams } from '../read/sql.ts'
import { dimensionSource, type Filter, splitFilters } from './filter.ts'
import { type CaseFold, ICU_FOLD } from './fold.ts'

/** `s` matched literally by LIKE: its escape character (a backslash) and wildcards escaped. */
const likeEscaped = (s: string): string => s.replace(/[\\%_]/g, '\\$&')

/**
 * `s` matched literally by a regular expression (ARE), but for each `σ`, which matches `ς` too.
 * Only ASCII punctuation is escaped: an escaped letter or digit means something else in an ARE.
 */
const sigmaPattern = (s: string): string => s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&').replaceAll('σ', '[σς]')

/**
 * The test of `contains`. JS: fold(value).includes(fold(v)). The needles are folded here, once,
 * and the row's value is lowered once per row whatever the number of values (LIKE ANY, not an OR
 * of strpos). A needle with a sigma is a regular expression instead, so that its `σ` matches a
 * final `ς` in the row's value: the JS fold writes both as `σ`.
 */
function containsSql(column: string, values: readonly string[], params: SqlParams, fold: CaseFold): string {
  const needles = [...new Set(values.map((v) => fold.fold(v)))]
  if (needles.some((n) => n.includes('σ'))) {
    return `${fold.lowerSql(column)} ~ ANY(${params.add(needles.map(sigmaPattern))}::text[])`
  }
  return `${fold.lowerSql(column)} LIKE ANY(${params.add(needles.map((n) => `%${likeEscaped(n)}%`))}::text[])`
}

/** The test of a text expression: `is` (JS: a Set of the values has it) or `contains`. */
function textTest(f: Filter, text: string, params: SqlParams, fold: CaseFold): string {
  return f.op === 'is' || f.op === 'is_not'
    ? `${text} = ANY(${params.add(f.values)}::text[])`
    : containsSql(text, f.values, params, fold)
}

/**
 * One filter's condition on a row of its dimension's table: `analytics_visits` for a visit
 * dimension, `analytics_events` for the others.
 */
export function filterSql(f: Filter, params: SqlParams, fold: CaseFold = ICU_FOLD): string {
  if (f.dimension === 'goal') {
    // JS: one of the goals' tests holds (match.ts)
    return `(${goalsOf(f)
      .map((g) => goalSql(g, (v) => params.add(v)))
      .join(' OR ')})`
  }
  const source = dimensionSource(f.dimension)
  const column = source.sql((v) => params.add(v))
  const test = source.id
    ? `${column} IN (SELECT id FROM analytics_values WHERE ${textTest(f, 'value', params, fold)})`
    : textTest(f, column, params, fold)
  return f.op === 'is' || f.op === 'contains' ? `(${test})` : `(${column} IS NULL OR NOT (${test}))`
}

/** [from, to) in epoch ms: the range a condition reads. */
export type Range = readonly [number, number]

/**
 * The partitions of `analytics_visits` that hold the visits of the rows in `range`: its UTC days,
 * and the read's site (`column` qualified by a table names that table's).
 */
export function visitDaysSql(range: Range, params: SqlParams, column = 'day'): string {
  const day = (ms: number) => new Date(Math.floor(ms / 86_400_000) * 86_400_000).toISOString().slice(0, 10)
  const dot = column.lastIndexOf('.')
  const site = params.site(dot < 0 ? undefined : column.slice(0, dot))
  return `${column} >= ${params.add(day(range[0]))}::date AND ${column} <= ${params.add(day(range[1] - 1))}::date AND ${site}`
}

const DAY_MS = 86_400_000

/**
 * The rows of `analytics_visits` with an event in `range`: of its UTC days, and with their first
 * event before its end and their last at or after its start (columns of `table`, when given).
 */
export function visitRowsInRangeSql(range: Range, params: SqlParams, table?: string): string {
  const c = (column: string) => (table ? `${table}.${column}` : column)
  const iso = (ms: number) => `${params.add(new Date(ms).toISOString())}::timestamptz`
  return `${visitDaysSql(range, params, c('day'))} AND ${c('last_at')} >= ${iso(range[0])} AND ${c('first_at')} < ${iso(range[1])}`
}

/**
 * What the reads from the visits' rows of a range's days (quality.ts, conversions.ts) need at the
 * range's ends: a row of `analytics_visits` sums a visit's events of one UTC day, so a range that
 * starts or ends inside a UTC day (another zone's midnight, `until`) cuts the rows of the visits
 * active at that instant. Those rows are read from their events in the range instead: `windows`
 * are the parts of the range's first and last UTC days that lie in it, and `across` the rows cut,
 * as a condition on a row of `analytics_visits` of the range's days (`''` when the range starts
 * and ends on UTC midnights, and no row is cut).
 */
export function rangeEdges(range: Range, params: SqlParams): { windows: Range[]; across: string } {
  const [from, to] = range
  const windows: [number, number][] = []
  if (from % DAY_MS !== 0) windows.push([from, Math.min(to, Math.ceil(from / DAY_MS) * DAY_MS)])
  if (to % DAY_MS !== 0) {
    const start = Math.max(from, Math.floor(to / DAY_MS) * DAY_MS)
    const first = windows[0]
    if (first && start <= first[1]) first[1] = to
    else windows.push([start, to])
  }
  const iso = (ms: number) => `${params.add(new Date(ms).toISOString())}::timestamptz`
  const across = [
    from % DAY_MS !== 0 ? `first_at < ${iso(from)}` : '',
    to % DAY_MS !== 0 ? `last_at >= ${iso(to)}` : '',
  ]
    .filter((c) => c !== '')
    .join(' OR ')
  return { windows, across }
}

/**
 * The read's site's events of `windows` (rangeEdges): a condition on `at`, which the BRIN index on
 * it finds.
 */
export const windowsSql = (windows: readonly Range[], params: SqlParams): string => {
  const iso = (ms: number) => `${params.add(new Date(ms).toISOString())}::timestamptz`
  return `${params.site()} AND (${windows.map(([a, b]) => `(at >= ${iso(a)} AND at < ${iso(b)})`).join(' OR ')})`
}

/** Visit filters as a condition on a row of `analytics_visits` (`true` for none). */
export function visitWhereSql(filters: readonly Filter[], params: SqlParams, fold: CaseFold = ICU_FOLD): string {
  return filters.length === 0 ? 'true' : filters.map((f) => filterSql(f, params, fold)).join(' AND ')
}

/** Whether a row of no visit values (none, or not known) passes the visit filters: all are negations. */
const passWithoutValues = (filters: readonly Filter[]): boolean =>
  filters.every((f) => f.op === 'is_not' || f.op === 'contains_not')

/**
 * A row of `analytics_events` has its visit's values when it has a visitor: a row of a visit whose
 * values were not in its segment (row.ts: dropped past the log's bound) was stored without either,
 * and has no values, as it had none when they were copied onto it.
 */
export const HAS_VISIT_VALUES = 'visitor IS NOT NULL'

/**
 * What a row must be for the visit filters to be decided by its visit alone: a row with its
 * visit's values when a row without them fails the filters, any row when it passes them.
 */
export const visitValuesSql = (filters: readonly Filter[]): string =>
  passWithoutValues(filters) ? 'true' : HAS_VISIT_VALUES

/**
 * Visit filters as a condition on a row of `analytics_events` in `range`. When a row without
 * values fails them (one of them is `is` or `contains`), the row must have its visit's values and
 * its visit must pass: a semi-join, which Postgres hashes. When such a row passes them (all are
 * negations), a row with values must not be of a visit that fails them: an anti-join, hashed as
 * well, where `NOT IN` could fall back to scanning the subquery once per row when its set
 * outgrows work_mem. The anti-join names the outer table, so the reads never alias
 * `analytics_events`.
 */
export function visitFiltersSql(filters: readonly Filter[], params: SqlParams, fold: CaseFold, range: Range): string {
  if (filters.length === 0) return 'true'
  const days = visitDaysSql(range, params)
  const passes = visitWhereSql(filters, params, fold)
  if (!passWithoutValues(filters)) {
    return `${HAS_VISIT_VALUES} AND visit_id IN (SELECT visit_id FROM analytics_visits WHERE ${days} AND ${passes})`
  }
  return `NOT EXISTS (SELECT 1 FROM analytics_visits WHERE analytics_visits.visit_id = analytics_events.visit_id
    AND analytics_events.${HAS_VISIT_VALUES} AND ${days} AND NOT (${passes}))`
}

/** A goal filter's goals: the route finds them; a filter read without is a fault here. */
export function goalsOf(f: Filter) {
  if (!f.goals || f.goals.length !== f.values.length) throw new Error('a goal filter read before its goals were found')
  return f.goals
}

/** The event filters alone (AND) on a row of `analytics_events`, or `true` for none. */
export function eventWhereSql(filters: readonly Filter[], params: SqlParams, fold: CaseFold = ICU_FOLD): string {
  const { event } = splitFilters(filters)
  return event.length === 0 ? 'true' : event.map((f) => filterSql(f, params, fold)).join(' AND ')
}

/** All the filters (AND) on a row of `analytics_events` in `range`, or `true` for none. */
export function whereSql(filters: readonly Filter[], params: SqlParams, fold: CaseFold, range: Range): string {
  const { visit, event } = splitFilters(filters)
  const parts = event.map((f) => filterSql(f, params, fold))
  if (visit.length > 0) parts.push(visitFiltersSql(visit, params, fold, range))
  return parts.length === 0 ? 'true' : parts.join(' AND ')
}
