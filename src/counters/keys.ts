/**
 * Redis key names and time buckets.
 *
 * Counters live in shards. Every key of a shard starts with the shard's hash tag, so a whole
 * group-commit batch or flush snapshot lives in one Redis Cluster slot and one Lua script can
 * touch all of it; several shards spread the write load over a cluster's nodes. With one shard
 * (the default outside a cluster) the shard tag is `{prefix}` itself.
 *
 * A few keys are global, under `{prefix}`: the visitors HyperLogLog of each day (a union over
 * shards would need one slot anyway), the day's salt and the flush lease.
 *
 * Live data (what the SSE feed reads) and pending deltas (what the flusher moves to Postgres) are
 * separate keys, so a flush never makes "today" drop.
 *
 * Every key but the lease and the sites' version is a site's. The default site's (0) keys are
 * named as before sites, so what Redis held then is its own; another site's keys carry `s<id>`
 * after the tag, in the same shard's slot, so one batch's script can write several sites' keys.
 *
 * @example
 * const keys = createKeys('analytics')
 * keys.shards[0].liveHourly('2026-11-28') // '{analytics}:live:h:2026-11-28'
 * createKeys('analytics', 16).shards[3].pending('d') // '{analytics:3}:pend:d'
 * createKeys('analytics').forSite(5).shards[0].pending('d') // '{analytics}:s5:pend:d'
 */

import type { CappedKind } from './fields.ts'

/**
 * Pending counter kinds: daily, hourly, per-user daily, per-feature daily, per-page daily,
 * per-dimension daily, visitor days.
 */
export const PENDING_KINDS = ['d', 'h', 'u', 'f', 'p', 'x', 'v'] as const
export type PendingKind = (typeof PENDING_KINDS)[number]
/** The pending event log rows (a list, not a hash), moved and flushed with the counters. */
export const ROWS = 'r'
/** Everything a flush moves into a snapshot: the counter hashes and the log's rows. */
export const SNAPSHOT_KINDS = [...PENDING_KINDS, ROWS] as const
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number]

/** The keys of one shard, all in one cluster slot. */
export interface ShardKeys {
  readonly tag: string
  /** what every key of the shard's site starts with: the tag, then the site's part */
  readonly base: string
  /** the site whose keys these are */
  readonly site: number
  /** the keys the group commit's script writes a visit's counts and the log's rows to */
  readonly log: LogKeys
  /** hash, field `live` of fields.ts → count: this shard's full hourly counts of one UTC day */
  liveHourly(day: string): string
  /** hash, field `ld` of fields.ts → count: this shard's counts of one day of TIME_ZONE */
  liveDaily(day: string): string
  /** hash of not-yet-flushed deltas of one kind, or (ROWS) the list of not-yet-flushed log rows */
  pending(kind: SnapshotKind): string
  /**
   * set of the distinct browser-sent values of a kind seen this day (for caps); kind `x` has one
   * per dimension
   */
  seen(kind: CappedKind, day: string, dimension?: string): string
  /** a flush batch's frozen copy of one pending kind */
  snapshot(batchId: string, kind: SnapshotKind): string
  /** sorted set of snapshot batch ids waiting to be written to Postgres, scored by sequence */
  snapshots: string
  /**
   * hash of the snapshots set aside (batch id → JSON of why): Postgres refused their data, so
   * the flush skips them until they are retried or exported. They stay in `snapshots` too, so
   * every read still counts them
   */
  held: string
  /** counter giving each snapshot its sequence number; it changes whenever pending moves */
  sequence: string
  /** a visitor's current visit (its id, the pending segment it was last written in, its values) */
  session(visitor: string): string
  /** hash of log rows dropped past the pending bound: UTC epoch day → rows */
  dropped: string
}

/** Where the group commit's script counts visits and keeps log rows: one set per site and shard. */
export interface LogKeys {
  rows: string
  sequence: string
  dropped: string
  daily: string
  quarters: string
  dimensions: string
}

export interface Keys {
  /** the global tag, `{prefix}` */
  readonly tag: string
  /** the site whose keys these are (0: the default site) */
  readonly site: number
  /** the same layout for another site (made once per site) */
  forSite(site: number): Keys
  readonly shards: readonly ShardKeys[]
  /** HyperLogLog of the day's visitor hashes (global) */
  visitors(day: string): string
  /** HyperLogLog of the visitor hashes of one minute (epoch minute), for visitors now (global) */
  recentVisitors(minute: number): string
  /** a read's short-lived copy of a day's stored visitors, beside the live ones (global) */
  visitorsCopy(read: string, day: string): string
  /** the day's random salt for visitor hashes (global) */
  salt(day: string): string
  /** lease held by the instance that flushes (global) */
  lease: string
  /** the version of the sites' settings, raised on each change; every instance watches it (global) */
  sites: string
}

/** What follows the tag in a site's keys: nothing for the default site, `:s<id>` for another. */
const sitePart = (site: number): string => (site === 0 ? '' : `:s${site}`)

function shardKeys(tag: string, site: number): ShardKeys {
  const base = tag + sitePart(site)
  // built once: the group commit looks them up for every event
  const pending = Object.fromEntries(SNAPSHOT_KINDS.map((kind) => [kind, `${base}:pend:${kind}`])) as Record<
    SnapshotKind,
    string
  >
  const sequence = `${base}:seq`
  const dropped = `${base}:log:dropped`
  return {
    tag,
    base,
    site,
    log: {
      rows: pending[ROWS],
      sequence,
      dropped,
      daily: pending.d,
      quarters: pending.h,
      dimensions: pending.x,
    },
    liveHourly: (day) => `${base}:live:h:${day}`,
    liveDaily: (day) => `${base}:live:d:${day}`,
    pending: (kind) => pending[kind],
    seen: (kind, day, dimension) =>
      dimension === undefined ? `${base}:seen:${kind}:${day}` : `${base}:seen:${kind}:${dimension}:${day}`,
    snapshot: (batchId, kind) => `${base}:snap:${batchId}:${kind}`,
    snapshots: `${base}:snaps`,
    held: `${base}:held`,
    sequence,
    session: (visitor) => `${base}:visit:${visitor}`,
    dropped,
  }
}

function siteKeys(prefix: string, shards: number, site: number, forSite: (site: number) => Keys): Keys {
  const tag = `{${prefix}}`
  const base = tag + sitePart(site)
  return {
    tag,
    site,
    forSite,
    shards:
      shards === 1
        ? [shardKeys(tag, site)]
        : Array.from({ length: shards }, (_, i) => shardKeys(`{${prefix}:${i}}`, site)),
    visitors: (day) => `${base}:hll:${day}`,
    recentVisitors: (minute) => `${base}:hll:m:${minute}`,
    visitorsCopy: (read, day) => `${base}:hll:copy:${read}:${day}`,
    salt: (day) => `${base}:salt:${day}`,
    lease: `${tag}:lease`,
    sites: `${tag}:sites:v`,
  }
}

/** The default site's keys; `forSite` gives any other's, each made once. */
export function createKeys(prefix: string, shards = 1): Keys {
  const made = new Map<number, Keys>()
  const forSite = (site: number): Keys => {
    let keys = made.get(site)
    if (keys === undefined) {
      keys = siteKeys(prefix, shards, site, forSite)
      made.set(site, keys)
    }
    return keys
  }
  return forSite(0)
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

/** The UTC day of an instant, `YYYY-MM-DD`: the live feed's day (counters use calendar.ts). */
export const dayOf = (ms: number): string => iso(ms).slice(0, 10)

/** The UTC hour of an instant, `HH`: the live feed's hour. */
export const hourOf = (ms: number): string => iso(ms).slice(11, 13)
