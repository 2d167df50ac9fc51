/**
 * The counter ops of events as data, for tests: the service counts straight into its batch's maps
 * (a CounterSink, merge.ts) and never makes these objects.
 *
 * @example
 * opsFor({ type: 'page_view', at: Date.now(), path: '/a' }, { keys: shard, calendar: utcCalendar })
 */
import { type CounterSink, countEvent, countVisitors, type OpContext } from '../src/counters/increments.ts'
import type { Keys, ShardKeys } from '../src/counters/keys.ts'
import type { CountedEvent } from '../src/events/types.ts'

export type Op =
  | { op: 'incr'; key: string; field: string; by: number }
  /** HINCRBY key `${prefix}${member}`, or `${prefix}(other)` when `member` is new and `seen` is full */
  | { op: 'capped'; seen: string; cap: number; member: string; key: string; prefix: string; by: number }
  /** PFADD key element; `recent`: the key lives minutes, not days */
  | { op: 'pfadd'; key: string; element: string; recent?: boolean }

/** A sink that keeps the ops as data. */
export function collect(ops: Op[]): CounterSink {
  return {
    incr: (key, field, by) => ops.push({ op: 'incr', key, field, by }),
    capped: (seen, cap, member, key, prefix, by) => {
      ops.push({ op: 'capped', seen, cap, member, key, prefix, by })
      return member
    },
    pfadd: (key, element, recent) =>
      ops.push(recent ? { op: 'pfadd', key, element, recent } : { op: 'pfadd', key, element }),
  }
}

/** The ops of `by` identical events. */
export function opsFor(event: CountedEvent, ctx: OpContext, by = 1): Op[] {
  const ops: Op[] = []
  countEvent(event, ctx, by, collect(ops))
  return ops
}

/** The ops of a day's visitor hashes. */
export function visitorOps(shard: ShardKeys, keys: Keys, day: string, hashes: Iterable<string>): Op[] {
  const ops: Op[] = []
  countVisitors(collect(ops), shard, keys, day, hashes)
  return ops
}
