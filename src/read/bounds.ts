/**
 * The bounds of every read, in a module of plain values: the server's checks (params.ts, query.ts)
 * and the dashboard both import them, and the dashboard's bundle takes in nothing else of the
 * server's (no schema library).
 */

/**
 * The days any read accepts. Every date a read derives from them (a day either side, in any
 * zone from UTC-23:59 to UTC+23:59) keeps a four-digit year, which `toISOString` and Postgres
 * both take; events are counted at most 30 days after they happen, so no data lies outside.
 */
export const FIRST_DAY = '1970-01-01'
export const LAST_DAY = '2999-12-31'

/** The longest range by day, week or month, and by hour. */
export const MAX_DAYS_DAILY = 400
export const MAX_DAYS_HOURLY = 31

/** A series' steps: local hours, days, ISO weeks (from Monday) or calendar months. */
export const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const
export type Granularity = (typeof GRANULARITIES)[number]
