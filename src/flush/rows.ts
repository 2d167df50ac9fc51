/**
 * Snapshot hashes decoded into table rows (pure), through the field codec of
 * src/counters/fields.ts.
 */
import { decodeField } from '../counters/fields.ts'
import type { PendingKind } from '../counters/keys.ts'

export interface Rows {
  daily: { type: string[]; day: string[]; count: number[] }
  /** by UTC quarter-hour: `at` is its start, an ISO instant */
  quarters: { type: string[]; at: string[]; count: number[] }
  user: { user: string[]; type: string[]; day: string[]; count: number[] }
  feature: { type: string[]; feature: string[]; day: string[]; count: number[] }
  page: { path: string[]; day: string[]; count: number[] }
  dimension: { dimension: string[]; type: string[]; day: string[]; value: string[]; count: number[] }
  /** each user of `user` once, sorted by id, with the earliest day the snapshot has for them */
  users: { user: string[]; firstSeen: string[] }
  /** days whose unique-visitor estimate must be re-read */
  visitorDays: string[]
  /** distinct counters in the snapshot */
  counters: number
}

export type SnapshotHashes = Partial<Record<PendingKind, Record<string, string>>>

/** Sorted entries: rows are written in key order so concurrent upserts lock in the same order. */
const byKey = ([a]: [string, string], [b]: [string, string]) => (a < b ? -1 : a > b ? 1 : 0)
const sorted = (hash: Record<string, string> | undefined) => Object.entries(hash ?? {}).sort(byKey)

export function toRows(snapshot: SnapshotHashes): Rows {
  const rows: Rows = {
    daily: { type: [], day: [], count: [] },
    quarters: { type: [], at: [], count: [] },
    user: { user: [], type: [], day: [], count: [] },
    feature: { type: [], feature: [], day: [], count: [] },
    page: { path: [], day: [], count: [] },
    dimension: { dimension: [], type: [], day: [], value: [], count: [] },
    users: { user: [], firstSeen: [] },
    visitorDays: [],
    counters: 0,
  }
  for (const [field, value] of sorted(snapshot.d)) {
    const { day, type } = decodeField('d', field)
    rows.daily.day.push(day)
    rows.daily.type.push(type)
    rows.daily.count.push(Number(value))
  }
  for (const [field, value] of sorted(snapshot.h)) {
    const { quarter, type } = decodeField('h', field)
    rows.quarters.at.push(`${quarter}:00Z`)
    rows.quarters.type.push(type)
    rows.quarters.count.push(Number(value))
  }
  const firstSeen = new Map<string, string>()
  for (const [field, value] of sorted(snapshot.u)) {
    const { day, type, value: user } = decodeField('u', field)
    rows.user.day.push(day)
    rows.user.type.push(type)
    rows.user.user.push(user)
    rows.user.count.push(Number(value))
    // fields sort by day first, so a user's first row holds their earliest day
    if (!firstSeen.has(user!)) firstSeen.set(user!, day!)
  }
  for (const [user, day] of [...firstSeen].sort(byKey)) {
    rows.users.user.push(user)
    rows.users.firstSeen.push(day)
  }
  for (const [field, value] of sorted(snapshot.f)) {
    const { day, type, value: feature } = decodeField('f', field)
    rows.feature.day.push(day)
    rows.feature.type.push(type)
    rows.feature.feature.push(feature)
    rows.feature.count.push(Number(value))
  }
  for (const [field, value] of sorted(snapshot.p)) {
    const { day, value: path } = decodeField('p', field)
    rows.page.day.push(day)
    rows.page.path.push(path)
    rows.page.count.push(Number(value))
  }
  for (const [field, count] of sorted(snapshot.x)) {
    const { day, type, dimension, value } = decodeField('x', field)
    rows.dimension.dimension.push(dimension)
    rows.dimension.type.push(type)
    rows.dimension.day.push(day)
    rows.dimension.value.push(value)
    rows.dimension.count.push(Number(count))
  }
  rows.visitorDays = sorted(snapshot.v).map(([field]) => decodeField('v', field).day)
  rows.counters =
    rows.daily.day.length +
    rows.quarters.at.length +
    rows.user.user.length +
    rows.feature.feature.length +
    rows.page.path.length +
    rows.dimension.value.length +
    rows.visitorDays.length
  return rows
}
