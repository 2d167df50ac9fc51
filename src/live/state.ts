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
  /** the local hour now, 0-23 */
  hour: number
  /** every event type's count of that day */
  totals: Record<EventType, number>
  /** every event type's 24 counts of that day's local hours (the repeated hour of a day whose clocks go back holds both) */
  hours: Record<EventType, number[]>
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
  /** the local hour now */
  hour: number
  totals: Partial<Record<EventType, number>>
  /** a snapshot's: the 24 local hours of each watched type; counts': only the changed hours (hour → full count) */
  hours: Partial<Record<EventType, number[] | Record<number, number>>>
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
  /** the local hour of TIME_ZONE moved on */
  todayHourChanged: boolean
  /** the types whose count of today (in TIME_ZONE) changed */
  todayChanged: Set<EventType>
  /** changed local hours of today per type */
  todayHours: Map<EventType, number[]>
}

export function clockOf(ms: number): Clock {
  const iso = new Date(ms).toISOString()
  return { day: iso.slice(0, 10), hour: Number(iso.slice(11, 13)) }
}

const emptyHours = () =>
  Object.fromEntries(EVENT_TYPES.map((t) => [t, new Array<number>(HOURS).fill(0)])) as Record<EventType, number[]>

/** Puts an hour's count into `hours`; the write path owns these hashes, so anything else is ignored rather than shown. */
function putHour(hours: Record<EventType, number[]>, type: string, hourText: string, raw: string) {
  const hour = hourText === '' ? Number.NaN : Number(hourText)
  const count = Number(raw)
  if (!isEventType(type) || !Number.isInteger(hour) || hour < 0 || hour >= HOURS || !Number.isFinite(count)) return
  hours[type][hour] = count
}

/**
 * Builds the state from the live hash's fields (kind `live` of fields.ts → count), the visitor
 * counts and today in TIME_ZONE: its counts and local hours (the live daily hash's fields, kinds
 * `ld` and `lh`) and the local hour now. Without it, the UTC day stands for today, as in UTC.
 */
export function liveState(
  fields: Record<string, string>,
  visitors: { today: number; now: number },
  clock: Clock,
  today?: { day: string; timeZone: string; hour: number; fields: Record<string, string> },
): LiveState {
  const hours = emptyHours()
  for (const [field, raw] of Object.entries(fields)) {
    const { type, hour } = decodeField('live', field)
    putHour(hours, type, hour, raw)
  }
  if (!today) {
    const totals = Object.fromEntries(EVENT_TYPES.map((t) => [t, sum(hours[t])])) as Record<EventType, number>
    const zoneDay = { day: clock.day, timeZone: 'UTC', hour: clock.hour, totals, hours }
    return { ...clock, hours, today: zoneDay, visitors: visitors.today, visitorsNow: visitors.now }
  }
  const totals = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>
  const localHours = emptyHours()
  for (const [field, raw] of Object.entries(today.fields)) {
    if (field.includes('|')) {
      const { type, hour } = decodeField('lh', field)
      putHour(localHours, type, hour, raw)
      continue
    }
    const { type } = decodeField('ld', field)
    const count = Number(raw)
    if (isEventType(type) && Number.isFinite(count)) totals[type] = count
  }
  return {
    day: clock.day,
    hour: clock.hour,
    hours,
    today: { day: today.day, timeZone: today.timeZone, hour: today.hour, totals, hours: localHours },
    visitors: visitors.today,
    visitorsNow: visitors.now,
  }
}

/** Per type, the hours whose counts differ between two sets of 24. */
function changedHours(a: Record<EventType, number[]>, b: Record<EventType, number[]>): Map<EventType, number[]> {
  const changed = new Map<EventType, number[]>()
  for (const type of EVENT_TYPES) {
    const hours: number[] = []
    for (let h = 0; h < HOURS; h++) if (a[type][h] !== b[type][h]) hours.push(h)
    if (hours.length > 0) changed.set(type, hours)
  }
  return changed
}

/**
 * What changed from `prev` to `next`: undefined when nothing did; `'snapshot'` when the day
 * rolled over, since every client then needs the new, nearly empty day as a whole.
 */
export function diffStates(prev: LiveState, next: LiveState): LiveDiff | 'snapshot' | undefined {
  if (prev.day !== next.day) return 'snapshot'
  const changed = changedHours(prev.hours, next.hours)
  const todayHours = changedHours(prev.today.hours, next.today.hours)
  const todayHourChanged = prev.today.hour !== next.today.hour
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
    !todayHourChanged &&
    todayChanged.size === 0 &&
    todayHours.size === 0
  )
    return undefined
  return {
    hourChanged,
    visitorsChanged,
    visitorsNowChanged,
    changed,
    todayDayChanged,
    todayHourChanged,
    todayChanged,
    todayHours,
  }
}

function sum(xs: readonly number[]): number {
  let n = 0
  for (const x of xs) n += x
  return n
}

/** `today` of a snapshot for a client that watches `types`: every count and every hour. */
function todayFor(state: LiveState, types?: readonly EventType[]): TodayData {
  const totals: TodayData['totals'] = {}
  const hours: TodayData['hours'] = {}
  for (const type of types ?? EVENT_TYPES) {
    totals[type] = state.today.totals[type]
    hours[type] = [...state.today.hours[type]]
  }
  return { day: state.today.day, time_zone: state.today.timeZone, hour: state.today.hour, totals, hours }
}

/**
 * `today` of a diff for a client that watches `types`: the changed counts (all of them when the
 * day moved on) and the changed hours; undefined when nothing of it changed.
 */
function todayChangesFor(diff: LiveDiff, next: LiveState, types?: readonly EventType[]): TodayData | undefined {
  const totals: TodayData['totals'] = {}
  const hours: TodayData['hours'] = {}
  let any = diff.todayDayChanged || diff.todayHourChanged
  for (const type of types ?? EVENT_TYPES) {
    if (diff.todayDayChanged || diff.todayChanged.has(type)) {
      totals[type] = next.today.totals[type]
      any = true
    }
    const changed = diff.todayHours.get(type)
    if (changed) {
      hours[type] = Object.fromEntries(changed.map((h) => [h, next.today.hours[type][h]!]))
      any = true
    }
  }
  if (!any) return undefined
  return { day: next.today.day, time_zone: next.today.timeZone, hour: next.today.hour, totals, hours }
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
  const today = todayChangesFor(diff, next, types)
  if (!any && !diff.hourChanged && !diff.visitorsChanged && !diff.visitorsNowChanged && !today) return undefined
  const data: CountsData = { day: next.day, hour: next.hour, types: out }
  if (diff.visitorsChanged) data.visitors = next.visitors
  if (diff.visitorsNowChanged) data.visitors_now = next.visitorsNow
  if (today) data.today = today
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
