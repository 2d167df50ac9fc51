/**
 * What one event changes in Redis, as plain data (no I/O). The group-commit batcher merges these
 * across concurrent requests and applies them in one round trip.
 *
 * Pending field layouts (the flusher parses them back):
 * - `d`: `${day}|${type}`          - `h`: `${day}T${HH}|${type}`
 * - `u`: `${day}|${type}|${user}`  - `f`: `${day}|${type}|${feature}`
 * - `p`: `${day}|${path}`          - `v`: `${day}` (a day whose visitor count must be re-read)
 */
import type { CountedEvent } from '../events/types.ts'
import { type CappedDimension, dayOf, hourOf, type Keys } from './keys.ts'

/** Counted in place of a browser-sent value once the day's cap for its dimension is reached. */
export const OTHER = '(other)'

export type Op =
  | { op: 'incr'; key: string; field: string; by: number }
  /** HINCRBY key `${prefix}${member}`, or `${prefix}(other)` when `member` is new and `seen` is full */
  | { op: 'capped'; seen: string; cap: number; member: string; key: string; prefix: string; by: number }
  | { op: 'pfadd'; key: string; element: string }

export interface Caps {
  users: number
  features: number
  paths: number
}

export interface OpContext {
  keys: Keys
  /** browser-sent values are capped per day; server values are trusted */
  caps?: Caps
  /** keyed hash of the sender, for the daily visitors HyperLogLog (browser events only) */
  visitor?: string
}

function dimension(
  ops: Op[],
  ctx: OpContext,
  dim: CappedDimension,
  day: string,
  cap: number | undefined,
  prefix: string,
  member: string,
): void {
  const key = ctx.keys.pending(dim)
  if (cap === undefined) ops.push({ op: 'incr', key, field: prefix + member, by: 1 })
  else ops.push({ op: 'capped', seen: ctx.keys.seen(dim, day), cap, member, key, prefix, by: 1 })
}

export function opsFor(event: CountedEvent, ctx: OpContext): Op[] {
  const { keys, caps } = ctx
  const day = dayOf(event.at)
  const hh = hourOf(event.at)
  const ops: Op[] = [
    { op: 'incr', key: keys.liveHourly(day), field: `${event.type}|${hh}`, by: 1 },
    { op: 'incr', key: keys.pending('d'), field: `${day}|${event.type}`, by: 1 },
    { op: 'incr', key: keys.pending('h'), field: `${day}T${hh}|${event.type}`, by: 1 },
  ]
  if (event.userId !== undefined) dimension(ops, ctx, 'u', day, caps?.users, `${day}|${event.type}|`, event.userId)
  if (event.feature !== undefined) dimension(ops, ctx, 'f', day, caps?.features, `${day}|${event.type}|`, event.feature)
  if (event.path !== undefined) dimension(ops, ctx, 'p', day, caps?.paths, `${day}|`, event.path)
  if (ctx.visitor !== undefined) {
    ops.push({ op: 'pfadd', key: keys.visitors(day), element: ctx.visitor })
    ops.push({ op: 'incr', key: keys.pending('v'), field: day, by: 1 })
  }
  return ops
}
