/**
 * The top-line numbers: unique visitors, visits and every event type, in the order a product
 * team reads them, and the stats read that answers each.
 *
 * @example
 * statsQuery('user_signup', { from: '2026-11-01', to: '2026-11-28', granularity: 'day' }, 'UTC')
 * // { metric: 'events', event_type: 'user_signup', from: '2026-11-01', to: '2026-11-28', granularity: 'day', tz: 'UTC' }
 */
import { EVENT_LABELS, LABELLED_TYPES } from '../events/labels.ts'
import type { EventType } from '../events/types.ts'
import type { Granularity } from '../read/params.ts'
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

const EVENT_METRICS: Partial<Record<EventType, Pick<Metric, 'always' | 'lowerIsBetter'>>> = {
  page_view: { always: true },
  generation_failed: { lowerIsBetter: true },
  subscription_canceled: { lowerIsBetter: true },
}

/** Visitors and visits, then every event type under its one label (src/events/labels.ts). */
export const METRICS: readonly Metric[] = [
  { id: 'visitors', label: 'Unique visitors', one: 'unique visitor', always: true },
  { id: 'visits', label: 'Visits', one: 'visit', always: true },
  ...LABELLED_TYPES.map((id) => ({
    id,
    label: EVENT_LABELS[id].plural,
    one: EVENT_LABELS[id].one,
    ...EVENT_METRICS[id],
  })),
]

export const isMetric = (v: unknown): v is MetricId => METRICS.some((m) => m.id === v)

export const metricLabel = (id: MetricId): string => METRICS.find((m) => m.id === id)?.label ?? id

/**
 * Whether a metric can be drawn at a granularity: unique visitors are counted by day, so a day
 * shown by hour has their total but no hourly series.
 */
export const chartable = (metric: MetricId, granularity: Granularity): boolean =>
  metric !== 'visitors' || granularity !== 'hour'

/**
 * The query of `GET /analytics/stats` for one metric over a range, in zone `tz`. Unique visitors
 * are read by day where the range is by hour (for a day, that is the day's total), and for the
 * whole of a range cut at `until` (they are kept per whole day).
 */
export function statsQuery(metric: MetricId, range: Range, tz: string): Record<string, string> {
  const what =
    metric === 'visitors' || metric === 'visits'
      ? { metric }
      : ({ metric: 'events', event_type: metric } as Record<string, string>)
  const granularity = metric === 'visitors' && range.granularity === 'hour' ? 'day' : range.granularity
  const until: Record<string, string> =
    range.until !== undefined && metric !== 'visitors' ? { until: new Date(range.until).toISOString() } : {}
  return { ...what, from: range.from, to: range.to, granularity, tz, ...until }
}

/** Completed generations as a share of those that ended, or undefined when none did. */
export function successRate(completed: number, failed: number): number | undefined {
  const ended = completed + failed
  return ended > 0 ? completed / ended : undefined
}
