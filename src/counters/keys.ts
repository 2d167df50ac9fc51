/**
 * Redis key names and time buckets. Every key starts with a hash tag, `{prefix}`, so a whole
 * group-commit batch or flush snapshot lives in one Redis Cluster slot and one Lua script can
 * touch all of it.
 *
 * Live data (what the SSE feed reads) and pending deltas (what the flusher moves to Postgres) are
 * separate keys, so a flush never makes "today" drop.
 *
 * @example
 * const keys = createKeys('analytics')
 * keys.liveHourly('2026-11-28') // '{analytics}:live:h:2026-11-28'
 */

/** Pending counter kinds: daily, hourly, per-user daily, per-feature daily, per-page daily, visitor days. */
export const PENDING_KINDS = ['d', 'h', 'u', 'f', 'p', 'v'] as const
export type PendingKind = (typeof PENDING_KINDS)[number]

/** Dimensions whose browser-sent values are capped per day. */
export type CappedDimension = 'u' | 'f' | 'p'

export interface Keys {
  readonly tag: string
  /** hash, field `${type}|${HH}` → count: the full hourly counts of one UTC day */
  liveHourly(day: string): string
  /** hash of not-yet-flushed deltas of one kind */
  pending(kind: PendingKind): string
  /** HyperLogLog of the day's visitor hashes */
  visitors(day: string): string
  /** set of the distinct browser-sent values of a dimension seen this day (for caps) */
  seen(dim: CappedDimension, day: string): string
  /** the day's random salt for visitor hashes */
  salt(day: string): string
  /** a flush batch's frozen copy of one pending kind */
  snapshot(batchId: string, kind: PendingKind): string
  /** sorted set of snapshot batch ids waiting to be written to Postgres, scored by sequence */
  snapshots: string
  /** counter giving each snapshot its sequence number */
  sequence: string
  /** lease held by the instance that flushes */
  lease: string
}

export function createKeys(prefix: string): Keys {
  const tag = `{${prefix}}`
  return {
    tag,
    liveHourly: (day) => `${tag}:live:h:${day}`,
    pending: (kind) => `${tag}:pend:${kind}`,
    visitors: (day) => `${tag}:hll:${day}`,
    seen: (dim, day) => `${tag}:seen:${dim}:${day}`,
    salt: (day) => `${tag}:salt:${day}`,
    snapshot: (batchId, kind) => `${tag}:snap:${batchId}:${kind}`,
    snapshots: `${tag}:snaps`,
    sequence: `${tag}:seq`,
    lease: `${tag}:lease`,
  }
}

// Nearly every call on the hot path falls in the current hour: remember the last one.
let cachedHour = Number.NaN
let cachedIso = ''
function iso(ms: number): string {
  const hour = Math.floor(ms / 3_600_000)
  if (hour !== cachedHour) {
    cachedHour = hour
    cachedIso = new Date(hour * 3_600_000).toISOString()
  }
  return cachedIso
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export const dayOf = (ms: number): string => iso(ms).slice(0, 10)

/** The UTC hour of an instant, `HH`. */
export const hourOf = (ms: number): string => iso(ms).slice(11, 13)
