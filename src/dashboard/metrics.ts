/**
 * The top-line numbers: unique visitors, visits and every event type, in the order a product
 * team reads them, and the stats read that answers each.
 *
 * @example
 * statsQuery('user_signup', { from: '2026-11-01', to: '2026-11-28', granularity: 'day' }, 'UTC')
 * // { metric: 'events', event_type: 'user_signup', from: '2026-11-01', to: '2026-11-28', granularity: 'day', tz: 'UTC' }
 */
import { EVENT_TYPES, type EventType } from '../events/types.ts'
import type { Range } from './period.ts'

export type MetricId = 'visitors' | 'visits' | EventType

export interface Metric {
  id: MetricId
  label: string
  /** the label after a count of one, in lower case ('1 page view') */
  one: string
  /** shown even with nothing counted (event types appear once they have data) */
  always?: boolean
  /** more is worse: its change is coloured the other way */
  lowerIsBetter?: boolean
}

export const METRICS: readonly Metric[] = [
  { id: 'visitors', label: 'Unique visitors', one: 'unique visitor', always: true },
  { id: 'visits', label: 'Visits', one: 'visit', always: true },
  { id: 'page_view', label: 'Page views', one: 'page view', always: true },
  { id: 'feature_used', label: 'Feature events', one: 'feature event' },
  { id: 'user_signup', label: 'Sign-ups', one: 'sign-up' },
  { id: 'user_login', label: 'Logins', one: 'login' },
  { id: 'generation_started', label: 'Generations started', one: 'generation started' },
  { id: 'generation_completed', label: 'Generations completed', one: 'generation completed' },
  { id: 'generation_failed', label: 'Generations failed', one: 'generation failed', lowerIsBetter: true },
  { id: 'subscription_started', label: 'Subscriptions started', one: 'subscription started' },
  { id: 'subscription_canceled', label: 'Subscriptions canceled', one: 'subscription canceled', lowerIsBetter: true },
  { id: 'asset_downloaded', label: 'Downloads', one: 'download' },
  { id: 'asset_shared', label: 'Shares', one: 'share' },
]

// every event type has a number: a type added to EVENT_TYPES without one fails here, at load
for (const type of EVENT_TYPES) {
  if (!METRICS.some((m) => m.id === type)) throw new Error(`no top-line number for ${type}`)
}

export const isMetric = (v: unknown): v is MetricId => METRICS.some((m) => m.id === v)

export const metricLabel = (id: MetricId): string => METRICS.find((m) => m.id === id)?.label ?? id

/** The label after a count, in lower case: `countLabel('page_view', 1)` is 'page view', of 2 'page views'. */
export function countLabel(id: MetricId, count: number): string {
  const metric = METRICS.find((m) => m.id === id)
  if (!metric) return id
  return count === 1 ? metric.one : metric.label.toLowerCase()
}

/**
 * Whether a metric can be drawn at a granularity: unique visitors are counted by day, so a day
 * shown by hour has their total but no hourly series.
 */
export const chartable = (metric: MetricId, granularity: 'day' | 'hour'): boolean =>
  metric !== 'visitors' || granularity === 'day'

/**
 * The query of `GET /analytics/stats` for one metric over a range, in zone `tz`. Unique visitors
 * are always read by day: for a day shown by hour, that is the day's total.
 */
export function statsQuery(metric: MetricId, range: Range, tz: string): Record<string, string> {
  const what =
    metric === 'visitors' || metric === 'visits'
      ? { metric }
      : ({ metric: 'events', event_type: metric } as Record<string, string>)
  const granularity = metric === 'visitors' ? 'day' : range.granularity
  return { ...what, from: range.from, to: range.to, granularity, tz }
}

/** Completed generations as a share of those that ended, or undefined when none did. */
export function successRate(completed: number, failed: number): number | undefined {
  const ended = completed + failed
  return ended > 0 ? completed / ended : undefined
}
