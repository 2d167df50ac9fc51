/**
 * What a filter is: an operator, a dimension and the values it tests, and which dimensions
 * select visits and which select events. The SQL (where.ts) and the JavaScript (match.ts) of a
 * filter both read their columns and fields off {@link DIMENSIONS}, so they test the same thing.
 *
 * - Visit dimensions select visits and every event in them: each row carries its visit's values,
 *   so on a row they are a plain condition. An event of no visit (a server event) has none.
 * - Event dimensions select events: `page` (the path), `feature`, `event_type` and `prop:<key>`.
 *
 * @example
 * const filters: Filter[] = [{ op: 'is', dimension: 'source', values: ['Google'] }]
 * splitFilters(filters) // { visit: [that filter], event: [] }
 */

import { VISIT_DIMENSIONS, type VisitDimension } from '../events/types.ts'
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

/** How a dimension is read: its SQL expression over `analytics_events` and its row's value. */
export interface DimensionSource {
  /** a column, or for a property `props ->> <key>` with the key a parameter */
  sql: (param: (value: unknown) => string) => string
  value: (row: LogRow) => string | null
}

const visitColumns: Record<VisitDimension, string> = {
  source: 'source',
  utm_source: 'utm_source',
  utm_medium: 'utm_medium',
  utm_campaign: 'utm_campaign',
  entry_page: 'entry_page',
  browser: 'browser',
  os: 'os',
  device: 'device',
  country: 'country',
  // the event's own page host is `hostname`; the visit's is stored beside it
  hostname: 'visit_hostname',
}

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
    const column = visitColumns[d]
    return { sql: () => column, value: (row) => row.visit?.[d] ?? null }
  }
  const key = propKey(d)
  if (key !== undefined) return { sql: (param) => `(props ->> ${param(key)})`, value: (row) => propValue(row, key) }
  switch (d) {
    case 'page':
      return { sql: () => 'path', value: (row) => row.path }
    case 'feature':
      return { sql: () => 'feature', value: (row) => row.feature }
    case 'event_type':
      return { sql: () => 'event_type', value: (row) => row.type }
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
