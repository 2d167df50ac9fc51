/**
 * What the page shows lives in its address, so a link reproduces a view and back and forward
 * move between views: `?period=30d&type=page_view&tz=Europe/Berlin&compare=1&interval=week`, and
 * `period=custom&from=…&to=…`; `whole_day=1` measures today against all of yesterday;
 * `filters=[["is","source",["Google"]]]` narrows every read (filters.ts); `goal=user_signup` (an
 * event type, or a configured goal's id) adds its conversion rate to the breakdowns of visits. One parser and one writer; a value the page cannot use is left
 * out (the default stands), never an error page, and {@link readView} says which and what is
 * shown instead, so the page can tell the person and put the view it shows in the address.
 *
 * @example
 * parseView('?period=7d&type=visits') // { period: '7d', type: 'visits', compare: false }
 * readView('?tz=Mars/Olympus', 'UTC').problems // ['The time zone "Mars/Olympus" is unknown: showing UTC, the server’s days.']
 * viewSearch({ period: '7d', type: 'visits', compare: false }) // '?period=7d&type=visits'
 */
import { GRANULARITIES, type Granularity } from '../read/bounds.ts'
import { type Filter, filtersParam, readFilters } from './filters.ts'
import { isMetric, type MetricId } from './metrics.ts'
import { customRangeProblem, DEFAULT_PRESET, isPreset, type PresetId, presetLabel } from './period.ts'
import { ianaZone } from './zones.ts'

export interface View {
  /** the site shown, as the address names it (an id or a domain; unset: the only one) */
  site?: string
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
  /** the chart's step; unset: the period's default (see intervalsFor) */
  interval?: Granularity
  /** today against all of yesterday, not yesterday until the same time */
  wholeDay?: boolean
  /** what every read is narrowed to (unset: all traffic) */
  filters?: Filter[]
  /** the goal whose conversion rate every breakdown of visits shows (unset: none) */
  goal?: string
}

/** What a goal's id may look like: an event type, or a configured goal's number. */
export const GOAL_ID = /^(?:[a-z_]{1,40}|[1-9][0-9]{0,9})$/

/** A view, and what of the address could not be used, each said with what is shown instead. */
export function readView(search: string, serverZone: string): { view: View; problems: string[] } {
  const q = new URLSearchParams(search)
  const view: View = { period: DEFAULT_PRESET, compare: q.get('compare') === '1' }
  const site = q.get('site')
  if (site) view.site = site
  if (q.get('whole_day') === '1') view.wholeDay = true
  const problems: string[] = []
  const fallback = `showing ${presetLabel(DEFAULT_PRESET)}`
  const period = q.get('period')
  if (period === 'custom') {
    const from = q.get('from') ?? ''
    const to = q.get('to') ?? ''
    const problem = customRangeProblem(from, to)
    if (problem === undefined) Object.assign(view, { period, from, to })
    else
      problems.push(
        `The range ${JSON.stringify(from)} to ${JSON.stringify(to)} cannot be shown (${lower(problem)}): ${fallback}.`,
      )
  } else if (isPreset(period)) view.period = period
  else if (period !== null) problems.push(`${JSON.stringify(period)} is not a period: ${fallback}.`)
  const type = q.get('type')
  if (isMetric(type)) view.type = type
  else if (type !== null)
    problems.push(`${JSON.stringify(type)} is not a number this page shows: the chart shows the first.`)
  const interval = q.get('interval')
  if (interval !== null && (GRANULARITIES as readonly string[]).includes(interval))
    view.interval = interval as Granularity
  else if (interval !== null)
    problems.push(
      `${JSON.stringify(interval)} is not an interval: showing the period’s own (hours, days, weeks or months).`,
    )
  const tz = q.get('tz')
  const zone = tz ? ianaZone(tz) : undefined
  if (zone) view.tz = zone
  else if (tz !== null)
    problems.push(`The time zone ${JSON.stringify(tz)} is unknown: showing ${serverZone}, the server’s days.`)
  const filters = readFilters(q.get('filters'))
  if (filters.filters.length > 0) view.filters = filters.filters
  problems.push(...filters.problems)
  const goal = q.get('goal')
  if (goal !== null && GOAL_ID.test(goal)) view.goal = goal
  else if (goal !== null)
    problems.push(`${JSON.stringify(goal.slice(0, 60))} is not a goal: the breakdowns show no conversion rate.`)
  return { view, problems }
}

/** The view of an address; what it cannot use is left out. */
export const parseView = (search: string): View => readView(search, '').view

const lower = (sentence: string) => sentence.charAt(0).toLowerCase() + sentence.slice(1).replace(/\.$/, '')

/** The query string of a view, `?`-prefixed; the period is always named, so a link says what it shows. */
export function viewSearch(view: View): string {
  const q = new URLSearchParams()
  if (view.site) q.set('site', view.site)
  q.set('period', view.period)
  if (view.period === 'custom' && view.from && view.to) {
    q.set('from', view.from)
    q.set('to', view.to)
  }
  if (view.type) q.set('type', view.type)
  if (view.tz) q.set('tz', view.tz)
  if (view.compare) q.set('compare', '1')
  if (view.interval) q.set('interval', view.interval)
  if (view.wholeDay) q.set('whole_day', '1')
  const filters = filtersParam(view.filters)
  if (filters) q.set('filters', filters)
  if (view.goal) q.set('goal', view.goal)
  // what a query may hold as it is stays readable: the filters' brackets, commas and colons
  return `?${q.toString().replace(/%2F|%5B|%5D|%2C|%3A|%28|%29/g, decodeURIComponent)}`
}
