/**
 * What the visits were worth, as the page shows it: bounce rate, visit duration and views per
 * visit (the server's `metric=` of the same names, src/read/quality.ts), their labels, how each
 * is written, and how it changed from the previous period. A rate's change is in points (a bounce
 * rate of 40% after 50% fell 10 points, not 20%), as Plausible shows it; the others' in percent.
 *
 * @example
 * formatDuration(83) // '1m 23s'
 * qualityChange('bounce_rate', 40, 50) // { text: '−10 pp', direction: 'down' }
 * qualityQuery('bounce_rate', { from: '2026-11-01', to: '2026-11-28', granularity: 'day' }, 'UTC')
 */
import type { QualityMetric } from '../read/quality.ts'
import { type Change, change } from './format.ts'
import type { Range } from './period.ts'

export type { QualityMetric }

export interface QualityInfo {
  id: QualityMetric
  label: string
  /** a panel's column title, short */
  short: string
  /** more is worse: its change is coloured the other way */
  lowerIsBetter?: boolean
}

/** In the order Plausible's readers know them. */
export const QUALITY: readonly QualityInfo[] = [
  { id: 'bounce_rate', label: 'Bounce rate', short: 'Bounce', lowerIsBetter: true },
  { id: 'visit_duration', label: 'Visit duration', short: 'Duration' },
  { id: 'views_per_visit', label: 'Views per visit', short: 'Views' },
]

/** The figures each row of a visit dimension's breakdown shows. */
export const PANEL_QUALITY: readonly QualityMetric[] = ['bounce_rate', 'visit_duration']

export const qualityInfo = (id: QualityMetric): QualityInfo => QUALITY.find((q) => q.id === id)!

const decimals = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })

/** Seconds as a person reads a duration: '45s', '1m 23s', '1h 02m'. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** A percent the server rounded (bounce rate, conversion rate): '42%', '3.5%'. */
export const formatPercent = (percent: number): string => `${decimals.format(percent)}%`

/** A figure as the page writes it; '–' for none (a period without visits has no rate). */
export function formatQuality(id: QualityMetric, value: number | null | undefined): string {
  if (value === null || value === undefined) return '–'
  if (id === 'bounce_rate') return formatPercent(value)
  if (id === 'visit_duration') return formatDuration(value)
  return decimals.format(value)
}

/** The change from the previous period: points for a rate, percent for the others; none without both. */
export function qualityChange(id: QualityMetric, now: number | null, before: number | null): Change | undefined {
  if (now === null || before === null) return undefined
  if (id !== 'bounce_rate') return change(now, before)
  const points = Math.round(now - before)
  if (points === 0) return { text: '0 pp', direction: 'flat' }
  return { text: `${points > 0 ? '+' : '−'}${Math.abs(points)} pp`, direction: points > 0 ? 'up' : 'down' }
}

/**
 * The query of `GET /analytics/stats` for a figure over a range in zone `tz`: the range's figure
 * is the answer's `value`, so a period and the one before are two reads (unlike counts, a figure
 * of both is not the sum of each's).
 */
export function qualityQuery(id: QualityMetric, range: Range, tz: string): Record<string, string> {
  const until: Record<string, string> = range.until !== undefined ? { until: new Date(range.until).toISOString() } : {}
  return { metric: id, from: range.from, to: range.to, granularity: range.granularity, tz, ...until }
}
