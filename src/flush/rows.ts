/**
 * Snapshot hashes decoded into table rows (pure), through the field codec of
 * src/counters/fields.ts.
 */
import { decodeField } from '../counters/fields.ts'
import type { PendingKind } from '../counters/keys.ts'

export interface Rows {
  daily: { type: string[]; day: string[]; count: number[] }
  hourly: { type: string[]; hour: string[]; count: number[] }
  user: { user: string[]; type: string[]; day: string[]; count: number[] }
  feature: { type: string[]; feature: string[]; day: string[]; count: number[] }
  page: { path: string[]; day: string[]; count: number[] }
  /** days whose unique-visitor estimate must be re-read */
  visitorDays: string[]
  /** distinct counters in the snapshot */
  counters: number
}

export type SnapshotHashes = Partial<Record<PendingKind, Record<string, string>>>

/** Sorted entries: rows are written in key order so concurrent upserts lock in the same order. */
const sorted = (hash: Record<string, string> | undefined) =>
  Object.entries(hash ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

export function toRows(snapshot: SnapshotHashes): Rows {
  const rows: Rows = {
    daily: { type: [], day: [], count: [] },
    hourly: { type: [], hour: [], count: [] },
    user: { user: [], type: [], day: [], count: [] },
    feature: { type: [], feature: [], day: [], count: [] },
    page: { path: [], day: [], count: [] },
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
    const { hour, type } = decodeField('h', field)
    rows.hourly.hour.push(`${hour}:00:00Z`)
    rows.hourly.type.push(type)
    rows.hourly.count.push(Number(value))
  }
  for (const [field, value] of sorted(snapshot.u)) {
    const { day, type, value: user } = decodeField('u', field)
    rows.user.day.push(day)
    rows.user.type.push(type)
    rows.user.user.push(user)
    rows.user.count.push(Number(value))
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
  rows.visitorDays = sorted(snapshot.v).map(([field]) => decodeField('v', field).day)
  rows.counters =
    rows.daily.day.length +
    rows.hourly.hour.length +
    rows.user.user.length +
    rows.feature.feature.length +
    rows.page.path.length +
    rows.visitorDays.length
  return rows
}
