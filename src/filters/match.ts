/**
 * Filters as a test of one log row, compiled once per read: the twin of where.ts, for the rows
 * not yet in Postgres. A row with no value under a dimension (null) matches only the negations.
 *
 * @example
 * const keep = matches([{ op: 'is', dimension: 'device', values: ['mobile'] }])
 * rows.filter(keep)
 */
import { goalTest } from '../goals/goal.ts'
import type { LogRow } from '../log/row.ts'
import { dimensionSource, type Filter } from './filter.ts'
import { type CaseFold, ICU_FOLD } from './fold.ts'
import { goalsOf } from './where.ts'

export type RowTest = (row: LogRow) => boolean

function compile(f: Filter, fold: CaseFold): RowTest {
  if (f.dimension === 'goal') {
    // SQL: one of the goals' conditions holds (where.ts)
    const tests = goalsOf(f).map(goalTest)
    return (row) => tests.some((t) => t(row))
  }
  const { value } = dimensionSource(f.dimension)
  let test: (v: string) => boolean
  if (f.op === 'is' || f.op === 'is_not') {
    const set = new Set(f.values)
    test = (v) => set.has(v)
  } else {
    const needles = [...new Set(f.values.map((v) => fold.fold(v)))]
    test = (v) => {
      const folded = fold.fold(v)
      return needles.some((n) => folded.includes(n))
    }
  }
  if (f.op === 'is' || f.op === 'contains') {
    return (row) => {
      const v = value(row)
      return v !== null && test(v)
    }
  }
  return (row) => {
    const v = value(row)
    return v === null || !test(v)
  }
}

/** Whether a row passes every filter (true for none). */
export function matches(filters: readonly Filter[], fold: CaseFold = ICU_FOLD): RowTest {
  const tests = filters.map((f) => compile(f, fold))
  if (tests.length === 0) return () => true
  if (tests.length === 1) return tests[0]!
  return (row) => tests.every((t) => t(row))
}
