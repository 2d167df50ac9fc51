/**
 * The live screen's day as the feed last described it: today in TIME_ZONE (its day, its hour now
 * and each watched type's count and 24 local hours), and the visitors; from a `snapshot`, then
 * each `counts` (pure, no DOM). A server that sends no local hours is shown its UTC day, as before.
 *
 * @example
 * const day = dayOf(snapshot)
 * const { changed, hourMoved } = applyCounts(day, counts) // day updated in place
 */
import type { EventType } from '../events/types.ts'
import type { CountsData, SnapshotData } from '../live/state.ts'

export interface Day {
  /** `YYYY-MM-DD` of `zone` */
  day: string
  /** the hour now, 0-23, in `zone` */
  hour: number
  zone: string
  visitors: number
  visitorsNow: number
  /** each watched type's count of the day */
  totals: Map<EventType, number>
  /** each watched type's 24 hourly counts */
  hours: Map<EventType, number[]>
  /** whether the server sends today's hours in TIME_ZONE (else the UTC day's stand in) */
  zoned: boolean
}

type WithVisitorsNow<T> = T & { visitors_now?: number }

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)

export function dayOf(s: WithVisitorsNow<SnapshotData>): Day {
  const types = Object.keys(s.types) as EventType[]
  const today = s.today?.hours ? s.today : undefined
  const hours = new Map<EventType, number[]>()
  const totals = new Map<EventType, number>()
  for (const type of types) {
    const local = today?.hours[type]
    const h = Array.isArray(local) ? local.slice() : s.types[type]!.hours.slice()
    hours.set(type, h)
    totals.set(type, today ? (today.totals[type] ?? sum(h)) : sum(h))
  }
  return {
    day: today?.day ?? s.day,
    hour: today?.hour ?? s.hour,
    zone: today?.time_zone ?? 'UTC',
    visitors: s.visitors,
    visitorsNow: s.visitors_now ?? 0,
    totals,
    hours,
    zoned: today !== undefined,
  }
}

/** Takes `counts` into `day`: the types whose numbers changed, and whether the hour moved on. */
export function applyCounts(day: Day, c: WithVisitorsNow<CountsData>): { changed: EventType[]; hourMoved: boolean } {
  if (c.visitors !== undefined) day.visitors = c.visitors
  if (c.visitors_now !== undefined) day.visitorsNow = c.visitors_now
  const changed = new Set<EventType>()
  const put = (type: EventType, byHour: Record<number, number>) => {
    const hours = day.hours.get(type)
    if (!hours) return
    for (const [h, n] of Object.entries(byHour)) hours[Number(h)] = n
    changed.add(type)
  }
  let next = { day: c.day, hour: c.hour }
  if (day.zoned) {
    const today = c.today
    if (today) {
      next = { day: today.day, hour: today.hour }
      for (const [type, n] of Object.entries(today.totals) as [EventType, number][]) {
        if (!day.totals.has(type)) continue
        day.totals.set(type, n)
        changed.add(type)
      }
      // the hours that differ from the last message's, across a new day too: the others stay
      for (const [type, byHour] of Object.entries(today.hours ?? {}) as [EventType, Record<number, number>][])
        put(type, byHour)
    } else next = { day: day.day, hour: day.hour }
  } else {
    for (const [type, t] of Object.entries(c.types) as [EventType, { hours: Record<number, number> }][]) {
      put(type, t.hours)
      day.totals.set(type, sum(day.hours.get(type) ?? []))
    }
  }
  const hourMoved = next.hour !== day.hour || next.day !== day.day
  day.day = next.day
  day.hour = next.hour
  return { changed: [...changed], hourMoved }
}
