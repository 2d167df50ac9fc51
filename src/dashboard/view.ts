/**
 * What the page shows lives in its address, so a link reproduces a view and back and forward
 * move between views: `?period=30d&type=page_view&tz=Europe/Berlin&compare=1`, and
 * `period=custom&from=…&to=…`. One parser and one writer; a value the page cannot use is left
 * out (the default stands), never an error page.
 *
 * @example
 * parseView('?period=7d&type=visits') // { period: '7d', type: 'visits', compare: false }
 * viewSearch({ period: '7d', type: 'visits', compare: false }) // '?period=7d&type=visits'
 */
import { canonicalTimeZone } from '../time.ts'
import { isMetric, type MetricId } from './metrics.ts'
import { customRangeProblem, DEFAULT_PRESET, isPreset, type PresetId } from './period.ts'

export interface View {
  period: PresetId
  /** the days of a custom period (both set, and readable, whenever period is custom) */
  from?: string
  to?: string
  /** the metric the chart shows; unset: the first the server answers (visitors, else visits) */
  type?: MetricId
  /** the zone of the numbers and the chart; unset: the deployment's TIME_ZONE */
  tz?: string
  /** the previous period drawn behind the chart and beside each number */
  compare: boolean
}

export function parseView(search: string): View {
  const q = new URLSearchParams(search)
  const view: View = { period: DEFAULT_PRESET, compare: q.get('compare') === '1' }
  const period = q.get('period')
  if (period === 'custom') {
    const from = q.get('from') ?? ''
    const to = q.get('to') ?? ''
    if (customRangeProblem(from, to) === undefined) Object.assign(view, { period, from, to })
  } else if (isPreset(period)) view.period = period
  const type = q.get('type')
  if (isMetric(type)) view.type = type
  const tz = q.get('tz')
  const zone = tz ? canonicalTimeZone(tz) : undefined
  if (zone) view.tz = zone
  return view
}

/** The query string of a view, `?`-prefixed; the period is always named, so a link says what it shows. */
export function viewSearch(view: View): string {
  const q = new URLSearchParams({ period: view.period })
  if (view.period === 'custom' && view.from && view.to) {
    q.set('from', view.from)
    q.set('to', view.to)
  }
  if (view.type) q.set('type', view.type)
  if (view.tz) q.set('tz', view.tz)
  if (view.compare) q.set('compare', '1')
  return `?${q.toString().replace(/%2F/g, '/')}`
}
