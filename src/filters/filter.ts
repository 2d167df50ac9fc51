/**
 * What a filter is: an operator, a dimension and the values it tests, and which dimensions
 * select visits and which select events. The SQL (where.ts) and the JavaScript (match.ts) of a
 * filter both read their columns and fields off {@link DIMENSIONS}, so they test the same thing.
 *
 * - Visit dimensions select visits and every event in them: a row's visit keeps its values
 *   (`analytics_visits`), so in SQL they are a condition on the visit. An event of no visit (a
 *   server event) has none.
 * - Event dimensions select events: `page` (the path), `feature`, `event_type` and `prop:<key>`.
 *
 * @example
 * const filters: Filter[] = [{ op: 'is', dimension: 'source', values: ['Google'] }]
 * splitFilters(filters) // { visit: [that filter], event: [] }
 */

import { EVENT_TYPES, type EventType, VISIT_DIMENSIONS, type VisitDimension } from '../events/types.ts'
import type { Goal } from '../goals/goal.ts'
import type { LogRow } from '../log/row.ts'

/**
 * `is`: exactly one of the values. `contains`: holds one of them, case ignored (fold.ts).
 * The negations also match a row that has no value at all, so `is_not` a value nobody has
 * matches every row, events of no visit included.
 */
export const OPERATORS = ['is', 'is_not', 'contains', 'contains_not'] as const
export type Operator = (typeof OPERATORS)[number]

/**
 * `goal`: events that complete one of the goals named (`is` only): "visitors who signed up". Its
 * values are goal ids; the route finds the goals ({@link Filter.goals}) before anything is read.
 */
export const EVENT_DIMENSIONS = ['page', 'feature', 'event_type', 'goal'] as const
export type EventDimension = (typeof EVENT_DIMENSIONS)[number] | `prop:${string}`

export type Dimension = VisitDimension | EventDimension

export interface Filter {
  op: Operator
  dimension: Dimension
  /** alternatives: the filter holds when its test holds for one of them (for a negation: none) */
  values: string[]
  /** dimension `goal`: the goals of the values, found by the route */
  goals?: readonly Goal[]
}

/**
 * How a dimension is read: its SQL over a row of `analytics_visits` (a visit dimension) or of
 * `analytics_events` (the others), and its row's value in JavaScript.
 */
export interface DimensionSource {
  /** the column (`id`: of ids into `analytics_values`), or a text expression, parameters added by `param` */
  sql: (param: (value: unknown) => string) => string
  /** whether `sql` is an id into `analytics_values` (else it is the text) */
  id: boolean
  value: (row: LogRow) => string | null
}

/** The text of an id column: a lookup in the dictionary (per distinct id read, not per row, where it can). */
export const nameOfId = (column: string): string => `(SELECT value FROM analytics_values WHERE id = ${column})`

/** The text of a dimension's SQL (an id looked up). */
export const textSql = (source: DimensionSource, param: (value: unknown) => string): string =>
  source.id ? nameOfId(source.sql(param)) : source.sql(param)

/** The event type's name from its code (its place in EVENT_TYPES, as analytics_events keeps it). */
export const eventTypeSql = (param: (value: unknown) => string): string =>
  `(${param(EVENT_TYPES)}::text[])[event_type + 1]`

/** An event type's code, as `analytics_events.event_type` holds it. */
export const typeCode = (t: EventType): number => EVENT_TYPES.indexOf(t)

const VISIT_SET: ReadonlySet<string> = new Set(VISIT_DIMENSIONS)

export const isVisitDimension = (d: string): d is VisitDimension => VISIT_SET.has(d)

/** The key of a `prop:<key>` dimension, or undefined for any other. */
export const propKey = (d: string): string | undefined => (d.startsWith('prop:') ? d.slice(5) : undefined)

/**
 * A property's value. Own keys only: a row's props is a plain object, and `prop:constructor` must
 * read a property called constructor, not Object's.
 */
const propValue = (row: LogRow, key: string): string | null =>
  row.props !== null && Object.hasOwn(row.props, key) ? (row.props[key] ?? null) : null

export function dimensionSource(d: Dimension): DimensionSource {
  if (isVisitDimension(d)) {
    // analytics_visits names its columns as the dimensions
    return { sql: () => d, id: true, value: (row) => row.visit?.[d] ?? null }
  }
  const key = propKey(d)
  if (key !== undefined) {
    return { sql: (param) => `(props ->> ${param(key)})`, id: false, value: (row) => propValue(row, key) }
  }
  switch (d) {
    case 'page':
      return { sql: () => 'path', id: true, value: (row) => row.path }
    case 'feature':
      return { sql: () => 'feature', id: true, value: (row) => row.feature }
    case 'event_type':
      return { sql: eventTypeSql, id: false, value: (row) => row.type }
    case 'goal':
      throw new Error('a goal filter is a test of the row, not a value (where.ts, match.ts)')
  }
  throw new Error(`no such dimension: ${d}`)
}

export const isVisitFilter = (f: Filter): boolean => isVisitDimension(f.dimension)

/** The filters that select visits, and those that select events. */
export function splitFilters(filters: readonly Filter[]): { visit: Filter[]; event: Filter[] } {
  return { visit: filters.filter(isVisitFilter), event: filters.filter((f) => !isVisitFilter(f)) }
}
