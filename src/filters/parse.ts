/**
 * The `filters` query parameter: a JSON array of `[operator, dimension, [values…]]`, checked
 * whole before anything is read. Anything else is a {@link FilterError} (422) whose reason names
 * the filter and what is wrong with it, as the other read parameters' reasons do.
 *
 * @example
 * parseFilters('[["is","source",["Google"]],["contains","page",["/blog"]]]')
 * // [{ op: 'is', dimension: 'source', values: ['Google'] }, { op: 'contains', dimension: 'page', values: ['/blog'] }]
 * parseFilters(undefined) // []
 * parseFilters('[["like","page",["x"]]]') // throws: filters[0] has the operator "like"; it must be is, is_not, contains or contains_not
 */
import { HttpError } from '../errors.ts'
import { PRINTABLE_PATTERN } from '../events/limits.ts'
import { EVENT_TYPES, isEventType, VISIT_DIMENSIONS } from '../events/types.ts'
import { MAX_VALUE_BYTES } from '../events/values.ts'
import { listed } from '../read/query.ts'
import { type Dimension, EVENT_DIMENSIONS, type Filter, isVisitDimension, OPERATORS, type Operator } from './filter.ts'

/** Filters in one read: enough for any question a dashboard asks, few enough to plan quickly. */
export const MAX_FILTERS = 10
/** Alternatives in one filter. */
export const MAX_FILTER_VALUES = 50
/** A value longer than any stored one (MAX_VALUE_BYTES) could match nothing. */
export const MAX_FILTER_VALUE_BYTES = MAX_VALUE_BYTES
/** Characters of a property's key in `prop:<key>`. */
export const MAX_PROP_KEY_LENGTH = 128

/** The dimensions a filter may name, as the reasons list them. */
export const FILTER_DIMENSIONS: readonly string[] = [...VISIT_DIMENSIONS, ...EVENT_DIMENSIONS, 'prop:<key>']

/** A bad `filters`: 422, with a reason that starts with `filters` (or `filters[i]`, the filter at fault). */
export class FilterError extends HttpError {
  constructor(reason: string) {
    super(422, reason, { parameter: 'filters' })
    this.name = 'FilterError'
  }
}

const PRINTABLE = new RegExp(PRINTABLE_PATTERN)
const encoder = new TextEncoder()

/** A value as a reason shows it: JSON, cut short. */
function shown(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v)
  return s.length > 60 ? `${s.slice(0, 60)}…` : s
}

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS)

function parseDimension(at: string, raw: unknown): Dimension {
  if (typeof raw === 'string') {
    if (isVisitDimension(raw) || (EVENT_DIMENSIONS as readonly string[]).includes(raw)) return raw as Dimension
    if (raw.startsWith('prop:')) {
      const key = raw.slice(5)
      if (key === '') throw new FilterError(`${at} has the dimension "prop:" with no key; write prop:<key>`)
      if (key.length > MAX_PROP_KEY_LENGTH) {
        throw new FilterError(`${at} names a property key of ${key.length} characters; at most ${MAX_PROP_KEY_LENGTH}`)
      }
      if (!PRINTABLE.test(key) || !key.isWellFormed()) {
        throw new FilterError(`${at} names a property key with a control character or a lone surrogate`)
      }
      return `prop:${key}`
    }
  }
  throw new FilterError(`${at} has the dimension ${shown(raw)}; it must be ${listed(FILTER_DIMENSIONS)}`)
}

function parseValue(at: string, i: number, raw: unknown, dimension: Dimension, op: Operator): string {
  const where = `${at} value ${i}`
  if (typeof raw !== 'string') throw new FilterError(`${where} must be a string (got ${shown(raw)})`)
  if (raw === '') throw new FilterError(`${where} is empty; a value has at least one character`)
  if (!PRINTABLE.test(raw)) throw new FilterError(`${where} holds a control character, which no stored value has`)
  if (!raw.isWellFormed()) throw new FilterError(`${where} holds a lone surrogate, which is not text`)
  // a UTF-16 unit is at most 3 bytes: only a long value can be over
  const bytes = raw.length * 3 > MAX_FILTER_VALUE_BYTES ? encoder.encode(raw).length : 0
  if (bytes > MAX_FILTER_VALUE_BYTES) {
    throw new FilterError(`${where} is ${bytes} bytes; at most ${MAX_FILTER_VALUE_BYTES}, as stored values are`)
  }
  // a misspelt type would match nothing (is) or everything (is_not), silently
  if (dimension === 'event_type' && (op === 'is' || op === 'is_not') && !isEventType(raw)) {
    throw new FilterError(`${where} ${shown(raw)} is not an event type; event_type is ${listed(EVENT_TYPES)}`)
  }
  return raw
}

function parseFilter(i: number, raw: unknown): Filter {
  const at = `filters[${i}]`
  if (!Array.isArray(raw) || raw.length !== 3 || !Array.isArray(raw[2])) {
    throw new FilterError(`${at} must be [operator, dimension, [values…]] (got ${shown(raw)})`)
  }
  const [op, rawDimension, rawValues] = raw as [unknown, unknown, unknown[]]
  if (typeof op !== 'string' || !OPERATOR_SET.has(op)) {
    throw new FilterError(`${at} has the operator ${shown(op)}; it must be ${listed(OPERATORS)}`)
  }
  const dimension = parseDimension(at, rawDimension)
  if (rawValues.length === 0) throw new FilterError(`${at} has no values; give at least one`)
  if (rawValues.length > MAX_FILTER_VALUES) {
    throw new FilterError(`${at} has ${rawValues.length} values; at most ${MAX_FILTER_VALUES}`)
  }
  if (dimension === 'goal' && op !== 'is') {
    throw new FilterError(`${at} has the operator ${shown(op)} on goal; a goal filter takes is only`)
  }
  const values = rawValues.map((v, j) => parseValue(at, j, v, dimension, op as Operator))
  return { op: op as Operator, dimension, values }
}

/** The filters of a read (none when the parameter is absent). */
export function parseFilters(raw: string | undefined): Filter[] {
  if (raw === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new FilterError(`filters must be URL-encoded JSON such as [["is","source",["Google"]]] (got ${shown(raw)})`)
  }
  if (!Array.isArray(parsed)) {
    throw new FilterError(`filters must be a JSON array of [operator, dimension, [values…]] (got ${shown(parsed)})`)
  }
  if (parsed.length > MAX_FILTERS) throw new FilterError(`filters has ${parsed.length} filters; at most ${MAX_FILTERS}`)
  return parsed.map((f, i) => parseFilter(i, f))
}
