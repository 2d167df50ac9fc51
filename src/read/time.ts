/**
 * Calendar arithmetic for reads: UTC day strings, and local days in an IANA time zone.
 */
const DAY_MS = 86_400_000

/** `YYYY-MM-DD` + n days. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10)
}

/** Days from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = []
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d)
  return out
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
  const start = Date.parse(`${addDays(from, -1)}T00:00:00Z`)
  const end = Date.parse(`${addDays(to, 2)}T00:00:00Z`)
  const hours: number[] = []
  for (let t = start; t < end; t += 3_600_000) {
    const day = localDay(t, tz)
    if (day >= from && day <= to) hours.push(t)
  }
  return hours
}
