/**
 * Group commit: the events of all requests that arrive while Redis is busy are merged in memory
 * and applied in one Lua call (one round trip), and each request is answered only after its
 * batch is in Redis. A failed call rejects every request of that batch with
 * {@link CountersUnavailable}. The script runs alone (no other command sees half of it) and Redis
 * refuses it whole when out of memory; it touches only our own hashes, sets and HyperLogLogs, so
 * it has no other way to fail half-way. A reply lost after the script ran still answers 503: a
 * client that retries may then count twice.
 *
 * A request whose client has gone by the time its batch is sent is left out of the batch: nobody
 * would receive its acknowledgement, so a retry must not find it counted. (Bun closes a
 * connection that pipelines a request behind one still being answered; both are then left out.)
 *
 * @example
 * const batcher = new GroupCommit(redis, keys, { ttlSeconds: 604_800 })
 * await batcher.add({ events, caps, visitor, client: request }) // resolves once stored
 */

import { randomInt } from 'node:crypto'
import type { Redis } from '../db/redis.ts'
import { runScript } from '../db/script.ts'
import { CountersUnavailable } from '../errors.ts'
import type { CountedEvent, Visit } from '../events/types.ts'
import { VISIT_DIMENSIONS } from '../events/types.ts'
import { VISIT_TIMEOUT_MS } from '../events/visit.ts'
import { FIELD, ROW } from '../log/row.ts'
import { BoundedMap } from '../memo.ts'
import { APPLY_BATCH, CAPPED_VISIT_DIMENSIONS } from './apply.lua.ts'
import { type Calendar, quarterOf, utcCalendar } from './calendar.ts'
import { type Caps, countEvent, countRecentVisitors, countVisitors, type OpContext } from './increments.ts'
import type { Keys, ShardKeys } from './keys.ts'
import { Admissions, MergedOps } from './merge.ts'
import { Names } from './names.ts'

/** The per-day "seen" sets behind the caps live for the day plus a margin. */
const SEEN_TTL_SECONDS = 2 * 86_400
/**
 * A minute's visitors are read for `visitors_now` (the last 5 minutes) and then only take memory:
 * they live 10 minutes.
 */
export const RECENT_TTL_SECONDS = 600
/**
 * Batches in flight at once. With two, the next batch goes out while Redis runs the one before,
 * so neither the loop nor Redis waits on the other: under the browser-like load, 13% more
 * requests/s at the same p99 than with one (bench/beacon.ts, warmed). Each batch is one script
 * call on one connection, so Redis runs them in the order sent, each whole.
 */
export const BATCHES_IN_FLIGHT = 2
/**
 * Caps' sets, and members of each, this instance remembers the answer for (see Admissions in
 * merge.ts). A day has one set per shard for users, features, paths, each visit dimension whose
 * values are not bounded (source, the three UTM ones, entry page, hostname) and each counted
 * property: 9 to 29 with one shard. At about 100 bytes a member, a few MB at most in practice.
 */
const ADMISSION_SETS = 64
const ADMISSIONS_PER_SET = 2000
/** Distinct counters in one batch before a new batch starts. */
const MAX_BATCH_OPS = 20_000
/**
 * Pending log rows kept at most, by default (EVENTS_PENDING_MAX): about 80 MB of Redis. The
 * flush moves rows long before (every few seconds under load); only a Postgres outage fills it.
 */
export const DEFAULT_MAX_PENDING_ROWS = 1_000_000

/**
 * Visit ids: a random 31-bit number per run of ids and a count, written in base 36 (at most 12
 * characters, under 2^63). A run starts over with a new random part when its count is spent.
 */
const VISIT_ID_RUN = 36 ** 6

export class VisitIds {
  private high = 0
  private low = VISIT_ID_RUN

  next(): string {
    if (this.low >= VISIT_ID_RUN) {
      this.high = randomInt(1, 2 ** 31)
      this.low = 0
    }
    return this.high.toString(36) + (this.low++).toString(36).padStart(6, '0')
  }
}

export interface GroupCommitOptions {
  ttlSeconds: number
  /** the days the counters count in (TIME_ZONE; UTC when absent) */
  calendar?: Calendar
  /**
   * A batch with no answer from Redis after this long fails (503): a Redis that hangs with its
   * connection open must not hold requests, and memory, forever. If the script did run late,
   * those events were stored though answered 503, as with any lost reply.
   */
  timeoutMs?: number
  /** called when visitor hashes could not be added after their batch's counts were stored */
  onVisitorsLost?: (error: unknown) => void
  /** called after every commit, before its requests are answered */
  onCommit?: (commit: Commit) => void
  /** pending log rows kept at most (DEFAULT_MAX_PENDING_ROWS) */
  maxPendingRows?: number
}

export interface Commit {
  /** requests stored (or not, on error) by this commit */
  requests: number
  /** requests left out because their client had gone */
  gone: number
  /** distinct counters and visitors: the size of the Redis call */
  ops: number
  /** events added with caps (browser events) and without (server events) */
  cappedEvents: number
  uncappedEvents: number
  /** log rows sent, and of those dropped past the pending bound */
  rows: number
  droppedRows: number
  seconds: number
  /** Redis's error when the batch was not stored */
  error?: unknown
}

/** A site's keys and days: where and in which days the group commit counts its events. */
export interface SiteCounting {
  keys: Keys
  calendar: Calendar
}

/** One request's part of a batch. */
export interface Entry {
  /** the site the events are counted for (the group commit's own keys and calendar when absent) */
  site?: SiteCounting
  events: readonly CountedEvent[]
  /** browser values are capped per day; server values are trusted (no caps) */
  caps?: Caps
  /** the sender's visitor hash (browser events) */
  visitor?: string
  /** the visit the request's events would begin, were there no current one (browser events) */
  visit?: Visit
  /**
   * Server events: for each event (by index), the hash of the browser it was sent with
   * (`client_ip`, `user_agent`), whose visit it joins if one is in progress; undefined for one
   * sent without. All of an entry's visitors are of its shard ({@link GroupCommit.addServer}).
   */
  joins?: readonly (string | undefined)[]
  /** the request, so that one whose client has gone is left out before the batch is sent */
  client?: Request
}

function addTo<K>(map: Map<K, Set<string>>, key: K, value: string): void {
  let set = map.get(key)
  if (!set) {
    set = new Set()
    map.set(key, set)
  }
  set.add(value)
}

/** What one group commit remembers of the caps' answers, for all its batches. */
export function newAdmissions(): Admissions {
  return new Admissions(ADMISSION_SETS, ADMISSIONS_PER_SET)
}

/**
 * KEYS and ARGV of a batch's Lua call; its counters live `ttl` seconds after the write, and
 * capped visit dimensions hold `dimCap` values a day.
 */
export function batchScript(
  merged: MergedOps,
  options: { ttl: number; dimCap: number; maxRows?: number; fresh?: (key: string) => boolean },
): { keys: string[]; args: string[]; expires: string[] } {
  return merged.toScriptArgs({
    ttl: options.ttl,
    seenTtl: SEEN_TTL_SECONDS,
    recentTtl: RECENT_TTL_SECONDS,
    sessionMs: VISIT_TIMEOUT_MS,
    dimCap: options.dimCap,
    maxRows: options.maxRows ?? DEFAULT_MAX_PENDING_ROWS,
    fresh: options.fresh,
  })
}

/**
 * How long a key keeps the TTL this instance last gave it before a batch renews it. The TTLs are
 * days (minutes for the recent visitors'), so a minute more or less changes nothing; renewing
 * every key on every batch was most of a batch's commands once its requests are of many sites
 * (each site's keys are its own). A key that goes away sooner (a flush renames the pending ones)
 * may live without a TTL for up to this long after it comes back, which only keeps it longer;
 * the next batch after that gives it one.
 */
export const TTL_RENEWED_MS = 60_000
/** Keys whose last renewal this instance remembers: about as many as a minute of many sites writes. */
const TTL_REMEMBERED = 65_536

/**
 * A visit record's head: visitor, candidate id, day, quarter, then each visit dimension's value
 * but the host (sent on its own). The script reads it only for a visit it begins or first writes
 * in a pending segment.
 */
const HEAD_DIMENSIONS = VISIT_DIMENSIONS.filter((d) => d !== 'hostname')
function visitHead(visitor: string, id: string, day: string, quarter: string, visit: Visit): string {
  let head = `${visitor}${FIELD}${id}${FIELD}${day}${FIELD}${quarter}`
  for (const dimension of HEAD_DIMENSIONS) head += FIELD + (visit[dimension] ?? '')
  return head
}

/** The shard (of `n`) a visitor's current visit lives in: the one their hash names. */
const shardOfVisitor = (visitor: string, n: number): number => Number.parseInt(visitor.slice(0, 8), 16) % n

/** The requests merged into one round trip. */
export class Batch {
  readonly entries: Entry[] = []
  /** the shard (its index in Keys.shards) the batch is written to */
  readonly shard: number
  /** an upper bound of the distinct counters in the batch */
  size = 0
  readonly done: Promise<void>
  resolve!: () => void
  reject!: (err: unknown) => void

  constructor(shard = 0) {
    this.shard = shard
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // Every request awaits `done`; this keeps a rejection with no listener left from crashing.
    this.done.catch(() => {})
  }

  add(entry: Entry): void {
    this.entries.push(entry)
    this.size += entry.events.length + (entry.visitor === undefined ? 0 : 1)
  }

  /**
   * The ops of the entries whose client is still there, each distinct event once with its
   * multiplicity, and what they hold.
   */
  merge(own: SiteCounting, admissions?: Admissions, names: Names = new Names(), visitIds: VisitIds = new VisitIds()) {
    const merged = new MergedOps(admissions)
    let dimCap = 0
    // per site (its shard's keys) and day: the seen sets of a visit's capped dimensions, its visitors
    const seenOfDay = new Map<ShardKeys, Map<string, string[]>>()
    const visitors = new Map<SiteCounting, Map<string, Set<string>>>()
    const recent = new Map<SiteCounting, Map<number, Set<string>>>()
    let requests = 0
    let gone = 0
    let cappedEvents = 0
    let uncappedEvents = 0
    const browser: OpContext = { keys: own.keys.shards[this.shard]!, calendar: own.calendar, names }
    const server: OpContext = { keys: browser.keys, calendar: own.calendar, names }
    for (const entry of this.entries) {
      if (entry.client?.signal.aborted) {
        gone++
        continue
      }
      requests++
      const site = entry.site ?? own
      const shard = site.keys.shards[this.shard]!
      const { calendar } = site
      const { caps } = entry
      if (caps !== undefined) {
        cappedEvents += entry.events.length
        browser.caps = caps
        dimCap = caps.dimensions
      } else uncappedEvents += entry.events.length
      // a browser event's page host is its visit's (the request's visit names it): its row leaves
      // it to the visit (row.ts); a server event names its own
      const ctx = caps ? browser : server
      ctx.keys = shard
      ctx.calendar = calendar
      const { visitor, visit } = entry
      if (visitor !== undefined && visit !== undefined && entry.events.length > 0) {
        const at = entry.events[0]!.at
        const day = calendar.day(at)
        let days = seenOfDay.get(shard)
        if (days === undefined) {
          days = new Map()
          seenOfDay.set(shard, days)
        }
        let seen = days.get(day)
        if (seen === undefined) {
          seen = CAPPED_VISIT_DIMENSIONS.map((d) => names.seenKey(shard, 'x', day, d))
          days.set(day, seen)
        }
        // each event straight into the batch's maps: no op objects; its log row into the request's
        let rows = ''
        for (const event of entry.events) rows += (rows === '' ? '' : ROW) + countEvent(event, ctx, 1, merged)
        const head = visitHead(visitor, visitIds.next(), day, quarterOf(at), visit)
        merged.visit(
          { log: shard.log, session: shard.session(visitor), seen, at, host: visit.hostname ?? '', head, rows },
          entry.events.length,
        )
        let siteVisitors = visitors.get(site)
        if (siteVisitors === undefined) {
          siteVisitors = new Map()
          visitors.set(site, siteVisitors)
        }
        addTo(siteVisitors, day, visitor)
        let siteRecent = recent.get(site)
        if (siteRecent === undefined) {
          siteRecent = new Map()
          recent.set(site, siteRecent)
        }
        addTo(siteRecent, Math.floor(at / 60_000), visitor)
      } else if (entry.joins !== undefined) {
        // a server event sent with its browser's address joins that visitor's visit, if one is in
        // progress (the script decides, as it does for beacons); it never begins one
        const { events, joins } = entry
        for (let k = 0; k < events.length; k++) {
          const event = events[k]!
          const row = countEvent(event, ctx, 1, merged)
          const joining = joins[k]
          if (joining === undefined) merged.row(row, shard.log)
          else merged.join({ log: shard.log, session: shard.session(joining), at: event.at, visitor: joining, row })
        }
      } else for (const event of entry.events) merged.row(countEvent(event, ctx, 1, merged), shard.log)
    }
    for (const [site, days] of visitors) {
      for (const [day, hashes] of days) countVisitors(merged, site.keys.shards[this.shard]!, site.keys, day, hashes)
    }
    for (const [site, minutes] of recent) {
      for (const [minute, hashes] of minutes) countRecentVisitors(merged, site.keys, minute, hashes)
    }
    return { merged, requests, gone, cappedEvents, uncappedEvents, ops: merged.size, dimCap }
  }
}

export class GroupCommit {
  private readonly queue: Batch[] = []
  /** the batch still taking entries, per shard */
  private readonly open: (Batch | undefined)[] = []
  private inFlight = 0
  private scheduled = false
  private nextShard = 0
  private readonly ttl: number
  /** the default site's keys and days, for entries that name no site */
  private readonly own: SiteCounting
  private readonly admissions = newAdmissions()
  private readonly names = new Names()
  private readonly visitIds = new VisitIds()
  /** when this instance last gave each key its TTL (see TTL_RENEWED_MS) */
  private readonly renewed = new BoundedMap<string, number>(TTL_REMEMBERED)

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly options: GroupCommitOptions,
  ) {
    this.ttl = options.ttlSeconds
    this.own = { keys, calendar: options.calendar ?? utcCalendar }
  }

  /** Adds one request's events; resolves when they are stored, rejects if their batch failed. */
  add(entry: Entry): Promise<void> {
    const shard = this.shardOf(entry)
    let batch = this.open[shard]
    if (!batch || batch.size >= MAX_BATCH_OPS) {
      batch = new Batch(shard)
      this.open[shard] = batch
      this.queue.push(batch)
    }
    batch.add(entry)
    this.kick()
    return batch.done
  }

  /**
   * Server events, each with the visitor whose visit it is to join (undefined: none; see
   * {@link Entry.joins}). A visitor's current visit is a key of the shard their hash names, so with
   * several shards the events are split by it, one entry per shard, those of no visitor going with
   * the first: resolves once every part is stored, rejects if one failed. The parts are separate
   * script calls, so then the others may be stored: as with a lost reply, a retry may count
   * them twice.
   */
  addServer(
    events: readonly CountedEvent[],
    visitors: readonly (string | undefined)[],
    client?: Request,
    site?: SiteCounting,
  ) {
    const n = this.keys.shards.length
    if (n === 1) return this.add({ site, events, joins: visitors, client })
    const parts = new Map<number, { events: CountedEvent[]; joins: (string | undefined)[] }>()
    const none: CountedEvent[] = []
    for (let k = 0; k < events.length; k++) {
      const visitor = visitors[k]
      if (visitor === undefined) {
        none.push(events[k]!)
        continue
      }
      const shard = shardOfVisitor(visitor, n)
      let part = parts.get(shard)
      if (part === undefined) {
        part = { events: [], joins: [] }
        parts.set(shard, part)
      }
      part.events.push(events[k]!)
      part.joins.push(visitor)
    }
    const first = parts.values().next().value
    if (first === undefined) return this.add({ site, events, client })
    for (const event of none) {
      first.events.push(event)
      first.joins.push(undefined)
    }
    return Promise.all([...parts.values()].map((part) => this.add({ ...part, client, site }))).then(() => {})
  }

  /**
   * The shard an entry is written to. A visitor's current visit is a key of one shard, so all of
   * a visitor's requests go to the shard their hash names; entries of no visitor take turns over
   * the shards, spreading the writes over a cluster's nodes.
   */
  private shardOf(entry: Entry): number {
    const n = this.keys.shards.length
    if (n === 1) return 0
    const visitor = entry.visitor ?? entry.joins?.find((v) => v !== undefined)
    if (visitor !== undefined) return shardOfVisitor(visitor, n)
    return this.nextShard++ % n
  }

  /** Resolves when every batch added so far has been committed or has failed. */
  async drain(): Promise<void> {
    const last = this.queue.at(-1)
    if (last) await last.done.catch(() => {})
    while (this.inFlight > 0) await Bun.sleep(1)
  }

  private kick(): void {
    if (this.scheduled || this.inFlight >= BATCHES_IN_FLIGHT || this.queue.length === 0) return
    this.scheduled = true
    // setImmediate runs after this turn's I/O: every request that arrived in it joins the batch.
    setImmediate(() => {
      this.scheduled = false
      this.send()
    })
  }

  private addVisitors(visitors: Map<string, Set<string>>, recent: ReadonlySet<string>): void {
    for (const [key, elements] of visitors) {
      // The counts are stored and acknowledged: a lost visitor add only lowers an estimate.
      // The TTL goes with the add, in one MULTI on the key's own slot.
      this.redis
        .multi()
        .pfAdd(key, [...elements])
        .expire(key, recent.has(key) ? RECENT_TTL_SECONDS : this.ttl)
        .exec()
        .catch((err) => this.options.onVisitorsLost?.(err))
    }
  }

  private send(): void {
    while (this.inFlight < BATCHES_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.shift()!
      if (batch === this.open[batch.shard]) this.open[batch.shard] = undefined
      this.inFlight++
      const started = performance.now()
      const shard = this.keys.shards[batch.shard]!
      let content: ReturnType<Batch['merge']>
      let script: { keys: string[]; args: string[]; expires: string[] }
      const sentAt = Date.now()
      let visitors: Map<string, Set<string>> | undefined
      try {
        content = batch.merge(this.own, this.admissions, this.names, this.visitIds)
        // The global visitors HyperLogLog is in another slot than a shard of several: it gets
        // its own call after the counts are stored (PFADD is idempotent, so a retry is harmless).
        if (shard.tag !== this.keys.tag) visitors = content.merged.takePfadds()
        const renewed = this.renewed
        script = batchScript(content.merged, {
          ttl: this.ttl,
          dimCap: content.dimCap,
          maxRows: this.options.maxPendingRows,
          fresh: (key) => sentAt - (renewed.get(key) ?? Number.NEGATIVE_INFINITY) < TTL_RENEWED_MS,
        })
      } catch (err) {
        this.inFlight--
        batch.reject(new CountersUnavailable(err))
        continue
      }
      // Settles once: on Redis's answer, or on the timeout, whichever comes first. A plain
      // timer rather than Promise.race: no extra promises per batch.
      let settled = false
      let timer: Timer | undefined
      const settle = (error?: unknown, refused?: number[], dropped = 0, absent: number[] = []) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.inFlight--
        this.options.onCommit?.({
          requests: content.requests,
          gone: content.gone,
          ops: content.ops,
          cappedEvents: content.cappedEvents,
          uncappedEvents: content.uncappedEvents,
          rows: content.merged.rowCount,
          droppedRows: dropped,
          seconds: (performance.now() - started) / 1000,
          error,
        })
        if (error === undefined) {
          if (refused) content.merged.learn(refused)
          const missing = new Set(absent.map((k) => script.keys[k - 1]))
          for (const key of script.expires) if (!missing.has(key)) this.renewed.set(key, sentAt)
          batch.resolve()
          if (visitors) this.addVisitors(visitors, content.merged.recent)
        } else batch.reject(new CountersUnavailable(error))
        this.kick()
      }
      if (content.requests === 0) {
        // every client of the batch has gone: nothing to store
        settle()
        continue
      }
      const ms = this.options.timeoutMs ?? 5000
      timer = setTimeout(() => settle(new Error(`Redis did not answer within ${ms} ms`)), ms)
      runScript(this.redis, APPLY_BATCH, script.keys, script.args).then(
        (reply) => {
          const [refused, dropped, absent] = reply as [number[], number, number[]]
          settle(undefined, refused, Number(dropped), absent)
        },
        (err) => settle(err ?? new Error('Redis call failed')),
      )
    }
  }
}
