/**
 * Today's live counts as plain data, and the pure steps of the feed: building them from one read
 * of Redis, finding what changed between two reads, and shaping the `snapshot` and `counts`
 * payloads a client sees (filtered by the event types it asked for).
 *
 * @example
 * const prev = liveState({ 'page_view|09': '3' }, { today: 1, now: 1 }, clockOf(now))
 * const next = liveState({ 'page_view|09': '5' }, { today: 2, now: 1 }, clockOf(now))
 * countsFor(diffStates(prev, next) as LiveDiff, next)
 * // { day, hour: 9, types: { page_view: { total: 5, hours: { 9: 5 } } }, visitors: 2,
 * //   today: { day, time_zone: 'UTC', totals: { page_view: 5 } } }
 */
import { decodeField } from '../counters/fields.ts'
import { EVENT_TYPES, type EventType, isEventType } from '../events/types.ts'

export const HOURS = 24

/** Where the feed is in time: the UTC day whose hash it reads and the current UTC hour. */
export interface Clock {
  /** `YYYY-MM-DD` */
  day: string
  /** 0-23 */
  hour: number
}

/** Today in TIME_ZONE, which the hours of the UTC day do not make when the zone is not UTC. */
export interface ZoneToday {
  /** `YYYY-MM-DD` of TIME_ZONE */
  day: string
  timeZone: string
  /** every event type's count of that day */
  totals: Record<EventType, number>
}

export interface LiveState extends Clock {
  /** for every event type, its 24 hourly counts of the day */
  hours: Record<EventType, number[]>
  today: ZoneToday
  /** today's unique visitors (today in TIME_ZONE; HyperLogLog estimate) */
  visitors: number
  /** unique visitors of the last 5 minutes */
  visitorsNow: number
}

/** `today` on the wire: the day of TIME_ZONE, the zone, and the watched types' counts of it. */
export interface TodayData {
  day: string
  time_zone: string
  totals: Partial<Record<EventType, number>>
}

export interface SnapshotData extends Clock {
  visitors: number
  visitors_now: number
  types: Partial<Record<EventType, { total: number; hours: number[] }>>
  today: TodayData
}

export interface CountsData extends Clock {
  /** present only when it changed */
  visitors?: number
  /** present only when it changed */
  visitors_now?: number
  /** only the types with a changed hour; `hours` maps an hour (0-23) to its new full count */
  types: Partial<Record<EventType, { total: number; hours: Record<number, number> }>>
  /** present only when its day or a watched type's count changed: the changed types' counts (all watched types' when the day changed) */
  today?: TodayData
}

/** What changed between two reads of the same day. */
export interface LiveDiff {
  hourChanged: boolean
  visitorsChanged: boolean
  visitorsNowChanged: boolean
  /** changed hours per type */
  changed: Map<EventType, number[]>
  /** the day of TIME_ZONE moved on */
  todayDayChanged: boolean
  /** the types whose count of today (in TIME_ZONE) changed */
  todayChanged: Set<EventType>
}

export function clockOf(ms: number): Clock {
  const iso = new Date(ms).toISOString()
  return { day: iso.slice(0, 10), hour: Number(iso.slice(11, 13)) }
}

/**
 * Builds the state from the live hash's fields (kind `live` of fields.ts → count), the visitor
 * counts and today's counts in TIME_ZONE (the live daily hash's fields, kind `ld`; without them,
 * the UTC day's hours added up, as in UTC).
 */
export function liveState(
  fields: Record<string, string>,
  visitors: { today: number; now: number },
  clock: Clock,
  today?: { day: string; timeZone: string; fields: Record<string, string> },
): LiveState {
  const hours = Object.fromEntries(EVENT_TYPES.map((t) => [t, new Array<number>(HOURS).fill(0)])) as Record<
    EventType,
    number[]
  >
  for (const [field, raw] of Object.entries(fields)) {
    const parts = decodeField('live', field)
    const type = parts.type
    const hour = parts.hour === '' ? Number.NaN : Number(parts.hour)
    const count = Number(raw)
    // the write path owns this hash; anything else in it is ignored rather than shown
    if (!isEventType(type) || !Number.isInteger(hour) || hour < 0 || hour >= HOURS || !Number.isFinite(count)) continue
    hours[type][hour] = count
  }
  const totals = Object.fromEntries(EVENT_TYPES.map((t) => [t, today ? 0 : sum(hours[t])])) as Record<EventType, number>
  for (const [field, raw] of Object.entries(today?.fields ?? {})) {
    const { type } = decodeField('ld', field)
    const count = Number(raw)
    if (isEventType(type) && Number.isFinite(count)) totals[type] = count
  }
  return {
    day: clock.day,
    hour: clock.hour,
    hours,
    today: { day: today?.day ?? clock.day, timeZone: today?.timeZone ?? 'UTC', totals },
    visitors: visitors.today,
    visitorsNow: visitors.now,
  }
}

/**
 * What changed from `prev` to `next`: undefined when nothing did; `'snapshot'` when the day
 * rolled over, since every client then needs the new, nearly empty day as a whole.
 */
export function diffStates(prev: LiveState, next: LiveState): LiveDiff | 'snapshot' | undefined {
  if (prev.day !== next.day) return 'snapshot'
  const changed = new Map<EventType, number[]>()
  for (const type of EVENT_TYPES) {
    const a = prev.hours[type]
    const b = next.hours[type]
    const hours: number[] = []
    for (let h = 0; h < HOURS; h++) if (a[h] !== b[h]) hours.push(h)
    if (hours.length > 0) changed.set(type, hours)
  }
  const hourChanged = prev.hour !== next.hour
  const visitorsChanged = prev.visitors !== next.visitors
  const visitorsNowChanged = prev.visitorsNow !== next.visitorsNow
  const todayDayChanged = prev.today.day !== next.today.day
  const todayChanged = new Set(EVENT_TYPES.filter((t) => prev.today.totals[t] !== next.today.totals[t]))
  if (
    changed.size === 0 &&
    !hourChanged &&
    !visitorsChanged &&
    !visitorsNowChanged &&
    !todayDayChanged &&
    todayChanged.size === 0
  )
    return undefined
  return { hourChanged, visitorsChanged, visitorsNowChanged, changed, todayDayChanged, todayChanged }
}

function sum(xs: readonly number[]): number {
  let n = 0
  for (const x of xs) n += x
  return n
}

/** `today` for a client that watches `types`, with only the types `only` holds when given. */
function todayFor(state: LiveState, types?: readonly EventType[], only?: ReadonlySet<EventType>): TodayData {
  const totals: TodayData['totals'] = {}
  for (const type of types ?? EVENT_TYPES) if (!only || only.has(type)) totals[type] = state.today.totals[type]
  return { day: state.today.day, time_zone: state.today.timeZone, totals }
}

/** The whole day for a client that watches `types` (all types when undefined). */
export function snapshotFor(state: LiveState, types?: readonly EventType[]): SnapshotData {
  const out: SnapshotData['types'] = {}
  for (const type of types ?? EVENT_TYPES) {
    const hours = state.hours[type]
    out[type] = { total: sum(hours), hours: [...hours] }
  }
  return {
    day: state.day,
    hour: state.hour,
    visitors: state.visitors,
    visitors_now: state.visitorsNow,
    types: out,
    today: todayFor(state, types),
  }
}

/**
 * The `counts` payload of a diff for a client that watches `types`; undefined when nothing it
 * watches changed (it then gets no message this tick).
 */
export function countsFor(diff: LiveDiff, next: LiveState, types?: readonly EventType[]): CountsData | undefined {
  const out: CountsData['types'] = {}
  let any = false
  for (const type of types ?? EVENT_TYPES) {
    const hours = diff.changed.get(type)
    if (!hours) continue
    const all = next.hours[type]
    out[type] = { total: sum(all), hours: Object.fromEntries(hours.map((h) => [h, all[h]!])) }
    any = true
  }
  const todayChanged = diff.todayDayChanged || (types ?? EVENT_TYPES).some((t) => diff.todayChanged.has(t))
  if (!any && !diff.hourChanged && !diff.visitorsChanged && !diff.visitorsNowChanged && !todayChanged) return undefined
  const data: CountsData = { day: next.day, hour: next.hour, types: out }
  if (diff.visitorsChanged) data.visitors = next.visitors
  if (diff.visitorsNowChanged) data.visitors_now = next.visitorsNow
  if (todayChanged) data.today = todayFor(next, types, diff.todayDayChanged ? undefined : diff.todayChanged)
  return data
}

/**
 * Parses `?types=page_view,feature_used`: undefined for all types (absent or empty), the listed
 * types in the contract's order, or the names that are not event types.
 */
export function parseTypes(raw: string | null | undefined): { types?: EventType[]; unknown: string[] } {
  const names = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (names.length === 0) return { unknown: [] }
  const unknown = names.filter((n) => !isEventType(n))
  if (unknown.length > 0) return { unknown }
  const wanted = new Set(names)
  return { types: EVENT_TYPES.filter((t) => wanted.has(t)), unknown: [] }
}
