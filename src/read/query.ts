/**
 * The read routes' parameters as TypeBox schemas: `params.ts` checks each value against them and
 * the OpenAPI document lists them, so the document says what the routes accept.
 *
 * They are checked in the handler, after the token, rather than handed to Elysia as the route's
 * `query` or `params`: Elysia validates those before any handler runs, so a request without a
 * token would be told how its parameters are wrong instead of 401, and with Elysia's reasons, not
 * the ones naming the parameter that clients and tests rely on.
 *
 * @example
 * Value.Check(Granularity, 'hour') // true
 */

import Type, { type TSchema, type TSchemaOptions } from 'typebox'
import { MAX_USER_ID_LENGTH, PRINTABLE_PATTERN } from '../events/limits.ts'
import { EVENT_TYPES, VISIT_DIMENSIONS } from '../events/types.ts'
import { FIRST_DAY, GRANULARITIES, LAST_DAY } from './bounds.ts'
import { CONVERSION_METRICS, QUALITY_METRICS } from './quality.ts'

export { FIRST_DAY, LAST_DAY }

/** "a, b or c", as the reasons name the values a parameter takes. */
export const listed = (values: readonly string[]): string =>
  values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`

/**
 * A schema with its options in its type: TypeBox's types leave them out, and the reasons and
 * defaults of `params.ts` are read off the schemas.
 */
const typed = <S extends TSchema, const O extends object>(make: (options: O) => S, options: O) => make(options) as S & O

/** One of `values`, as a JSON Schema `enum`. */
const enumOf = <const T extends string, const O extends object>(values: readonly T[], options: O) =>
  typed((o: O) => Type.Enum([...values], o as TSchemaOptions), options) as TSchema & O & { enum: readonly T[] }

export const Metric = enumOf(['events', 'visits', 'visitors', ...QUALITY_METRICS, ...CONVERSION_METRICS], {
  default: 'events',
  description:
    'events (of event_type, or of every type), visits, unique visitors (by day only), or what the visits were worth: ' +
    'bounce_rate (percent of visits that were a single page view), visit_duration (seconds, on average), ' +
    'views_per_visit (page views, on average); these three are read from the event log, count is the visits and value the figure. ' +
    'Or a goal’s (goal): conversions (unique visitors who completed it) and conversion_rate (their percent of the unique ' +
    'visitors, as value); count is the converting visitors, visitors the unique visitors, goal_value the goal’s value',
})

/** `goal`: an event type, or the id of a configured goal. */
export const GoalParam = typed(Type.String, {
  description:
    'metric=conversions or conversion_rate (stats), or metrics=conversions or conversion_rate (top): the goal, an event type or a configured goal’s id (GET /analytics/goals)',
  examples: ['user_signup', '3'],
})
export const Granularity = enumOf(GRANULARITIES, {
  default: 'day',
  description:
    'local hours (at most 31 days), days, ISO weeks from Monday or calendar months; a bucket is counted from its first day in the range',
})
export const Format = enumOf(['json', 'csv'], { default: 'json', description: 'csv: the points or items as text/csv' })
export const EventTypeParam = enumOf(EVENT_TYPES, {})

/** A local day; the calendar (no 2026-02-30) and the bounds are checked beside the pattern. */
export const Day = typed(Type.String, {
  format: 'date',
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: `a day, YYYY-MM-DD, from ${FIRST_DAY} to ${LAST_DAY}, inclusive`,
})

export const TimeZone = typed(Type.String, {
  description: 'an IANA time zone such as Europe/Berlin; TIME_ZONE when absent',
  examples: ['Europe/Berlin'],
})

/** `filters`: checked by src/filters/parse.ts, which gives each problem its reason. */
export const Filters = typed(Type.String, {
  description:
    'URL-encoded JSON array of [operator, dimension, [values…]]: operators is, is_not, contains, contains_not ' +
    '(contains ignores case); dimensions source, utm_source, utm_medium, utm_campaign, entry_page, browser, os, ' +
    'device, country, hostname (select visits and all their events), page, feature, event_type, prop:<key>, ' +
    'goal (is only: a goal id per value, events that complete one) (select events). Filters all apply; the values of ' +
    'one are alternatives. Counted from the event log, exactly',
  examples: ['[["is","source",["Google"]],["is","device",["mobile"]]]'],
})

/** `site`: a site's id or one of its domains (src/routes/site-param.ts). */
export const SiteParam = typed(Type.String, {
  description:
    'the site read: its id or one of its domains (GET /analytics/sites). Required when the deployment counts more than one site',
  examples: ['shop.example.com', '3'],
})

/** The value; also written in decimal digits only (no `0x10`, `1e1` or `+10`). */
export const Limit = typed(Type.Integer, { minimum: 1, maximum: 100, default: 10 })

/** Optional properties of one query, each as `params.ts` checks it. */
const query = (properties: Record<string, TSchema>) =>
  Type.Object(Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, Type.Optional(schema)])), {
    additionalProperties: true,
  })

export const StatsQuery = query({
  site: SiteParam,
  metric: Metric,
  event_type: { ...EventTypeParam, description: 'metric=events only; every type when absent' },
  from: { ...Day, description: `${Day.description}; 30 days (day) or 1 day (hour) before to when absent` },
  to: { ...Day, description: `${Day.description}; today when absent. At most 400 days (day) or 31 (hour)` },
  granularity: Granularity,
  until: typed(Type.String, {
    format: 'date-time',
    description:
      'events and visits only: count only what happened before this instant, written with its offset, on a quarter-hour (2026-11-28T13:45:00Z)',
  }),
  tz: { ...TimeZone, description: `${TimeZone.description}; by day and for visitors, the days of TIME_ZONE` },
  filters: Filters,
  goal: GoalParam,
  format: Format,
})

export const DashboardQuery = query({ site: SiteParam, filters: Filters })

/** The all-sites overview's: the same days of each site's own zone. */
export const OverviewQuery = query({
  from: { ...Day, description: `${Day.description}; 30 days before to when absent` },
  to: { ...Day, description: `${Day.description}; today (each site's) when absent. At most 400 days` },
})

/** The query of a read that takes nothing but its site. */
export const SiteQuery = query({ site: SiteParam })

export const LogCheckQuery = query({
  site: SiteParam,
  from: { ...Day, description: `${Day.description}; 30 days before to when absent` },
  to: { ...Day, description: `${Day.description}; today when absent. At most 92 days` },
  tz: TimeZone,
})

/** The dimensions `top` reads: the fixed ones and `prop:<key>` of each COUNTED_PROPERTIES key. */
export const topDimensions = (countedProperties: readonly string[]): string[] => [
  'feature',
  'page',
  ...VISIT_DIMENSIONS,
  ...countedProperties.map((key) => `prop:${key}`),
]

/** `top`'s query; its dimensions depend on COUNTED_PROPERTIES. */
export const topQuery = (countedProperties: readonly string[]) =>
  query({
    site: SiteParam,
    dimension: enumOf(topDimensions(countedProperties), { default: 'feature' }),
    event_type: { ...EventTypeParam, description: 'prop:<key> dimensions only' },
    from: { ...Day, description: `${Day.description}; 7 days before to when absent` },
    to: { ...Day, description: `${Day.description}; today when absent. At most 400 days` },
    tz: { ...TimeZone, description: 'TIME_ZONE, or a zone with the same days over the range' },
    limit: Limit,
    filters: Filters,
    metrics: typed(Type.String, {
      description:
        'visit dimensions only: comma-separated bounce_rate, visit_duration, views_per_visit, added to each item ' +
        '(from the event log, null for an item without visits of its own there); conversions, conversion_rate of ' +
        '`goal` (its converting visitors of the item, and their percent of the item’s unique visitors)',
      examples: ['bounce_rate,visit_duration', 'conversions,conversion_rate'],
    }),
    goal: GoalParam,
    format: Format,
  })

/**
 * A user id as a read names it. The route checks it with `isUserId`, which counts UTF-16 units
 * as the beacon's fast path does, so the JWT's `sub` and the path agree on every id.
 */
export const UserIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: MAX_USER_ID_LENGTH, pattern: PRINTABLE_PATTERN }),
})
