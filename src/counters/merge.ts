/**
 * The ops of one group-commit batch merged so that each (key, field) and each capped member
 * appears once, and turned into the KEYS and ARGV of APPLY_BATCH (apply.lua.ts), laid out as
 * apply-layout.ts describes.
 *
 * @example
 * const merged = new MergedOps()
 * countEvent(event, ctx, 3, merged)
 * const { keys, args } = merged.toScriptArgs({ ttl: 604_800, seenTtl: 172_800, recentTtl: 600 })
 */

import { OTHER } from '../events/values.ts'
import { ROW } from '../log/row.ts'
import { BoundedMap } from '../memo.ts'
import { APPLY_HEADER, APPLY_SECTIONS, type HeaderName, type SectionName } from './apply-layout.ts'
import type { CounterSink } from './increments.ts'
import type { LogKeys } from './keys.ts'

/** A browser request's visit record: see the `visits` section of apply-layout.ts. */
export interface VisitRecord {
  /** the site's (of the shard) log keys */
  log: LogKeys
  session: string
  /** the day's seen sets of the capped visit dimensions, in their order */
  seen: readonly string[]
  /** the request's time (its first event's), epoch ms */
  at: number
  /** the page's host: the visit's hostname, were it to begin one */
  host: string
  head: string
  /** the request's log rows, U+001D between */
  rows: string
}

/** A server event that joins its visitor's visit if one is in progress: see the `joins` section. */
export interface JoinRecord {
  /** the site's (of the shard) log keys */
  log: LogKeys
  session: string
  /** the event's time, epoch ms */
  at: number
  /** the visitor hash */
  visitor: string
  /** the event's log row */
  row: string
}

export interface ScriptOptions {
  ttl: number
  seenTtl: number
  recentTtl: number
  sessionMs: number
  dimCap: number
  maxRows: number
  /**
   * Whether this instance gave `key` its TTL recently enough that the script may leave it (the
   * batcher's memory of it); absent: every key's TTL is renewed
   */
  fresh?: (key: string) => boolean
}

/** Lua's unpack() has a stack limit of a few thousand values; PFADD calls are split below it. */
const PFADD_CHUNK = 1000

/**
 * A capped member the script is to decide: HINCRBY key `${prefix}${member}` by, or
 * `${prefix}(other)` when the member is new and `seen` already holds `cap` members.
 */
export interface Capped {
  seen: string
  cap: number
  member: string
  key: string
  prefix: string
  by: number
  /** 1-based, in the order sent */
  position: number
}

/**
 * What this instance has learnt of the caps' sets: for a member of a set, true once it is in the
 * set (it counts by name), false once it was refused because the set was full (it counts as
 * `(other)` for the rest of that day: a day's set never shrinks). Either answer lets a capped op
 * become a plain HINCRBY, sparing the script the set's three commands. Bounded: a member
 * forgotten is simply asked about again. If Redis loses a set (a restart without persistence),
 * the members remembered here keep counting by name: a day can then exceed its cap by at most
 * what one instance remembers.
 */
export class Admissions {
  private readonly sets: BoundedMap<string, BoundedMap<string, boolean>>

  constructor(
    /** sets remembered (a day has one per capped kind and dimension, per shard) */
    sets: number,
    /** members remembered per set */
    private readonly members: number,
  ) {
    this.sets = new BoundedMap(sets)
  }

  get(seen: string, member: string): boolean | undefined {
    return this.sets.get(seen)?.get(member)
  }

  set(seen: string, member: string, admitted: boolean): void {
    let set = this.sets.get(seen)
    if (!set) {
      set = new BoundedMap(this.members)
      this.sets.set(seen, set)
    }
    set.set(member, admitted)
  }
}

/**
 * Ops merged so that each (key, field) and each capped member appears once. Everything is kept in
 * maps of maps keyed by the parts as they come (keys and prefixes built once by names.ts, values
 * as sent), so that no string is concatenated per event just to be looked up. Each map's
 * get-or-create is written out where it is used: one generic helper for all of them measured
 * 6–8% slower at counting a batch (`bun bench/steps.ts`), as its call sites grow polymorphic.
 */
export class MergedOps implements CounterSink {
  /** key → field → count */
  private readonly incr_ = new Map<string, Map<string, number>>()
  /** key → prefix → value → count: capped values already admitted, or refused (`(other)`) */
  private readonly named = new Map<string, Map<string, Map<string, number>>>()
  /** seen set → prefix → member → the capped op, its count summed */
  private readonly cappedBySet = new Map<string, Map<string, Map<string, Capped>>>()
  /** the capped ops in the order they are sent (the script's answer refers to it) */
  private readonly cappedList: Capped[] = []
  private pfadds = new Map<string, Set<string>>()

  constructor(private readonly admissions?: Admissions) {}

  /** The capped ops the script is to decide (members not remembered by the admissions). */
  get asked(): readonly Capped[] {
    return this.cappedList
  }

  incr(key: string, field: string, by: number): void {
    let fields = this.incr_.get(key)
    if (fields === undefined) {
      fields = new Map()
      this.incr_.set(key, fields)
    }
    fields.set(field, (fields.get(field) ?? 0) + by)
  }

  /**
   * Counts a capped member, and returns what it counts as: the member or `(other)` when that is
   * known already, else a mark the script replaces in log rows by its decision (U+001A, the op's
   * 1-based position, U+001A).
   */
  capped(seen: string, cap: number, member: string, key: string, prefix: string, by: number): string {
    const admitted = this.admissions?.get(seen, member)
    if (admitted !== undefined) {
      let byPrefix = this.named.get(key)
      if (byPrefix === undefined) {
        byPrefix = new Map()
        this.named.set(key, byPrefix)
      }
      let values = byPrefix.get(prefix)
      if (values === undefined) {
        values = new Map()
        byPrefix.set(prefix, values)
      }
      const value = admitted ? member : OTHER
      values.set(value, (values.get(value) ?? 0) + by)
      return value
    }
    let byPrefix = this.cappedBySet.get(seen)
    if (byPrefix === undefined) {
      byPrefix = new Map()
      this.cappedBySet.set(seen, byPrefix)
    }
    let members = byPrefix.get(prefix)
    if (members === undefined) {
      members = new Map()
      byPrefix.set(prefix, members)
    }
    let op = members.get(member)
    if (op !== undefined) op.by += by
    else {
      op = { seen, cap, member, key, prefix, by, position: this.cappedList.length + 1 }
      members.set(member, op)
      this.cappedList.push(op)
    }
    return `\x1a${op.position}\x1a`
  }

  private readonly visits: VisitRecord[] = []
  private readonly joins: JoinRecord[] = []
  /** the log rows of no visit, by their site's log keys */
  private readonly serverRows = new Map<LogKeys, string[]>()

  /** A browser request's visit and its `rows` log rows (see the `visits` section). */
  visit(record: VisitRecord, rows: number): void {
    this.visits.push(record)
    this.rowCount += rows
  }

  /** A server event's log row, to join its visitor's visit if one is in progress (the `joins` section). */
  join(record: JoinRecord): void {
    this.joins.push(record)
    this.rowCount++
  }

  /** A log row of an event of no visit, of the site whose log keys are `log`. */
  row(row: string, log: LogKeys): void {
    let rows = this.serverRows.get(log)
    if (rows === undefined) {
      rows = []
      this.serverRows.set(log, rows)
    }
    rows.push(row)
    this.rowCount++
  }

  /** Log rows in the batch. */
  rowCount = 0

  pfadd(key: string, element: string, recent: boolean): void {
    if (recent) this.recent.add(key)
    let set = this.pfadds.get(key)
    if (set === undefined) {
      set = new Set()
      this.pfadds.set(key, set)
    }
    set.add(element)
  }

  /** Distinct counters, capped members and visitor hashes: the size of the Redis call. */
  get size(): number {
    let n = this.cappedList.length
    for (const fields of this.incr_.values()) n += fields.size
    for (const byPrefix of this.named.values()) for (const values of byPrefix.values()) n += values.size
    for (const set of this.pfadds.values()) n += set.size
    return n
  }

  /**
   * Learns from the script's answer (the 1-based positions, among the capped ops, of those
   * refused for a full set) which members are in their sets and which count as `(other)`.
   */
  learn(refused: readonly number[]): void {
    const admissions = this.admissions
    if (!admissions) return
    const out = new Set(refused)
    for (const [i, c] of this.cappedList.entries()) admissions.set(c.seen, c.member, !out.has(i + 1))
  }

  /** Removes and returns the PFADDs (for keys outside the batch's slot). */
  takePfadds(): Map<string, Set<string>> {
    const pfadd = this.pfadds
    this.pfadds = new Map()
    return pfadd
  }

  /** Keys that live only minutes (the recent visitors' HyperLogLogs): `recentTtl`, not `ttl`. */
  readonly recent = new Set<string>()

  /**
   * KEYS and ARGV of APPLY_BATCH, laid out as apply-layout.ts describes: the header in its order,
   * then each section by its own writer, in the order of the description.
   */
  toScriptArgs(options: ScriptOptions): { keys: string[]; args: string[]; expires: string[] } {
    const keys: string[] = []
    const index = new Map<string, number>()
    const idx = (key: string) => {
      let i = index.get(key)
      if (i === undefined) {
        keys.push(key)
        i = keys.length
        index.set(key, i)
      }
      return String(i)
    }
    // Seen sets first, then the recent keys: the script gives each group its own TTL.
    for (const c of this.cappedList) idx(c.seen)
    // a visit record names the first of its day's seen sets: they must stand together
    for (const record of this.visits) {
      const first = Number(idx(record.seen[0]!))
      for (const [k, seen] of record.seen.entries()) {
        if (Number(idx(seen)) !== first + k) throw new Error(`the seen sets of a day are not together in KEYS: ${seen}`)
      }
    }
    const nSeen = keys.length
    // (only those this call adds to: a shard of several leaves its visitors to another call)
    for (const key of this.recent) if (this.pfadds.has(key)) idx(key)
    const nRecent = keys.length - nSeen
    for (const record of this.visits) idx(record.session)
    for (const record of this.joins) idx(record.session)
    const nSession = keys.length - nSeen - nRecent

    const header: Record<HeaderName, number> = {
      ttl: options.ttl,
      seenTtl: options.seenTtl,
      nSeen,
      recentTtl: options.recentTtl,
      nRecent,
      nSession,
      sessionMs: options.sessionMs,
      dimCap: options.dimCap,
      maxRows: options.maxRows,
    }
    const args: string[] = []
    for (const arg of APPLY_HEADER) args.push(String(header[arg.name]))
    const logs = new Map<LogKeys, string>()
    const expires: string[] = []
    const write: Writing = {
      args,
      idx,
      log: (log) => logs.get(log)!,
      ttl: { keys, sessions: [nSeen + nRecent, nSeen + nRecent + nSession], fresh: options.fresh, expires },
    }
    for (const record of this.visits) if (!logs.has(record.log)) logs.set(record.log, String(logs.size + 1))
    for (const record of this.joins) if (!logs.has(record.log)) logs.set(record.log, String(logs.size + 1))
    for (const log of this.serverRows.keys()) if (!logs.has(log)) logs.set(log, String(logs.size + 1))
    this.logs = [...logs.keys()]
    for (const section of APPLY_SECTIONS) MergedOps.writers[section.name](this, write)
    return { keys, args, expires }
  }

  /** the logs of the last {@link toScriptArgs}, in the order sent */
  private logs: LogKeys[] = []

  /**
   * Each section's writer, made once (no closures per call): a section described in
   * apply-layout.ts and not written here does not compile.
   */
  private static readonly writers: Record<SectionName, (ops: MergedOps, write: Writing) => void> = {
    incr: (ops, { args, idx }) => ops.writeIncr(args, idx),
    capped: (ops, { args, idx }) => ops.writeCapped(args, idx),
    pfadd: (ops, { args, idx }) => ops.writePfadd(args, idx),
    logs: (ops, { args, idx }) => {
      args.push(String(ops.logs.length))
      for (const l of ops.logs) {
        args.push(idx(l.rows), idx(l.sequence), idx(l.dropped), idx(l.daily), idx(l.quarters), idx(l.dimensions))
      }
    },
    visits: (ops, { args, idx, log }) => {
      args.push(String(ops.visits.length))
      for (const v of ops.visits) {
        args.push(log(v.log), idx(v.session), idx(v.seen[0]!), String(v.at), v.host, v.head, v.rows)
      }
    },
    joins: (ops, { args, idx, log }) => {
      args.push(String(ops.joins.length))
      for (const j of ops.joins) args.push(log(j.log), idx(j.session), String(j.at), j.visitor, j.row)
    },
    rows: (ops, { args, log }) => {
      args.push(String(ops.serverRows.size))
      for (const [l, rows] of ops.serverRows) args.push(log(l), rows.join(ROW))
    },
    // last: every key is named by now
    expire: (_ops, { args, ttl }) => {
      const at = args.length
      args.push('')
      const [from, to] = ttl.sessions
      ttl.keys.forEach((key, k) => {
        // a visit's key gets its TTL from its own SET, never from the script's EXPIRE
        if ((k >= from && k < to) || ttl.fresh?.(key)) return
        args.push(String(k + 1))
        ttl.expires.push(key)
      })
      args[at] = String(args.length - at - 1)
    },
  }

  /**
   * The incr section: a key's fields together, those counted once by name alone, then the others
   * with their count.
   */
  private writeIncr(args: string[], idx: (key: string) => string): void {
    const groupsAt = args.length
    args.push('')
    let groups = 0
    const ones: string[] = []
    const more: string[] = []
    const group = (key: string) => {
      args.push(idx(key), String(ones.length))
      for (const field of ones) args.push(field)
      args.push(String(more.length / 2))
      for (const part of more) args.push(part)
      ones.length = 0
      more.length = 0
      groups++
    }
    const add = (field: string, by: number) => {
      if (by === 1) ones.push(field)
      else more.push(field, String(by))
    }
    for (const [key, fields] of this.incr_) {
      for (const [field, by] of fields) add(field, by)
      group(key)
    }
    for (const [key, byPrefix] of this.named) {
      for (const [prefix, values] of byPrefix) for (const [value, by] of values) add(prefix + value, by)
      group(key)
    }
    args[groupsAt] = String(groups)
  }

  /** The capped section: the members the script is to decide, in the order of {@link asked}. */
  private writeCapped(args: string[], idx: (key: string) => string): void {
    args.push(String(this.cappedList.length))
    for (const c of this.cappedList) {
      args.push(idx(c.seen), String(c.cap), c.member, idx(c.key), c.prefix, String(c.by))
    }
  }

  /**
   * The pfadd section: keys given the same elements (a batch's day and minute of visitors, as a
   * rule) share them.
   */
  private writePfadd(args: string[], idx: (key: string) => string): void {
    const shared: { keys: string[]; set: Set<string> }[] = []
    for (const [key, set] of this.pfadds) {
      const same = shared.find((g) => sameElements(g.set, set))
      if (same) same.keys.push(idx(key))
      else shared.push({ keys: [idx(key)], set })
    }
    const pfAt = args.length
    args.push('')
    let p = 0
    for (const { keys: ks, set } of shared) {
      const elements = [...set]
      for (let i = 0; i < elements.length; i += PFADD_CHUNK) {
        const chunk = elements.slice(i, i + PFADD_CHUNK)
        args.push(String(ks.length), ...ks, String(chunk.length))
        for (const element of chunk) args.push(element)
        p++
      }
    }
    args[pfAt] = String(p)
  }
}

/** What a section's writer writes with: the arguments, a key's index in KEYS, a log's position. */
interface Writing {
  args: string[]
  idx: (key: string) => string
  log: (log: LogKeys) => string
  /** what the expire section decides: the keys, the sessions' (0-based, end excluded), and the keys it names */
  ttl: {
    keys: readonly string[]
    sessions: readonly [number, number]
    fresh?: (key: string) => boolean
    expires: string[]
  }
}

function sameElements(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false
  for (const element of a) if (!b.has(element)) return false
  return true
}
