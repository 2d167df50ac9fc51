/**
 * Filters as a SQL condition over `analytics_events`, with every value a bound parameter. The
 * twin of match.ts: each operator below says what its JavaScript does.
 *
 * NULL is "no value": `is` and `contains` never match it, their negations always do, so the
 * negations are written `x IS NULL OR NOT (…)` rather than left to SQL's three-valued logic, which
 * would drop the row.
 *
 * @example
 * const p = new SqlParams()
 * whereSql([{ op: 'contains', dimension: 'page', values: ['Pricing'] }], p, fold)
 * // (lower((path) COLLATE "default") LIKE ANY($1::text[])), p.values = [['%pricing%']]
 */
import { goalSql } from '../goals/goal.ts'
import type { SqlParams } from '../read/sql.ts'
import { dimensionSource, type Filter } from './filter.ts'
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

/** One filter's condition. */
export function filterSql(f: Filter, params: SqlParams, fold: CaseFold = ICU_FOLD): string {
  if (f.dimension === 'goal') {
    // JS: one of the goals' tests holds (match.ts)
    return `(${goalsOf(f)
      .map((g) => goalSql(g, (v) => params.add(v)))
      .join(' OR ')})`
  }
  const column = dimensionSource(f.dimension).sql((v) => params.add(v))
  // JS of is: a Set of the values has the row's value
  const test =
    f.op === 'is' || f.op === 'is_not'
      ? `${column} = ANY(${params.add(f.values)}::text[])`
      : containsSql(column, f.values, params, fold)
  return f.op === 'is' || f.op === 'contains' ? `(${test})` : `(${column} IS NULL OR NOT (${test}))`
}

/** A goal filter's goals: the route finds them; a filter read without is a fault here. */
export function goalsOf(f: Filter) {
  if (!f.goals || f.goals.length !== f.values.length) throw new Error('a goal filter read before its goals were found')
  return f.goals
}

/** All the filters (AND), or `true` for none. */
export function whereSql(filters: readonly Filter[], params: SqlParams, fold: CaseFold = ICU_FOLD): string {
  return filters.length === 0 ? 'true' : filters.map((f) => filterSql(f, params, fold)).join(' AND ')
}
