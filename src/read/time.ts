/**
 * Calendar arithmetic for reads: UTC day strings, and local days in an IANA time zone.
 *
 * Loops count days and hours as integers: `YYYY-MM-DD` strings compare in calendar order only
 * while years have four digits (`addDays('9999-12-31', 1)` is `+010000-01-01`, which sorts first).
 */
const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

/** Days from 1970-01-01 to a `YYYY-MM-DD` day. */
const dayNumber = (day: string): number => Date.parse(`${day}T00:00:00Z`) / DAY_MS

const dayString = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10)

/** `YYYY-MM-DD` + n days. */
export function addDays(day: string, n: number): string {
  return dayString(dayNumber(day) + n)
}

/** How many days `from`..`to` holds, both included (0 when `to` is before `from`). */
export const dayCount = (from: string, to: string): number => Math.max(0, dayNumber(to) - dayNumber(from) + 1)

/** Days from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const first = dayNumber(from)
  return Array.from({ length: dayCount(from, to) }, (_, i) => dayString(first + i))
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** True for a time zone name this runtime knows (IANA names and UTC). */
export function isTimeZone(tz: string): boolean {
  try {
    localDay(0, tz)
    return true
  } catch {
    return false
  }
}

/** The local calendar day of an instant in `tz`, `YYYY-MM-DD`. */
export function localDay(ms: number, tz: string): string {
  let f = formatters.get(tz)
  if (!f) {
    // en-CA formats dates as YYYY-MM-DD
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
    formatters.set(tz, f)
  }
  return f.format(ms)
}

/**
 * The UTC hours (epoch ms of each hour's start) whose local day in `tz` lies in [from, to].
 * Zones with half-hour offsets put an hour in the local day where it starts.
 */
export function hoursOfLocalDays(from: string, to: string, tz: string): number[] {
  // local days lie within a day either side of the UTC day: offsets are under 24 hours
  const start = (dayNumber(from) - 1) * DAY_MS
  const count = (dayCount(from, to) + 2) * 24
  const hours: number[] = []
  for (let i = 0; i < count; i++) {
    const t = start + i * HOUR_MS
    const day = localDay(t, tz)
    if (day >= from && day <= to) hours.push(t)
  }
  return hours
}
