/**
 * Goals: what counts as a conversion. Every event type is a goal with no configuration (its id is
 * the type's name); configured goals (`analytics_goals`, sql/007_goals.sql) are numbered and are
 * one of:
 *
 * - a **page goal**: page views whose path matches a pattern, `*` matching any characters
 *   (`/docs/*` matches `/docs/a` and `/docs/a/b`; `/pricing` only itself), case-sensitive as
 *   paths are;
 * - an **event goal**: events of a type, optionally only those carrying a property with a value
 *   (`feature_used` where `feature_name` is `export_csv`).
 *
 * Either may sum a numeric property of its conversions as their value (revenue): a decimal with
 * at most 15 digits before the point and 6 after; with a currency, an event whose `currency`
 * property names another one adds nothing to the value (it still converts).
 *
 * A goal is a test of one log row, as SQL ({@link goalSql}) and as JavaScript ({@link goalTest}),
 * which agree on every row, as a filter's two forms do (src/filters/where.ts, match.ts).
 *
 * @example
 * const g = parseGoalBody({ name: 'Docs', page: '/docs/*' }) // a new goal's fields, or 422
 * goalTest({ ...g, id: '1' })(row) // row is a page view of /docs/…
 */
import { HttpError } from '../errors.ts'
import { MAX_PATH_LENGTH, MAX_PROPERTY_LENGTH, PRINTABLE_PATTERN } from '../events/limits.ts'
import { EVENT_TYPES, type EventType, isEventType } from '../events/types.ts'
import type { LogRow } from '../log/row.ts'

export interface Goal {
  /** a configured goal's number ("12"), or the event type a built-in goal is */
  id: string
  name: string
  eventType: EventType
  /** page goals: the path pattern, `*` any characters */
  page: string | null
  /** event goals: a property the event must carry, with this value */
  property: { key: string; value: string } | null
  /** a numeric property summed as the conversions' value, in one currency when set */
  value: { property: string; currency: string | null } | null
  builtIn: boolean
}

/** The goals every deployment has: one per event type, named as the type. */
export const BUILT_IN_GOALS: readonly Goal[] = EVENT_TYPES.map((t) => ({
  id: t,
  name: t,
  eventType: t,
  page: null,
  property: null,
  value: null,
  builtIn: true,
}))

/**
 * A configured goal as the code holds one (`store.ts` reads them so): a page view unless told,
 * named as its id unless told, with no page, property or value unless given.
 *
 * @example
 * configuredGoal('3', { name: 'Docs', page: '/docs/*' })
 */
export const configuredGoal = (id: string, fields: Partial<Omit<Goal, 'id' | 'builtIn'>> = {}): Goal => ({
  id,
  name: id,
  eventType: 'page_view',
  page: null,
  property: null,
  value: null,
  ...fields,
  builtIn: false,
})

/** Configured goals at most: each is a column of the goals panel's one pass over the log. */
export const MAX_GOALS = 50
export const MAX_GOAL_NAME_LENGTH = 100
/** The property a feature's name is sent in: the log keeps it in its own column (`feature`). */
const FEATURE_PROPERTY = 'feature_name'
/** The property an event names its value's currency in. */
export const CURRENCY_PROPERTY = 'currency'

const PRINTABLE = new RegExp(PRINTABLE_PATTERN)
const CURRENCY = /^[A-Z]{3}$/

/** A value property's text as a number: decimal digits, an optional sign and fraction. */
export const AMOUNT_PATTERN = '^-?[0-9]{1,15}([.][0-9]{1,6})?$'
const AMOUNT = new RegExp(AMOUNT_PATTERN)
const MICRO = 1_000_000n

/** An amount's text in millionths, exactly (null when it is not an amount). */
export function micros(text: string | null | undefined): bigint | null {
  if (text == null || !AMOUNT.test(text)) return null
  const negative = text.startsWith('-')
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.')
  const n = BigInt(whole!) * MICRO + BigInt(fraction.padEnd(6, '0'))
  return negative ? -n : n
}

/** Millionths as a number of at most two decimals (a value is shown in a currency's cents). */
export const fromMicros = (n: bigint): number => Number((n * 100n + (n >= 0n ? MICRO / 2n : -MICRO / 2n)) / MICRO) / 100

/** A Postgres numeric's text (a sum) in millionths. */
export function numericMicros(text: string | null): bigint {
  if (text === null) return 0n
  return micros(text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text) ?? 0n
}

const invalid = (field: string, reason: string) => new HttpError(422, `${field} ${reason}`, { field })

function text(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw invalid(field, `must be a string (got ${typeof v})`)
  if (v.length === 0) throw invalid(field, 'must not be empty')
  if (v.length > max) throw invalid(field, `is ${v.length} characters; at most ${max}`)
  if (!PRINTABLE.test(v) || !v.isWellFormed()) throw invalid(field, 'holds a control character or a lone surrogate')
  return v
}

const BODY_FIELDS = new Set(['name', 'page', 'event_type', 'property', 'value'])

/** A new goal's fields from `POST /analytics/goals`' JSON body, or 422 naming the field at fault. */
export function parseGoalBody(body: unknown): Omit<Goal, 'id' | 'builtIn'> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(422, 'the body must be a JSON object such as {"name":"Docs","page":"/docs/*"}')
  }
  const b = body as Record<string, unknown>
  for (const key of Object.keys(b)) {
    if (!BODY_FIELDS.has(key)) throw invalid(key, `is not a field of a goal; they are ${[...BODY_FIELDS].join(', ')}`)
  }
  const name = text(b, 'name', MAX_GOAL_NAME_LENGTH)
  if (name === undefined) throw invalid('name', 'is required')
  if (isEventType(name)) throw invalid('name', `is an event type's, which is a goal already (${name})`)
  const page = text(b, 'page', MAX_PATH_LENGTH)
  const rawType = b.event_type
  if (page !== undefined && rawType !== undefined) {
    throw invalid('page', 'and event_type are two kinds of goal: give one (a page goal counts page views)')
  }
  if (page === undefined && rawType === undefined) throw invalid('event_type', 'or page is required')
  if (page !== undefined && !page.startsWith('/'))
    throw invalid('page', `must start with / (got ${JSON.stringify(page)})`)
  if (rawType !== undefined && !isEventType(rawType)) {
    throw invalid('event_type', `must be one of ${EVENT_TYPES.join(', ')}`)
  }
  let property: Goal['property'] = null
  if (b.property !== undefined) {
    if (page !== undefined) throw invalid('property', 'applies to event goals only')
    const p = b.property
    if (typeof p !== 'object' || p === null || Array.isArray(p)) {
      throw invalid('property', 'must be an object {"key": …, "value": …}')
    }
    const pr = p as Record<string, unknown>
    const key = text(pr, 'key', 128)
    const value = text(pr, 'value', MAX_PROPERTY_LENGTH)
    if (key === undefined || value === undefined || Object.keys(pr).length !== 2) {
      throw invalid('property', 'must be {"key": …, "value": …}, both non-empty strings')
    }
    property = { key, value }
  }
  let value: Goal['value'] = null
  if (b.value !== undefined) {
    const v = b.value
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw invalid('value', 'must be an object {"property": "amount", "currency": "EUR"} (currency optional)')
    }
    const vr = v as Record<string, unknown>
    for (const key of Object.keys(vr)) {
      if (key !== 'property' && key !== 'currency') throw invalid('value', `has the field ${JSON.stringify(key)}`)
    }
    const prop = text(vr, 'property', 128)
    if (prop === undefined) throw invalid('value', 'needs its property, the one holding the amount')
    const currency = vr.currency === undefined ? null : vr.currency
    if (currency !== null && (typeof currency !== 'string' || !CURRENCY.test(currency))) {
      throw invalid('value', `currency must be a three-letter code such as EUR (got ${JSON.stringify(currency)})`)
    }
    value = { property: prop, currency }
  }
  return {
    name,
    eventType: page !== undefined ? 'page_view' : (rawType as EventType),
    page: page ?? null,
    property,
    value,
  }
}

/** A page pattern as LIKE's: its own `%`, `_` and `\` literal, `*` any characters. */
export const likePattern = (page: string): string => page.replace(/[\\%_]/g, '\\$&').replaceAll('*', '%')

/** A page pattern as a regular expression over a whole path. */
const pageRegExp = (page: string): RegExp =>
  new RegExp(`^${page.replace(/[\\^$.|?+()[\]{}]/g, '\\$&').replaceAll('*', '[\\s\\S]*')}$`)

/** Whether a row completes the goal: the twin of {@link goalSql}. */
export function goalTest(goal: Goal): (row: LogRow) => boolean {
  const { eventType, page, property } = goal
  const re = page?.includes('*') ? pageRegExp(page) : null
  return (row) => {
    if (row.type !== eventType) return false
    if (page !== null && (row.path === null || (re ? !re.test(row.path) : row.path !== page))) return false
    if (property !== null) {
      if (property.key === FEATURE_PROPERTY) return row.feature === property.value
      const props = row.props
      if (props === null || !Object.hasOwn(props, property.key) || props[property.key] !== property.value) return false
    }
    return true
  }
}

/**
 * The goal's test of a row of `analytics_events` as a SQL condition, never NULL. The row keeps
 * its path and feature as ids (sql/009_log_layout.sql): a page is looked up in the dictionary
 * once (a pattern's matches hashed), not matched per row; the type is its code.
 */
export function goalSql(goal: Goal, param: (v: unknown) => string): string {
  const parts = [`event_type = ${param(EVENT_TYPES.indexOf(goal.eventType))}`]
  const id = (test: string) => `(SELECT id FROM analytics_values WHERE ${test})`
  if (goal.page !== null) {
    parts.push(
      goal.page.includes('*')
        ? `path IN ${id(`value LIKE ${param(likePattern(goal.page))}`)}`
        : `path = ${id(`value = ${param(goal.page)}`)}`,
    )
  }
  if (goal.property !== null) {
    parts.push(
      goal.property.key === FEATURE_PROPERTY
        ? `feature = ${id(`value = ${param(goal.property.value)}`)}`
        : `(props ->> ${param(goal.property.key)}) = ${param(goal.property.value)}`,
    )
  }
  return `coalesce(${parts.join(' AND ')}, false)`
}

/** A converting row's value in millionths, or null (no value property, not an amount, another currency). */
export function rowValue(goal: Goal, row: LogRow): bigint | null {
  const value = goal.value
  if (value === null || row.props === null) return null
  const props = row.props
  if (
    value.currency !== null &&
    Object.hasOwn(props, CURRENCY_PROPERTY) &&
    props[CURRENCY_PROPERTY] !== value.currency
  ) {
    return null
  }
  return Object.hasOwn(props, value.property) ? micros(props[value.property]) : null
}

/** The value of a converting row as SQL: the twin of {@link rowValue} (NULL for none). */
export function valueSql(goal: Goal, param: (v: unknown) => string): string {
  const value = goal.value
  if (value === null) return 'NULL::numeric'
  const amount = `(props ->> ${param(value.property)})`
  const currency =
    value.currency === null
      ? ''
      : ` AND coalesce((props ->> ${param(CURRENCY_PROPERTY)}) = ${param(value.currency)}, true)`
  return `CASE WHEN ${amount} ~ ${param(AMOUNT_PATTERN)}${currency} THEN ${amount}::numeric END`
}

/** A goal as the API shows it. */
export function goalJson(goal: Goal) {
  return {
    id: goal.id,
    name: goal.name,
    built_in: goal.builtIn,
    event_type: goal.eventType,
    page: goal.page,
    property: goal.property,
    value: goal.value,
  }
}
