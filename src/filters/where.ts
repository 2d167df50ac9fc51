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
 * // (translate(lower((path) COLLATE "und-x-icu"), 'ς', 'σ') LIKE ANY($1::text[])), p.values = [['%pricing%']]
 */
import type { SqlParams } from '../read/sql.ts'
import { dimensionSource, type Filter } from './filter.ts'
import { type CaseFold, ICU_FOLD } from './fold.ts'

/** `s` matched literally by LIKE: its escape character (a backslash) and wildcards escaped. */
const likeEscaped = (s: string): string => s.replace(/[\\%_]/g, '\\$&')

/** One filter's condition. */
export function filterSql(f: Filter, params: SqlParams, fold: CaseFold = ICU_FOLD): string {
  const column = dimensionSource(f.dimension).sql((v) => params.add(v))
  let test: string
  if (f.op === 'is' || f.op === 'is_not') {
    // JS: a Set of the values has the row's value
    test = `${column} = ANY(${params.add(f.values)}::text[])`
  } else {
    // JS: fold(value).includes(fold(v)). The needles are folded here, once; the row's value is
    // folded once per row whatever the number of values (LIKE ANY, not an OR of strpos)
    const patterns = [...new Set(f.values.map((v) => `%${likeEscaped(fold.fold(v))}%`))]
    test = `${fold.sql(column)} LIKE ANY(${params.add(patterns)}::text[])`
  }
  return f.op === 'is' || f.op === 'contains' ? `(${test})` : `(${column} IS NULL OR NOT (${test}))`
}

/** All the filters (AND), or `true` for none. */
export function whereSql(filters: readonly Filter[], params: SqlParams, fold: CaseFold = ICU_FOLD): string {
  return filters.length === 0 ? 'true' : filters.map((f) => filterSql(f, params, fold)).join(' AND ')
}
