/**
 * Exact reads: Postgres history + snapshots being flushed + pending deltas, each acknowledged
 * event counted once, at any moment, including while a flush runs (invariant I3).
 *
 * 1. One Redis script reads the snapshot registry, the wanted pending hashes, the same hashes of
 *    every snapshot, and the move sequence — an atomic view of everything not yet in Postgres.
 * 2. One Postgres statement (one MVCC snapshot) reads the history and which of those snapshots'
 *    batch ids are already committed; those snapshots are then left out of the Redis side.
 * 3. The sequence is read again. If a flush moved pending deltas in the meantime, its batch may
 *    be counted in step 1 as pending *and* in step 2 as committed: the read starts over (rare:
 *    one move per flush interval).
 */
import type { Pool } from '@neondatabase/serverless'
import type { Calendar } from '../counters/calendar.ts'
import { type Keys, type PendingKind, ROWS, type ShardKeys } from '../counters/keys.ts'
import type { Redis } from '../db/redis.ts'
import { runScript } from '../db/script.ts'
import { decodeRows, type LogRow } from '../log/row.ts'
import { READ_UNFLUSHED } from './scripts.lua.ts'
import type { SqlParams } from './sql.ts'

/** What every read needs: Redis, its key layout, the Postgres pool, and the counters' days. */
export interface ReadDeps {
  redis: Redis
  keys: Keys
  pool: Pool
  /** the days of TIME_ZONE, which the day-level counters count in */
  calendar: Calendar
  /** the clock that says what "today" is */
  now: () => number
}

/** What the reads of one site need: the deployment's, with the site's keys and days. */
export function siteReadDeps<D extends ReadDeps>(deps: D, site: { keys: Keys; calendar: Calendar }): D {
  return { ...deps, keys: site.keys, calendar: site.calendar }
}

/** Field-name → count, summed over pending and uncommitted snapshots. */
export type Counts = Map<string, number>

export interface UnflushedSpec {
  /** kinds read in full (HGETALL) */
  all?: PendingKind[]
  /** kinds of which only these fields are read (HMGET) */
  fields?: Partial<Record<PendingKind, string[]>>
  /** the event log's rows too */
  rows?: boolean
}

/** One segment's counts and, when asked, its log rows (each segment decoded on its own: a visit's values are on its first row in each). */
interface Segment {
  counts: Partial<Record<PendingKind, Counts>>
  rows: LogRow[]
}

interface Batch {
  id: string
  hashes: Segment
}

interface Unflushed {
  seq: string | null
  pending: Segment
  batches: Batch[]
}

const MAX_ATTEMPTS = 20

/** An HMGET reply of `fields`, or an HGETALL reply as a script gives it (field, value, ...). */
function toCounts(reply: unknown, fields?: string[]): Counts {
  const counts: Counts = new Map()
  const values = reply as (string | null)[]
  if (fields) {
    values.forEach((v, i) => {
      if (v !== null) counts.set(fields[i]!, Number(v))
    })
  } else {
    for (let i = 0; i < values.length; i += 2) counts.set(values[i]!, Number(values[i + 1]))
  }
  return counts
}

type Reads = { kind: PendingKind; fields?: string[] }[]

/** One shard's unflushed counts, read atomically (one script, so one slot). */
async function readShard(redis: Redis, keys: ShardKeys, reads: Reads, rows: boolean): Promise<Unflushed> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const ids = await redis.zRange(keys.snapshots, 0, -1)
    const hashKeys: string[] = []
    const args: string[] = []
    for (const key of [null, ...ids]) {
      for (const { kind, fields } of reads) {
        hashKeys.push(key === null ? keys.pending(kind) : keys.snapshot(key, kind))
        if (fields) args.push(String(fields.length), ...fields)
        else args.push('-1')
      }
      if (rows) {
        hashKeys.push(key === null ? keys.pending(ROWS) : keys.snapshot(key, ROWS))
        args.push('-2')
      }
    }
    const replies = (await runScript(
      redis,
      READ_UNFLUSHED,
      [keys.sequence, keys.snapshots, ...hashKeys],
      args,
    )) as unknown[]
    const [seq, idsNow, ...hashes] = replies as [string | null, string[], ...unknown[]]
    // a snapshot appeared or went away between the two registry reads: read again
    if (idsNow.length !== ids.length || idsNow.some((id, i) => id !== ids[i])) continue
    const width = reads.length + (rows ? 1 : 0)
    const take = (offset: number): Segment => {
      const counts: Partial<Record<PendingKind, Counts>> = {}
      reads.forEach(({ kind, fields }, j) => {
        counts[kind] = toCounts(hashes[offset + j], fields)
      })
      return { counts, rows: rows ? decodeRows(hashes[offset + reads.length] as string[], keys.site) : [] }
    }
    return {
      seq,
      pending: take(0),
      batches: ids.map((id, i) => ({ id, hashes: take((i + 1) * width) })),
    }
  }
  throw new Error('the snapshot registry kept changing; try again')
}

export interface UnflushedView {
  /** batch ids of the snapshots seen; `history` reports which are committed */
  batchIds: string[]
  /** field names of `kind` seen pending or in any snapshot (committed or not) */
  fieldNames(kind: PendingKind): Set<string>
  /** with `rows`: the log rows seen pending or in any snapshot (committed or not) */
  rows(): LogRow[]
}

/**
 * Runs `history(view)` — one Postgres statement returning the history and which of the view's
 * batch ids are committed — against an atomic view of the unflushed counts, and returns both
 * with committed snapshots left out of `unflushed`.
 */
export async function exactRead<T>(
  redis: Redis,
  keys: Keys,
  spec: UnflushedSpec,
  history: (view: UnflushedView) => Promise<{ result: T; committed: string[] }>,
): Promise<{ history: T; unflushed: Partial<Record<PendingKind, Counts>>; rows: LogRow[] }> {
  const reads: Reads = [
    ...(spec.all ?? []).map((kind) => ({ kind })),
    ...Object.entries(spec.fields ?? {})
      .filter(([, fields]) => fields.length > 0)
      .map(([kind, fields]) => ({ kind: kind as PendingKind, fields })),
  ]
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // shards are independent: each view is atomic on its own, and each shard's sequence is
    // checked again after the Postgres read
    const views = await Promise.all(keys.shards.map((shard) => readShard(redis, shard, reads, spec.rows === true)))
    const batches = views.flatMap((v) => v.batches)
    const parts = [...views.map((v) => v.pending.counts), ...batches.map((b) => b.hashes.counts)]
    const { result, committed } = await history({
      batchIds: batches.map((b) => b.id),
      fieldNames: (kind) => new Set(parts.flatMap((p) => [...(p[kind]?.keys() ?? [])])),
      rows: () => [...views.map((v) => v.pending), ...batches.map((b) => b.hashes)].flatMap((s) => s.rows),
    })
    const seqs = await Promise.all(keys.shards.map((shard) => redis.get(shard.sequence)))
    if (seqs.some((seq, i) => seq !== views[i]!.seq)) continue
    const done = new Set(committed)
    const unflushed: Partial<Record<PendingKind, Counts>> = {}
    const uncommitted = batches.filter((b) => !done.has(b.id)).map((b) => b.hashes)
    const rows: LogRow[] = []
    for (const part of [...views.map((v) => v.pending), ...uncommitted]) {
      for (const [kind, counts] of Object.entries(part.counts) as [PendingKind, Counts][]) {
        const into = unflushed[kind] ?? new Map()
        unflushed[kind] = into
        for (const [field, n] of counts) into.set(field, (into.get(field) ?? 0) + n)
      }
      for (const row of part.rows) rows.push(row)
    }
    return { history: result, unflushed, rows }
  }
  throw new Error('flushes kept moving counters during the read; try again')
}

/** A SQL expression giving, as a JSON array, which of `batchIds` are committed. */
export const committedSql = (params: SqlParams, batchIds: string[]): string =>
  `(SELECT coalesce(json_agg(batch_id), '[]') FROM analytics_flush_log WHERE batch_id = ANY(${params.add(batchIds)}::text[]))`
