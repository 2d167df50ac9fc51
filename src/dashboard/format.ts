/**
 * Numbers and days as the page shows them. The exact integers stay in `data-value` attributes;
 * what is shown is for reading at a glance.
 *
 * @example
 * formatCount(1234) // '1,234'
 * formatCount(2_345_678) // '2.35M'
 * change(120, 100) // { text: '+20%', direction: 'up' }
 * dayLabel('2026-11-28') // 'Sat, Nov 28, 2026'
 */
import { zoneFormats } from '../time.ts'

const whole = new Intl.NumberFormat('en-US')
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 })
const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 })

export const formatExact = (n: number): string => whole.format(n)

/** Up to six digits in full; beyond, compact (the exact number is in a title or an attribute). */
export const formatCount = (n: number): string => (Math.abs(n) < 1_000_000 ? whole.format(n) : compact.format(n))

export const formatShare = (fraction: number): string => percent.format(fraction)

const megabytes = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })

/** Memory in MB (of 2^20 bytes, as Redis counts `maxmemory 4mb`). */
export const formatBytes = (bytes: number): string => `${megabytes.format(bytes / 2 ** 20)} MB`

/** A service as its users write it. */
export const serviceName = (service: 'postgres' | 'redis'): string => (service === 'postgres' ? 'Postgres' : 'Redis')

export interface Change {
  text: string
  direction: 'up' | 'down' | 'flat' | 'new'
}

/** The change from the previous period's value, in whole percent. */
export function change(current: number, previous: number): Change {
  if (previous === 0) return current === 0 ? { text: '0%', direction: 'flat' } : { text: 'new', direction: 'new' }
  const pct = Math.round(((current - previous) / previous) * 100)
  if (pct === 0) return { text: '0%', direction: 'flat' }
  return { text: `${pct > 0 ? '+' : '−'}${Math.abs(pct)}%`, direction: pct > 0 ? 'up' : 'down' }
}

const dayFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC',
  weekday: 'short',
  month: 'short',
  day: 'numeric',
  year: 'numeric',
})
const shortDayFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' })

/** A `YYYY-MM-DD` day, spelled out: 'Sat, Nov 28, 2026'. */
export const dayLabel = (day: string): string => dayFormat.format(Date.parse(`${day}T00:00:00Z`))

const monthFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', year: 'numeric' })

/** The month of a `YYYY-MM-DD` day: 'Nov 2026'. */
export const monthLabel = (day: string): string => monthFormat.format(Date.parse(`${day}T00:00:00Z`))

/** A range of days, short: 'Oct 30 – Nov 28, 2026', or one day. */
export function rangeLabel(from: string, to: string): string {
  const year = (d: string) => d.slice(0, 4)
  const short = (d: string) => shortDayFormat.format(Date.parse(`${d}T00:00:00Z`))
  if (from === to) return dayLabel(from)
  if (year(from) === year(to)) return `${short(from)} – ${short(to)}, ${year(to)}`
  return `${short(from)}, ${year(from)} – ${short(to)}, ${year(to)}`
}

const hourFormat = zoneFormats({ month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

/** An hour's start in a zone: 'Nov 28, 14:00'. */
export function hourLabel(ms: number, tz: string): string {
  return hourFormat(tz).format(ms)
}
