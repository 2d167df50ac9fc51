/**
 * What events change in Redis, written as ops into a sink (no I/O). The group-commit batcher
 * counts identical events of concurrent requests once, then applies these ops in one round trip.
 * Field names come from the codec in fields.ts.
 */
import { type CountedEvent, propDimension } from '../events/types.ts'
import { encodeHead } from '../log/row.ts'
import { type Calendar, quarterOf } from './calendar.ts'
import type { CappedKind } from './fields.ts'
import { dayOf, hourOf, type Keys, type ShardKeys } from './keys.ts'
import { Names } from './names.ts'

export interface Caps {
  users: number
  features: number
  paths: number
  /** per dimension (each visit dimension, each counted property) */
  dimensions: number
}

export interface OpContext {
  /** the shard the batch goes to */
  keys: ShardKeys
  /** the days the counters count in (TIME_ZONE) */
  calendar: Calendar
  /** browser-sent values are capped per day; server values are trusted */
  caps?: Caps
  /** where the keys and fields are built once and reused (one per group commit) */
  names?: Names
}

/** For callers without their own (tests, tools). */
const sharedNames = new Names()

/**
 * Where counting an event writes its ops: the group commit merges them straight into its batch
 * (merge.ts), with no op object made per event.
 */
export interface CounterSink {
  incr(key: string, field: string, by: number): void
  /** returns what the member counts as, or a mark for the script to replace (merge.ts) */
  capped(seen: string, cap: number, member: string, key: string, prefix: string, by: number): string
  pfadd(key: string, element: string, recent: boolean): void
}

/**
 * A capped kind's op: a plain HINCRBY for trusted values, a capped one for browser values.
 * Returns what the value counts as (see {@link CounterSink.capped}).
 */
function capped(
  sink: CounterSink,
  ctx: OpContext,
  names: Names,
  kind: CappedKind,
  day: string,
  type: string,
  dimension: string | undefined,
  cap: number | undefined,
  member: string,
  by: number,
): string {
  const key = ctx.keys.pending(kind)
  const prefix = names.prefix(kind, day, type, dimension)
  if (cap === undefined) {
    sink.incr(key, prefix + member, by)
    return member
  }
  return sink.capped(names.seenKey(ctx.keys, kind, day, dimension), cap, member, key, prefix, by)
}

/**
 * Counts `by` identical events into `sink`, and returns the event's log row as counted (its own
 * fields: the script adds its visit; see src/log/row.ts). A visit is counted by the script, which
 * alone knows whether the event begins one.
 */
export function countEvent(event: CountedEvent, ctx: OpContext, by: number, sink: CounterSink): string {
  const { keys, caps } = ctx
  const names = ctx.names ?? sharedNames
  const day = ctx.calendar.day(event.at)
  const quarter = quarterOf(event.at)
  const type = event.type
  // the live feed's hours are of the UTC day; what "today" says, its count and its hours, of TIME_ZONE's
  sink.incr(names.liveKey(keys, dayOf(event.at)), names.liveField(type, hourOf(event.at)), by)
  const liveDay = names.liveDayKey(keys, day)
  sink.incr(liveDay, names.liveDayField(type), by)
  sink.incr(liveDay, names.liveDayHourField(type, ctx.calendar.hour(event.at)), by)
  sink.incr(keys.pending('d'), names.dayField(day, type), by)
  sink.incr(keys.pending('h'), names.quarterField(quarter, type), by)
  const userId =
    event.userId === undefined
      ? undefined
      : capped(sink, ctx, names, 'u', day, type, undefined, caps?.users, event.userId, by)
  const feature =
    event.feature === undefined
      ? undefined
      : capped(sink, ctx, names, 'f', day, type, undefined, caps?.features, event.feature, by)
  const path =
    event.path === undefined
      ? undefined
      : capped(sink, ctx, names, 'p', day, '', undefined, caps?.paths, event.path, by)
  const { props } = event
  let logged = event.logProps
  if (props) {
    const counted: string[] = []
    for (let i = 0; i < props.length; i += 2) {
      const key = props[i]!
      counted.push(
        key,
        capped(sink, ctx, names, 'x', day, type, propDimension(key), caps?.dimensions, props[i + 1]!, by),
      )
    }
    logged = logged ? [...counted, ...logged] : counted
  }
  return encodeHead({ at: event.at, type, path, hostname: event.hostname, feature, userId, props: logged })
}

/**
 * Counts a day's visitor hashes into `sink`: adds to the (global) HyperLogLog, and a mark in the
 * shard for the flusher to re-read the day's estimate.
 */
export function countVisitors(sink: CounterSink, shard: ShardKeys, keys: Keys, day: string, hashes: Iterable<string>) {
  sink.incr(shard.pending('v'), sharedNames.visitorDayField(day), 1)
  const key = keys.visitors(day)
  for (const element of hashes) sink.pfadd(key, element, false)
}

/** Counts the visitor hashes seen in one minute into `sink`: the recent visitors (`visitors_now`). */
export function countRecentVisitors(sink: CounterSink, keys: Keys, minute: number, hashes: Iterable<string>) {
  const key = keys.recentVisitors(minute)
  for (const element of hashes) sink.pfadd(key, element, true)
}
