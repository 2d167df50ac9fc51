/**
 * The live screen's day as the feed last described it: the hour now, the visitors, and each
 * watched type's 24 hourly counts, from a `snapshot` and then each `counts` (pure, no DOM).
 *
 * @example
 * let day = dayOf(snapshot)
 * const { changed, hourMoved } = applyCounts(day, counts) // day updated in place
 */
import type { EventType } from '../events/types.ts'
import type { CountsData, SnapshotData } from '../live/state.ts'

export interface Day {
  day: string
  hour: number
  visitors: number
  visitorsNow: number
  /** each watched type's 24 hourly counts */
  types: Map<EventType, number[]>
}

type WithVisitorsNow<T> = T & { visitors_now?: number }

export function dayOf(s: WithVisitorsNow<SnapshotData>): Day {
  const types = new Map<EventType, number[]>()
  for (const [type, t] of Object.entries(s.types)) types.set(type as EventType, t.hours.slice())
  return { day: s.day, hour: s.hour, visitors: s.visitors, visitorsNow: s.visitors_now ?? 0, types }
}

/** Takes `counts` into `day`: the types whose hours changed, and whether the hour moved on. */
export function applyCounts(day: Day, c: WithVisitorsNow<CountsData>): { changed: EventType[]; hourMoved: boolean } {
  const hourMoved = c.hour !== day.hour || c.day !== day.day
  day.day = c.day
  day.hour = c.hour
  if (c.visitors !== undefined) day.visitors = c.visitors
  if (c.visitors_now !== undefined) day.visitorsNow = c.visitors_now
  const changed: EventType[] = []
  for (const [type, t] of Object.entries(c.types)) {
    const hours = day.types.get(type as EventType)
    if (!hours) continue
    for (const [h, n] of Object.entries(t.hours)) hours[Number(h)] = n
    changed.push(type as EventType)
  }
  return { changed, hourMoved }
}
