/**
 * The visit-quality metrics of `GET /analytics/stats`: what the visits of a bucket were worth,
 * from the event log's figures of each visit (src/filters/quality.ts), as Plausible reports them:
 *
 * - `bounce_rate`: the share of visits that were a single page view and no other event, in
 *   percent, rounded to a whole number;
 * - `visit_duration`: the visits' average duration (first event to last, a bounce 0), in whole
 *   seconds;
 * - `views_per_visit`: the visits' average page views, to two decimals.
 *
 * Each is null for a bucket without visits: a rate of nothing is not 0.
 *
 * @example
 * figure('bounce_rate', { visits: 4, bounces: 1, durationMs: 90_000, views: 9 }) // 25
 */
import type { Quality } from '../filters/quality.ts'

export const QUALITY_METRICS = ['bounce_rate', 'visit_duration', 'views_per_visit'] as const
export type QualityMetric = (typeof QUALITY_METRICS)[number]
/** Of a goal (`goal`): its converting visitors, and their share of the visitors (src/filters/conversions.ts). */
export const CONVERSION_METRICS = ['conversions', 'conversion_rate'] as const
export type ConversionMetric = (typeof CONVERSION_METRICS)[number]
export type StatsMetric = 'events' | 'visits' | 'visitors' | QualityMetric | ConversionMetric

export const isConversionMetric = (m: string): m is ConversionMetric =>
  (CONVERSION_METRICS as readonly string[]).includes(m)

/** A conversion rate in percent, to one decimal; null without visitors. */
export const rateOf = (converted: number, visitors: number): number | null =>
  visitors === 0 ? null : Math.round((1000 * converted) / visitors) / 10

export const isQualityMetric = (m: string): m is QualityMetric => (QUALITY_METRICS as readonly string[]).includes(m)

export function figure(metric: QualityMetric, q: Quality): number | null {
  if (q.visits === 0) return null
  switch (metric) {
    case 'bounce_rate':
      return Math.round((100 * q.bounces) / q.visits)
    case 'visit_duration':
      return Math.round(q.durationMs / q.visits / 1000)
    case 'views_per_visit':
      return Math.round((100 * q.views) / q.visits) / 100
  }
}

/** Buckets' figures added up: the range's. */
export function totalOf(buckets: readonly Quality[]): Quality {
  const total: Quality = { visits: 0, bounces: 0, durationMs: 0, views: 0 }
  for (const b of buckets) {
    total.visits += b.visits
    total.bounces += b.bounces
    total.durationMs += b.durationMs
    total.views += b.views
  }
  return total
}
