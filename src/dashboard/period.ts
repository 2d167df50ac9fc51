/**
 * The periods a person picks, as the inclusive days the reads take. Pure: "today" comes in as a
 * day, so every preset can be tested for any date. Calendar arithmetic is the read side's own
 * (src/time.ts), so the page and the server count days alike.
 *
 * @example
 * presetRange('7d', '2026-11-28') // { from: '2026-11-22', to: '2026-11-28', granularity: 'day' }
 * previousRange({ from: '2026-11-22', to: '2026-11-28', granularity: 'day' }) // 2026-11-15..2026-11-21
 */
import { type Granularity, MAX_DAYS_DAILY } from '../read/bounds.ts'
import { addDays, dayCount, dayStart, localDay, zoneFormats } from '../time.ts'

export const PRESETS = [
  { id: 'today', label: 'Today' },
  { id: 'yesterday', label: 'Yesterday' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
  { id: 'month', label: 'This month' },
  { id: 'lastmonth', label: 'Last month' },
  { id: '12mo', label: 'Last 12 months' },
  { id: 'custom', label: 'Custom range' },
] as const

export type PresetId = (typeof PRESETS)[number]['id']

export const DEFAULT_PRESET: PresetId = '30d'

/** A custom range is one stats read by day: at most this many days. */
export const MAX_CUSTOM_DAYS = MAX_DAYS_DAILY

export interface Range {
  /** first day, `YYYY-MM-DD`, inclusive */
  from: string
  /** last day, inclusive */
  to: string
  /** the chart's step: see {@link intervalsFor} */
  granularity: Granularity
  /** counted only before this instant (epoch ms, a quarter-hour): "yesterday until now" */
  until?: number
}

export const isPreset = (v: unknown): v is PresetId => PRESETS.some((p) => p.id === v)

export const presetLabel = (id: PresetId): string => PRESETS.find((p) => p.id === id)?.label ?? id

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** A real calendar day in the years every read takes (1970–2999). */
export function isDay(v: unknown): v is string {
  if (typeof v !== 'string' || !DAY.test(v) || v < '1970-01-01' || v > '2999-12-31') return false
  const ms = Date.parse(`${v}T00:00:00Z`)
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === v
}

/** Why a custom range cannot be read, or undefined when it can. */
export function customRangeProblem(from: string, to: string): string | undefined {
  if (!isDay(from) || !isDay(to)) return 'Pick a first and a last day.'
  if (from > to) return 'The first day comes after the last.'
  if (dayCount(from, to) > MAX_CUSTOM_DAYS) return `A range holds at most ${MAX_CUSTOM_DAYS} days.`
  return undefined
}

const withGranularity = (from: string, to: string): Range => ({
  from,
  to,
  granularity: from === to ? 'hour' : 'day',
})

const firstOfMonth = (day: string) => `${day.slice(0, 7)}-01`

/**
 * The days of a preset, `today` being the current day in the zone the reads use. A custom
 * preset takes `custom`, which the caller has checked with {@link customRangeProblem}.
 */
export function presetRange(preset: PresetId, today: string, custom?: { from: string; to: string }): Range {
  switch (preset) {
    case 'today':
      return withGranularity(today, today)
    case 'yesterday': {
      const day = addDays(today, -1)
      return withGranularity(day, day)
    }
    case '7d':
      return withGranularity(addDays(today, -6), today)
    case '30d':
      return withGranularity(addDays(today, -29), today)
    case 'month':
      return withGranularity(firstOfMonth(today), today)
    case 'lastmonth': {
      const last = addDays(firstOfMonth(today), -1)
      return withGranularity(firstOfMonth(last), last)
    }
    case '12mo': {
      // the same day a year ago is outside: twelve whole months end today (Feb 29 → Mar 1)
      const year = String(Number(today.slice(0, 4)) - 1).padStart(4, '0')
      const sameDay = `${year}${today.slice(4)}`
      const start = isDay(sameDay) ? addDays(sameDay, 1) : `${year}-03-01`
      return withGranularity(start, today)
    }
    case 'custom':
      if (!custom) throw new Error('a custom period needs its days')
      return withGranularity(custom.from, custom.to)
  }
}

/**
 * The steps a range can be charted by, the default first: hours for one day; for up to a week
 * hours or days; then days and weeks; from 32 days also months, weeks by default, and months
 * beyond 90 days (twelve months are twelve points, not 365).
 */
export function intervalsFor(range: { from: string; to: string }): Granularity[] {
  const days = dayCount(range.from, range.to)
  if (days === 1) return ['hour']
  if (days <= 7) return ['day', 'hour']
  if (days <= 31) return ['day', 'week']
  if (days <= 90) return ['week', 'day', 'month']
  return ['month', 'week', 'day']
}

/** `range` by `interval` when it can be charted so, else by its default step. */
export function withInterval(range: Range, interval: Granularity | undefined): Range {
  const choices = intervalsFor(range)
  return { ...range, granularity: interval && choices.includes(interval) ? interval : choices[0]! }
}

/**
 * The period of the same length just before `range`: what "compare" and every change measure
 * against. Today is measured against yesterday until the same time of day (as far as `now`,
 * in `tz`), unless `wholeDay`.
 */
export function previousRange(range: Range, today?: { now: number; tz: string; wholeDay: boolean }): Range {
  const days = dayCount(range.from, range.to)
  const previous = { from: addDays(range.from, -days), to: addDays(range.from, -1), granularity: range.granularity }
  if (!today || today.wholeDay || range.from !== range.to || range.to !== localDay(today.now, today.tz)) return previous
  return { ...previous, until: sameTimeBefore(today.now, today.tz) }
}

const QUARTER_MS = 15 * 60_000
const clock = zoneFormats({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

/**
 * Yesterday at the time of day it is now in `tz`, to the quarter-hour the reads are exact to (the
 * start of the quarter now is in): the first quarter of yesterday whose wall-clock time is that
 * late, so a day whose clocks changed still ends at the same time on the clock (or at its end).
 *
 * @example
 * sameTimeBefore(Date.parse('2026-11-28T14:37:00Z'), 'UTC') // Date.parse('2026-11-27T14:30:00Z')
 */
export function sameTimeBefore(now: number, tz: string): number {
  const f = clock(tz)
  const today = localDay(now, tz)
  const time = f.format(Math.floor(now / QUARTER_MS) * QUARTER_MS)
  const end = dayStart(today, tz)
  for (let t = dayStart(addDays(today, -1), tz); t < end; t += QUARTER_MS) if (f.format(t) >= time) return t
  return end
}
