/**
 * What events change in Redis, as plain data (no I/O). The group-commit batcher counts identical
 * events of concurrent requests once, then applies these ops in one round trip. Field names come
 * from the codec in fields.ts.
 */
import { BOUNDED_DIMENSIONS, type CountedEvent, propDimension, VISIT, VISIT_DIMENSIONS } from '../events/types.ts'
import { type Calendar, QUARTER_MS, quarterOf } from './calendar.ts'
import { type CappedKind, capPrefix, encodeField, type Head } from './fields.ts'
import { dayOf, hourOf, type Keys, type ShardKeys } from './keys.ts'

/** Counted in place of a browser-sent value once the day's cap for its dimension is reached. */
export const OTHER = '(other)'

export type Op =
  | { op: 'incr'; key: string; field: string; by: number }
  /** HINCRBY key `${prefix}${member}`, or `${prefix}(other)` when `member` is new and `seen` is full */
  | { op: 'capped'; seen: string; cap: number; member: string; key: string; prefix: string; by: number }
  /** PFADD key element; `recent`: the key lives minutes, not days */
  | { op: 'pfadd'; key: string; element: string; recent?: boolean }

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
}

/** A capped kind's op: a plain HINCRBY for trusted values, a capped one for browser values. */
function capped<K extends CappedKind>(
  ops: Op[],
  ctx: OpContext,
  kind: K,
  head: Head<K> & { day: string },
  cap: number | undefined,
  member: string,
  by: number,
): void {
  const key = ctx.keys.pending(kind)
  const prefix = capPrefix(kind, head)
  if (cap === undefined) ops.push({ op: 'incr', key, field: prefix + member, by })
  else {
    const dimension = 'dimension' in head ? (head.dimension as string) : undefined
    ops.push({ op: 'capped', seen: ctx.keys.seen(kind, head.day, dimension), cap, member, key, prefix, by })
  }
}

/** The ops of `by` identical events. */
export function opsFor(event: CountedEvent, ctx: OpContext, by = 1): Op[] {
  const { keys, caps } = ctx
  const day = ctx.calendar.day(event.at)
  const quarter = quarterOf(event.at)
  const type = event.type
  const ops: Op[] = [
    // the live feed's hash is of the UTC day and hour
    {
      op: 'incr',
      key: keys.liveHourly(dayOf(event.at)),
      field: encodeField('live', { type, hour: hourOf(event.at) }),
      by,
    },
    { op: 'incr', key: keys.pending('d'), field: encodeField('d', { day, type }), by },
    { op: 'incr', key: keys.pending('h'), field: encodeField('h', { quarter, type }), by },
  ]
  if (event.userId !== undefined) capped(ops, ctx, 'u', { day, type }, caps?.users, event.userId, by)
  if (event.feature !== undefined) capped(ops, ctx, 'f', { day, type }, caps?.features, event.feature, by)
  if (event.path !== undefined) capped(ops, ctx, 'p', { day }, caps?.paths, event.path, by)
  const { visit, props } = event
  if (visit) {
    // a visit is counted like an event of its own, by day and hour, and under each dimension
    ops.push(
      { op: 'incr', key: keys.pending('d'), field: encodeField('d', { day, type: VISIT }), by },
      { op: 'incr', key: keys.pending('h'), field: encodeField('h', { quarter, type: VISIT }), by },
    )
    for (const dimension of VISIT_DIMENSIONS) {
      const value = visit[dimension]
      const cap = BOUNDED_DIMENSIONS.has(dimension) ? undefined : caps?.dimensions
      if (value !== undefined) capped(ops, ctx, 'x', { day, type: VISIT, dimension }, cap, value, by)
    }
  }
  if (props) {
    for (let i = 0; i < props.length; i += 2) {
      const dimension = propDimension(props[i]!)
      capped(ops, ctx, 'x', { day, type, dimension }, caps?.dimensions, props[i + 1]!, by)
    }
  }
  return ops
}

/**
 * The ops of a day's visitor hashes: adds to the (global) HyperLogLog, and a mark in the shard for
 * the flusher to re-read the day's estimate.
 */
export function visitorOps(shard: ShardKeys, keys: Keys, day: string, hashes: Iterable<string>): Op[] {
  const ops: Op[] = [{ op: 'incr', key: shard.pending('v'), field: encodeField('v', { day }), by: 1 }]
  for (const element of hashes) ops.push({ op: 'pfadd', key: keys.visitors(day), element })
  return ops
}

/** The ops of the visitor hashes seen in one minute: the recent visitors (`visitors_now`). */
export function recentVisitorOps(keys: Keys, minute: number, hashes: Iterable<string>): Op[] {
  const ops: Op[] = []
  for (const element of hashes) ops.push({ op: 'pfadd', key: keys.recentVisitors(minute), element, recent: true })
  return ops
}

/**
 * Identity of an event for counting: events with the same signature produce the same ops, so a
 * batch stores each signature once with a multiplicity. Fields are joined with a separator no
 * validated value can contain (control characters are refused at ingest).
 */
export function signature(event: CountedEvent, capped: boolean): string {
  let sig = `${capped ? 'b' : 's'}\u0001${event.type}\u0001${Math.floor(event.at / QUARTER_MS)}\u0001${event.userId ?? ''}\u0002${event.feature ?? ''}\u0002${event.path ?? ''}\u0001${event.userId === undefined ? 0 : 1}${event.feature === undefined ? 0 : 1}${event.path === undefined ? 0 : 1}`
  const { visit, props } = event
  if (visit) {
    sig += '\u0003'
    for (const dimension of VISIT_DIMENSIONS) sig += `${visit[dimension] ?? '\u0004'}\u0002`
  }
  if (props) sig += `\u0005${props.join('\u0002')}`
  return sig
}
