/**
 * Query parameters of the read routes, checked against their schemas (query.ts) with a reason
 * naming the parameter (422). What one schema cannot say (a real calendar day, a range's order
 * and length, one parameter ruling another out) is checked here too.
 */

import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { HttpError } from '../errors.ts'
import { EVENT_TYPES, type EventType, VISIT_DIMENSIONS, type VisitDimension } from '../events/types.ts'
import type { Filter } from '../filters/filter.ts'
import { parseFilters } from '../filters/parse.ts'
import { addDays, canonicalTimeZone, dayCount, localDay, sameDays } from '../time.ts'
import { FIRST_DAY, GRANULARITIES, type Granularity, LAST_DAY, MAX_DAYS_DAILY, MAX_DAYS_HOURLY } from './bounds.ts'
import {
  CONVERSION_METRICS,
  type ConversionMetric,
  isConversionMetric,
  isQualityMetric,
  QUALITY_METRICS,
  type QualityMetric,
  type StatsMetric,
} from './quality.ts'
import {
  DashboardQuery,
  Day,
  EventTypeParam,
  Format,
  Granularity as GranularityParam,
  Limit,
  listed,
  Metric,
  StatsQuery,
  topDimensions,
  topQuery,
} from './query.ts'
import type { TopDimension } from './top.ts'

export { FIRST_DAY, GRANULARITIES, type Granularity, LAST_DAY, MAX_DAYS_DAILY, MAX_DAYS_HOURLY }

const invalid = (parameter: string, reason: string): HttpError =>
  new HttpError(422, `${parameter} ${reason}`, { parameter })

/** The parameters each read takes, from its schema (`top`'s names do not depend on COUNTED_PROPERTIES). */
const STATS_PARAMETERS = Object.keys(StatsQuery.properties)
const TOP_PARAMETERS = Object.keys(topQuery([]).properties)
export const DASHBOARD_PARAMETERS = Object.keys(DashboardQuery.properties)

/**
 * Refuses a parameter the read does not take (`&source=Google` on `top`): a misspelt or
 * unsupported one would otherwise answer 200, as if it had been applied.
 */
export function onlyParameters(q: Query, known: readonly string[]): void {
  for (const name of Object.keys(q)) {
    if (!known.includes(name)) {
      throw new HttpError(422, `${name} is not a parameter of this read; it takes ${listed(known)}`, {
        parameter: name,
      })
    }
  }
}

/** Whether `raw` is one of the values `schema` (an enum) lists. */
const oneOf = <T extends string>(schema: TSchema & { enum: readonly T[] }, raw: string): raw is T =>
  Value.Check(schema, raw)

function parseDay(name: string, raw: string): string {
  if (
    !Value.Check(Day, raw) ||
    Number.isNaN(Date.parse(`${raw}T00:00:00Z`)) ||
    new Date(`${raw}T00:00:00Z`).toISOString().slice(0, 10) !== raw
  ) {
    throw invalid(name, `must be a date like 2026-01-31 (got ${JSON.stringify(raw)})`)
  }
  // both are YYYY-MM-DD with four-digit years: they compare in calendar order
  if (raw < FIRST_DAY || raw > LAST_DAY)
    throw invalid(name, `must be a day from ${FIRST_DAY} to ${LAST_DAY} (got ${raw})`)
  return raw
}

/**
 * An integer parameter as its schema bounds it, written in plain decimal digits: `Number` would
 * also take `0x10`, ` 10 `, `1e1` and `+10`, which no client means to send.
 */
function parseInteger(name: string, raw: string, schema: typeof Limit): number {
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Value.Check(schema, n)) {
    const range = `from ${schema.minimum} to ${schema.maximum}`
    throw invalid(name, `must be an integer ${range} in decimal digits (got ${JSON.stringify(raw)})`)
  }
  return n
}

/** `format=json` (the default) or `format=csv`; anything else is a 422 naming it. */
export function wantsCsv(q: Query): boolean {
  const format = q.format ?? Format.default
  if (!oneOf(Format, format)) throw invalid('format', `must be ${listed(Format.enum)}`)
  return format === 'csv'
}

export interface RangeParams {
  from: string
  to: string
  tz: string
}

export interface StatsParams extends RangeParams {
  /** `events` (of `eventType`, or all types), `visits`, or unique `visitors` (not by hour) */
  metric: StatsMetric
  eventType?: EventType
  granularity: Granularity
  /** events and visits only: count only those before this instant (a UTC quarter-hour, epoch ms) */
  until?: number
  /** none: the counters answer; some: the event log does */
  filters: Filter[]
  /** metric=conversions or conversion_rate: the goal's id, as sent (the route finds the goal) */
  goal?: string
}

type Query = Record<string, string | undefined>

const latest = (a: string, b: string) => (a > b ? a : b)

/**
 * from/to (inclusive local days in tz, from {@link FIRST_DAY} to {@link LAST_DAY}) with defaults
 * ending today; checks order and length. `tz` comes back under its canonical name.
 */
/** What the defaults depend on: the deployment's zone (TIME_ZONE) and the time. */
export interface ReadContext {
  timeZone: string
  now: number
}

const UTC_CONTEXT = (): ReadContext => ({ timeZone: 'UTC', now: Date.now() })

export function parseRange(q: Query, defaultDays: number, maxDays: number, context = UTC_CONTEXT()): RangeParams {
  const { now } = context
  const tz = canonicalTimeZone(q.tz ?? context.timeZone)
  if (!tz) throw invalid('tz', `must be an IANA time zone like Europe/Berlin (got ${JSON.stringify(q.tz)})`)
  const to = q.to !== undefined ? parseDay('to', q.to) : localDay(now, tz)
  // a default range is cut at the first day accepted rather than refused for a from nobody sent
  const from = q.from !== undefined ? parseDay('from', q.from) : latest(addDays(to, -(defaultDays - 1)), FIRST_DAY)
  if (from > to) throw invalid('from', `must not be after to (${from} > ${to})`)
  const days = dayCount(from, to)
  if (days > maxDays) throw invalid('to', `is ${days} days after from; at most ${maxDays} days per request`)
  return { from, to, tz }
}

/**
 * The zone to read a range's days in: TIME_ZONE when `tz` has its days over the range (another
 * name of it, such as Asia/Calcutta for Asia/Kolkata, which a browser may send), else `tz`.
 */
function daysOf(range: RangeParams, timeZone: string): string {
  return range.tz !== timeZone && sameDays(range.tz, timeZone, range.from, range.to) ? timeZone : range.tz
}

const QUARTER_MS = 15 * 60_000

/**
 * `until`: an ISO-8601 instant with its offset (`2026-11-28T13:45:00Z`) on a quarter-hour, the
 * step every read is exact to: a time between quarters cannot be read exactly, so it is refused.
 */
function parseUntil(raw: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)
    ? Date.parse(raw)
    : Number.NaN
  if (Number.isNaN(ms)) {
    throw invalid('until', `must be an instant like 2026-11-28T13:45:00Z, with its offset (got ${JSON.stringify(raw)})`)
  }
  if (ms % QUARTER_MS !== 0) {
    throw invalid(
      'until',
      `must be on a quarter-hour (:00, :15, :30 or :45 in UTC), the step counts are kept in (got ${raw})`,
    )
  }
  return ms
}

export function parseStats(q: Query, context = UTC_CONTEXT()): StatsParams {
  onlyParameters(q, STATS_PARAMETERS)
  const granularity = q.granularity ?? GranularityParam.default
  if (!oneOf(GranularityParam, granularity)) {
    throw invalid('granularity', `must be ${listed(GranularityParam.enum)} (got ${JSON.stringify(granularity)})`)
  }
  const metric = q.metric ?? Metric.default
  if (!oneOf(Metric, metric)) {
    throw invalid('metric', `must be ${listed(Metric.enum)} (got ${JSON.stringify(metric)})`)
  }
  const eventType = parseEventType(q)
  if (metric !== 'events' && eventType) {
    throw invalid(
      'event_type',
      isQualityMetric(metric)
        ? `does not apply to metric=${metric}: it describes whole visits, whatever their events`
        : isConversionMetric(metric)
          ? `does not apply to metric=${metric}: name the goal with goal=${eventType}`
          : `does not apply to metric=${metric}: it counts people and entries, not events`,
    )
  }
  const goal = parseGoal(q.goal, isConversionMetric(metric), `metric=${metric}`)
  if (metric === 'visitors' && granularity === 'hour') {
    throw invalid(
      'granularity',
      'must be day, week or month for metric=visitors: unique visitors are kept per day, not per hour',
    )
  }
  const until = q.until === undefined ? undefined : parseUntil(q.until)
  if (metric === 'visitors' && until !== undefined) {
    throw invalid('until', 'does not apply to metric=visitors: unique visitors are kept per whole day')
  }
  const range =
    granularity === 'hour' ? parseRange(q, 1, MAX_DAYS_HOURLY, context) : parseRange(q, 30, MAX_DAYS_DAILY, context)
  // by day, week or month, another name of TIME_ZONE (or a zone with its days over the range) is read as it
  if (granularity !== 'hour') range.tz = daysOf(range, context.timeZone)
  if (metric === 'visitors' && range.tz !== context.timeZone) {
    throw invalid(
      'tz',
      `must be TIME_ZONE (${context.timeZone}) for metric=visitors: each day's visitors are a set of that day`,
    )
  }
  const filters = parseFilters(q.filters)
  return {
    ...range,
    metric,
    eventType,
    granularity,
    filters,
    ...(until === undefined ? {} : { until }),
    ...(goal === undefined ? {} : { goal }),
  }
}

/** `goal`: required where it is used (`wanted`), refused elsewhere; `what` names the read. */
function parseGoal(raw: string | undefined, wanted: boolean, what: string): string | undefined {
  if (!wanted) {
    if (raw !== undefined) {
      throw invalid(
        'goal',
        `applies to metric=conversions or conversion_rate (stats) and to metrics of them (top), not to ${what}`,
      )
    }
    return undefined
  }
  if (raw === undefined || raw === '') {
    throw invalid('goal', `is required by ${what}: an event type (goal=user_signup) or a configured goal's id`)
  }
  return raw
}

function parseEventType(q: Query): EventType | undefined {
  if (q.event_type === undefined) return undefined
  if (!oneOf(EventTypeParam, q.event_type)) throw invalid('event_type', `must be one of ${EVENT_TYPES.join(', ')}`)
  return q.event_type
}

export interface TopParams extends RangeParams {
  dimension: TopDimension
  eventType?: EventType
  limit: number
  /** visit dimensions only: the visit-quality and conversion figures each item is given */
  metrics: (QualityMetric | ConversionMetric)[]
  /** metrics of conversions: the goal's id, as sent */
  goal?: string
  /** none: the counters answer; some: the event log does */
  filters: Filter[]
}

/** `countedProperties`: the keys `prop:<key>` may name (COUNTED_PROPERTIES). */
export function parseTop(q: Query, countedProperties: readonly string[] = [], context = UTC_CONTEXT()): TopParams {
  onlyParameters(q, TOP_PARAMETERS)
  const dimension = q.dimension ?? 'feature'
  const known = topDimensions(countedProperties)
  if (!known.includes(dimension)) {
    const why = dimension.startsWith('prop:')
      ? `names a property that is not counted: add ${JSON.stringify(dimension.slice(5))} to COUNTED_PROPERTIES`
      : `must be one of ${known.join(', ')}`
    throw invalid('dimension', `${why} (got ${JSON.stringify(dimension)})`)
  }
  const eventType = parseEventType(q)
  if (eventType && !dimension.startsWith('prop:')) {
    throw invalid('event_type', `applies to prop:<key> dimensions only (got dimension ${JSON.stringify(dimension)})`)
  }
  const limit = q.limit === undefined ? Limit.default : parseInteger('limit', q.limit, Limit)
  const range = parseRange(q, 7, MAX_DAYS_DAILY, context)
  range.tz = daysOf(range, context.timeZone)
  if (range.tz !== context.timeZone) {
    throw invalid('tz', `is not supported here: these counters are kept per day of TIME_ZONE (${context.timeZone})`)
  }
  const filters = parseFilters(q.filters)
  const metrics = parseItemMetrics(q.metrics, dimension)
  const goal = parseGoal(q.goal, metrics.some(isConversionMetric), 'metrics without conversions or conversion_rate')
  return {
    ...range,
    dimension: dimension as TopDimension | VisitDimension,
    eventType,
    limit,
    filters,
    metrics,
    ...(goal === undefined ? {} : { goal }),
  }
}

const ITEM_METRICS = [...QUALITY_METRICS, ...CONVERSION_METRICS]

/** `metrics` of a top: visit-quality and conversion metrics, for a visit dimension. */
function parseItemMetrics(raw: string | undefined, dimension: string): (QualityMetric | ConversionMetric)[] {
  if (raw === undefined) return []
  const names = raw.split(',').map((m) => m.trim())
  for (const m of names) {
    if (!isQualityMetric(m) && !isConversionMetric(m)) {
      throw invalid(
        'metrics',
        `must be a comma-separated list of ${ITEM_METRICS.join(', ')} (got ${JSON.stringify(m)})`,
      )
    }
  }
  if (!(VISIT_DIMENSIONS as readonly string[]).includes(dimension)) {
    throw invalid(
      'metrics',
      `applies to visit dimensions only: they describe visits (got dimension ${JSON.stringify(dimension)})`,
    )
  }
  return [...new Set(names)] as (QualityMetric | ConversionMetric)[]
}
