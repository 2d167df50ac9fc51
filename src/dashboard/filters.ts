/**
 * Filters: `[operator, dimension, [values…]]`, the same JSON in the page's address (`filters=`)
 * as in every read's `filters` parameter. Filters AND together, the values of one OR. This
 * module reads them from an address (saying what it drops, and why), writes them, adds and
 * removes one, and names one in words for its chip.
 *
 * @example
 * readFilters('[["is","source",["Google"]]]') // { filters: [['is', 'source', ['Google']]], problems: [] }
 * withFilter([['is', 'source', ['Google']]], ['is', 'source', ['Bing']]) // [['is', 'source', ['Bing']]]
 * filterLabel(['is', 'source', ['Google', 'Bing']]) // 'Source is Google or Bing'
 */
import { EVENT_LABELS } from '../events/labels.ts'
import { EVENT_TYPES, type EventType, type VISIT_DIMENSIONS } from '../events/types.ts'
import { countryName } from './countries.ts'

export const OPERATORS = ['is', 'is_not', 'contains', 'contains_not'] as const
export type Operator = (typeof OPERATORS)[number]

/** How an operator reads in a sentence ("Source is not Google"). */
export const OPERATOR_LABELS: Record<Operator, string> = {
  is: 'is',
  is_not: 'is not',
  contains: 'contains',
  contains_not: 'does not contain',
}

/** The dimensions of an event (the others are its visit's). `prop:<key>` is one too. */
export const EVENT_DIMENSIONS = ['page', 'feature', 'event_type'] as const

/** Every dimension but `prop:<key>`, with the name a person reads, in the order of the panels. */
export const DIMENSION_LABELS = {
  source: 'Source',
  utm_source: 'UTM source',
  utm_medium: 'UTM medium',
  utm_campaign: 'UTM campaign',
  page: 'Page',
  entry_page: 'Entry page',
  hostname: 'Hostname',
  country: 'Country',
  device: 'Device',
  browser: 'Browser',
  os: 'Operating system',
  feature: 'Feature',
  event_type: 'Event type',
} satisfies Record<(typeof VISIT_DIMENSIONS)[number] | (typeof EVENT_DIMENSIONS)[number], string>

export type NamedDimension = keyof typeof DIMENSION_LABELS
export type Dimension = NamedDimension | `prop:${string}`

export type Filter = [operator: Operator, dimension: Dimension, values: string[]]

export const PROPERTY = 'prop:'

export const isOperator = (v: unknown): v is Operator => OPERATORS.includes(v as Operator)

export const isDimension = (v: unknown): v is Dimension =>
  typeof v === 'string' &&
  (Object.hasOwn(DIMENSION_LABELS, v) || (v.startsWith(PROPERTY) && v.length > PROPERTY.length))

/** Why one entry of the list is not a filter, or undefined when it is one. */
function entryProblem(entry: unknown): string | undefined {
  if (!Array.isArray(entry) || entry.length !== 3) return 'not [operator, dimension, [values]]'
  const [operator, dimension, values] = entry
  if (!isOperator(operator))
    return `${JSON.stringify(operator)} is not an operator (${OPERATORS.map((o) => JSON.stringify(o)).join(', ')})`
  if (!isDimension(dimension)) return `${JSON.stringify(dimension)} is not a dimension`
  if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string' && v !== ''))
    return 'its values are not a list of one or more non-empty strings'
  return undefined
}

/**
 * The filters of an address's `filters=` (null: none), and a sentence for each thing dropped:
 * text that is not a JSON list drops them all; an entry that is not a filter drops that entry.
 */
export function readFilters(text: string | null): { filters: Filter[]; problems: string[] } {
  if (text === null || text === '') return { filters: [], problems: [] }
  let list: unknown
  try {
    list = JSON.parse(text)
  } catch {
    list = undefined
  }
  if (!Array.isArray(list))
    return {
      filters: [],
      problems: [
        `The filters ${quote(text)} are not a JSON list of [operator, dimension, [values]]: they were dropped, showing all traffic.`,
      ],
    }
  const filters: Filter[] = []
  const problems: string[] = []
  for (const entry of list) {
    const problem = entryProblem(entry)
    if (problem === undefined) filters.push(entry as Filter)
    else problems.push(`The filter ${quote(JSON.stringify(entry) ?? String(entry))} was dropped: ${problem}.`)
  }
  return { filters, problems }
}

/** A long value quoted short enough for a sentence. */
const quote = (text: string) => JSON.stringify(text.length > 120 ? `${text.slice(0, 119)}…` : text)

/** The `filters` parameter of a read or an address, or undefined with none (the reads as they were). */
export const filtersParam = (filters: readonly Filter[] | undefined): string | undefined =>
  filters && filters.length > 0 ? JSON.stringify(filters) : undefined

/**
 * The filters with `filter` added. An `is` filter replaces the `is` filter already on its
 * dimension (clicking Bing after Google shows Bing, as Plausible does), any filter replaces one
 * with its operator and dimension (the menu edits it), and the same filter twice is once.
 */
export function withFilter(filters: readonly Filter[], filter: Filter): Filter[] {
  const [operator, dimension] = filter
  const at = filters.findIndex(([o, d]) => o === operator && d === dimension)
  if (at < 0) return [...filters, filter]
  return filters.map((f, i) => (i === at ? filter : f))
}

export const withoutFilter = (filters: readonly Filter[], index: number): Filter[] =>
  filters.filter((_, i) => i !== index)

/** A dimension as a person reads it: "Source", "UTM medium", "Property plan". */
export const dimensionLabel = (dimension: Dimension): string =>
  dimension.startsWith(PROPERTY)
    ? `Property ${dimension.slice(PROPERTY.length)}`
    : DIMENSION_LABELS[dimension as NamedDimension]

/** A value as the panels show it: a country by name, an event type by its label. */
export function valueLabel(dimension: Dimension, value: string): string {
  if (dimension === 'country') return countryName(value)
  if (dimension === 'event_type' && EVENT_TYPES.includes(value as EventType))
    return EVENT_LABELS[value as EventType].plural
  return value
}

/** A filter in words, its values OR'ed: "Source is Google or Bing", "Page contains blog". */
export const filterLabel = ([operator, dimension, values]: Filter): string =>
  `${dimensionLabel(dimension)} ${OPERATOR_LABELS[operator]} ${values.map((v) => valueLabel(dimension, v)).join(' or ')}`

/** The same filters, whatever object holds them (for comparing a read's with the view's). */
export const sameFilters = (a: readonly Filter[] | undefined, b: readonly Filter[] | undefined): boolean =>
  (filtersParam(a) ?? '') === (filtersParam(b) ?? '')
