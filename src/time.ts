/**
 * Calendar arithmetic for reads: UTC day strings, and local days in an IANA time zone.
 *
 * Loops count days and hours as integers: `YYYY-MM-DD` strings compare in calendar order only
 * while years have four digits (`addDays('9999-12-31', 1)` is `+010000-01-01`, which sorts first).
 */
const DAY_MS = 86_400_000

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

/** The first day of the month after `day`'s. */
function nextMonth(day: string): string {
  const year = Number(day.slice(0, 4))
  const month = Number(day.slice(5, 7))
  return month === 12 ? `${year + 1}-01-01` : `${day.slice(0, 4)}-${String(month + 1).padStart(2, '0')}-01`
}

/**
 * [from, to] (inclusive days) as the whole calendar months inside it, given by their first days
 * (`months`: the first and the last), and the days left at either edge (`edges`, each an inclusive
 * range; none when empty).
 *
 * @example
 * splitMonths('2026-01-15', '2026-04-02') // { months: ['2026-02-01', '2026-03-01'], edges: [['2026-01-15', '2026-01-31'], ['2026-04-01', '2026-04-02']] }
 */
export function splitMonths(from: string, to: string): { months?: [string, string]; edges: [string, string][] } {
  const first = from.endsWith('-01') ? from : nextMonth(from)
  // the day after the last whole month: to's month if to is its month's last day, else to's month start
  const afterLast = addDays(to, 1).endsWith('-01') ? addDays(to, 1) : `${to.slice(0, 7)}-01`
  if (first >= afterLast) return { edges: [[from, to]] }
  const edges: [string, string][] = []
  if (from < first) edges.push([from, addDays(first, -1)])
  if (afterLast <= to) edges.push([afterLast, to])
  return { months: [first, `${addDays(afterLast, -1).slice(0, 7)}-01`], edges }
}

/** Whether `day` starts a week (an ISO week: Monday) or a month. 1970-01-01 was a Thursday. */
const starts = (day: string, unit: 'week' | 'month'): boolean =>
  unit === 'month' ? day.endsWith('-01') : (dayNumber(day) + 3) % 7 === 0

/**
 * The days `from`..`to` in ISO weeks (from Monday) or calendar months: each as its first and
 * last day inside the range, so the first and the last may be partial.
 *
 * @example
 * periodsOf('2026-11-28', '2026-12-09', 'week') // [['2026-11-28', '2026-11-29'], ['2026-11-30', '2026-12-06'], ['2026-12-07', '2026-12-09']]
 */
export function periodsOf(from: string, to: string, unit: 'week' | 'month'): [string, string][] {
  const periods: [string, string][] = []
  for (const day of daysBetween(from, to)) {
    if (periods.length === 0 || starts(day, unit)) periods.push([day, day])
    else periods.at(-1)![1] = day
  }
  return periods
}

/** Formatters kept, one per zone: a few zones are in use at a time. */
export const FORMATTER_CACHE_SIZE = 64

/** Day formatters by canonical zone name, least recently used first. */
const formatters = new Map<string, Intl.DateTimeFormat>()

function keep(tz: string, f: Intl.DateTimeFormat): Intl.DateTimeFormat {
  formatters.delete(tz)
  formatters.set(tz, f)
  if (formatters.size > FORMATTER_CACHE_SIZE) formatters.delete(formatters.keys().next().value!)
  return f
}

/** The day formatter of a zone; throws RangeError for a zone this runtime does not know. */
function formatter(tz: string): Intl.DateTimeFormat {
  const cached = formatters.get(tz)
  if (cached) return keep(tz, cached)
  // en-CA formats dates as YYYY-MM-DD
  const f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
  // names match case-insensitively: cache by the canonical one, not by each spelling
  const name = f.resolvedOptions().timeZone
  return keep(name, formatters.get(name) ?? f)
}

/**
 * The runtime's name of a time zone (IANA names, UTC, offsets like `+05:30`) in any spelling, or
 * undefined for one it does not know.
 *
 * @example
 * canonicalTimeZone('europe/berlin') // 'Europe/Berlin'
 */
export function canonicalTimeZone(tz: string): string | undefined {
  try {
    return formatter(tz).resolvedOptions().timeZone
  } catch {
    return undefined
  }
}

/** How many formatters are cached (at most {@link FORMATTER_CACHE_SIZE}). */
export const formatterCount = (): number => formatters.size

/** The local calendar day of an instant in `tz`, `YYYY-MM-DD`. */
export function localDay(ms: number, tz: string): string {
  return formatter(tz).format(ms)
}

/** Every offset in use is a multiple of 15 minutes: local days and hours start on quarters. */
const QUARTER_MS = 15 * 60_000

/**
 * The instant a local day starts in `tz`: the first UTC quarter-hour whose local day is `day` or
 * later (local midnight, or the first time the day has when a change of offset skips midnight; a
 * day the zone skipped whole starts where the next one does, so it is empty).
 */
export function dayStart(day: string, tz: string): number {
  const f = formatter(tz)
  // every offset lies within ±24 h: the start is in the two days around the UTC midnight
  let lo = dayNumber(day) * 96 - 96
  let hi = dayNumber(day) * 96 + 96
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (f.format(mid * QUARTER_MS) >= day) hi = mid
    else lo = mid + 1
  }
  return lo * QUARTER_MS
}

/** The starts of the local days from `from` to `to` and of the day after: days + 1 instants. */
export function dayStarts(from: string, to: string, tz: string): number[] {
  const first = dayNumber(from)
  const count = dayCount(from, to)
  return Array.from({ length: count + 1 }, (_, i) => dayStart(dayString(first + i), tz))
}

/**
 * Whether zones `a` and `b` have the same local days from `from` to `to`: each of them starts at
 * the same instant in both. True for two names of one zone (Asia/Calcutta and Asia/Kolkata,
 * Etc/UTC and UTC), which this runtime does not resolve to one name, and for any two zones that
 * agree over the range. The ends and the middle are compared first, so most zones that differ
 * cost a few lookups.
 */
export function sameDays(a: string, b: string, from: string, to: string): boolean {
  if (a === b) return true
  const first = dayNumber(from)
  const count = dayCount(from, to)
  const differs = (i: number) => dayStart(dayString(first + i), a) !== dayStart(dayString(first + i), b)
  if ([0, count, Math.floor(count / 2)].some(differs)) return false
  for (let i = 0; i <= count; i++) if (differs(i)) return false
  return true
}

/**
 * Formatters of `options` (en-US), one per zone, each made once: at most
 * {@link FORMATTER_CACHE_SIZE} zones are kept, then they are made again.
 *
 * @example
 * const hourOf = zoneFormats({ hour: '2-digit', hourCycle: 'h23' })
 * hourOf('Asia/Tokyo').format(Date.parse('2026-11-28T00:00:00Z')) // '09'
 */
export function zoneFormats(options: Intl.DateTimeFormatOptions): (tz: string) => Intl.DateTimeFormat {
  const made = new Map<string, Intl.DateTimeFormat>()
  return (tz) => {
    let f = made.get(tz)
    if (!f) {
      f = new Intl.DateTimeFormat('en-US', { ...options, timeZone: tz })
      if (made.size >= FORMATTER_CACHE_SIZE) made.clear()
      made.set(tz, f)
    }
    return f
  }
}

/** Local wall-clock parts, for telling local hours apart. */
const clockFormatter = zoneFormats({
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
})

/**
 * The local hours in [lo, hi) (quarter boundaries): the start of each, and its local hour (0-23).
 * A local hour is a run of quarters with the same local date, hour and offset, so a day whose
 * clocks go back has its repeated hour twice (25 hours), one whose clocks go forward 23, and a
 * zone whose hours start at :30 or :45 UTC gets its own hours.
 */
export function localHours(lo: number, hi: number, tz: string): { start: number; hour: number }[] {
  const f = clockFormatter(tz)
  const hours: { start: number; hour: number }[] = []
  let previous = ''
  for (let t = lo; t < hi; t += QUARTER_MS) {
    const parts = f.formatToParts(t)
    const part = (type: string) => Number(parts.find((p) => p.type === type)!.value)
    const [year, month, date, hour, minute] = [part('year'), part('month'), part('day'), part('hour'), part('minute')]
    const offset = Date.UTC(year, month - 1, date, hour, minute) - t
    const label = `${year}-${month}-${date} ${hour} ${offset}`
    if (label !== previous) hours.push({ start: t, hour })
    previous = label
  }
  return hours
}
