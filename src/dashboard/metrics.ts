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
  /** shown even with nothing counted (event types appear once they have data) */
  always?: boolean
  /** more is worse: its change is coloured the other way */
  lowerIsBetter?: boolean
}

export const METRICS: readonly Metric[] = [
  { id: 'visitors', label: 'Unique visitors', always: true },
  { id: 'visits', label: 'Visits', always: true },
  { id: 'page_view', label: 'Page views', always: true },
  { id: 'feature_used', label: 'Feature events' },
  { id: 'user_signup', label: 'Sign-ups' },
  { id: 'user_login', label: 'Logins' },
  { id: 'generation_started', label: 'Generations started' },
  { id: 'generation_completed', label: 'Generations completed' },
  { id: 'generation_failed', label: 'Generations failed', lowerIsBetter: true },
  { id: 'subscription_started', label: 'Subscriptions started' },
  { id: 'subscription_canceled', label: 'Subscriptions canceled', lowerIsBetter: true },
  { id: 'asset_downloaded', label: 'Downloads' },
  { id: 'asset_shared', label: 'Shares' },
]

// every event type has a number: a type added to EVENT_TYPES without one fails here, at load
for (const type of EVENT_TYPES) {
  if (!METRICS.some((m) => m.id === type)) throw new Error(`no top-line number for ${type}`)
}

export const isMetric = (v: unknown): v is MetricId => METRICS.some((m) => m.id === v)

export const metricLabel = (id: MetricId): string => METRICS.find((m) => m.id === id)?.label ?? id

/** The query of `GET /analytics/stats` for one metric over a range, in zone `tz`. */
export function statsQuery(metric: MetricId, range: Range, tz: string): Record<string, string> {
  const what =
    metric === 'visitors' || metric === 'visits'
      ? { metric }
      : ({ metric: 'events', event_type: metric } as Record<string, string>)
  return { ...what, from: range.from, to: range.to, granularity: range.granularity, tz }
}

/** Completed generations as a share of those that ended, or undefined when none did. */
export function successRate(completed: number, failed: number): number | undefined {
  const ended = completed + failed
  return ended > 0 ? completed / ended : undefined
}
