/**
 * The one day-bucket function of the counters, and their time-of-day bucket.
 *
 * - Days are the deployment's `TIME_ZONE` days: the daily, per-user, per-feature, per-page and
 *   per-dimension counters, the unique visitors and the caps all count in them.
 * - Time of day is the UTC quarter-hour. Every offset in use is a multiple of 15 minutes, so a
 *   local hour or day in any zone is a whole number of quarters, which makes day and hour series
 *   exact in every zone, India's +5:30 and Nepal's +5:45 included.
 * - The live feed keeps UTC hours (see keys.ts `dayOf`, `hourOf`), and today's local hours of
 *   `TIME_ZONE` beside them ({@link Calendar.hour}).
 *
 * @example
 * const calendar = createCalendar('America/Los_Angeles')
 * calendar.day(Date.parse('2026-11-29T03:00:00Z')) // '2026-11-28'
 * quarterOf(Date.parse('2026-11-29T03:40:00Z'))    // '2026-11-29T03:30'
 */
import { localDay, zoneFormats } from '../time.ts'

const localHourFormat = zoneFormats({ hour: '2-digit', hourCycle: 'h23' })

export const QUARTER_MS = 15 * 60_000

export interface Calendar {
  /** the IANA zone its days are in */
  readonly zone: string
  /** the local day of an instant, `YYYY-MM-DD` */
  day(ms: number): string
  /** the local hour of an instant, `HH` (on the day clocks go back, the repeated hour is one) */
  hour(ms: number): string
}

export function createCalendar(zone: string): Calendar {
  // Nearly every call falls in the quarter of the one before; a local day never changes inside
  // a quarter, since every offset is a multiple of 15 minutes.
  let cachedQuarter = Number.NaN
  let cachedDay = ''
  let hourQuarter = Number.NaN
  let cachedHour = ''
  const hours = localHourFormat(zone)
  return {
    zone,
    day(ms) {
      const quarter = Math.floor(ms / QUARTER_MS)
      if (quarter !== cachedQuarter) {
        cachedQuarter = quarter
        cachedDay = localDay(quarter * QUARTER_MS, zone)
      }
      return cachedDay
    },
    hour(ms) {
      const quarter = Math.floor(ms / QUARTER_MS)
      if (quarter !== hourQuarter) {
        hourQuarter = quarter
        cachedHour = hours.format(quarter * QUARTER_MS)
      }
      return cachedHour
    },
  }
}

/** UTC days, for code that has no zone of its own (tests, tools). */
export const utcCalendar: Calendar = createCalendar('UTC')

let lastQuarter = Number.NaN
let lastQuarterName = ''

/** The UTC quarter-hour an instant falls in, `YYYY-MM-DDTHH:MM` (MM one of 00, 15, 30, 45). */
export function quarterOf(ms: number): string {
  const quarter = Math.floor(ms / QUARTER_MS)
  if (quarter !== lastQuarter) {
    lastQuarter = quarter
    lastQuarterName = new Date(quarter * QUARTER_MS).toISOString().slice(0, 16)
  }
  return lastQuarterName
}

/** The instant a quarter's name (`YYYY-MM-DDTHH:MM`, UTC) starts at. */
export const quarterStart = (quarter: string): number => Date.parse(`${quarter}:00Z`)
