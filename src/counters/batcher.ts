/**
 * Group commit: the increments of all requests that arrive while Redis is busy are merged in
 * memory and applied in one Lua call (one round trip), and each request is answered only after
 * its batch is in Redis. A failed call rejects every request of that batch. The script runs alone
 * (no other command sees half of it) and Redis refuses it whole when out of memory; it touches
 * only our own hashes, sets and HyperLogLogs, so it has no other way to fail half-way. A reply
 * lost after the script ran still answers 503: a client that retries may then count twice.
 *
 * @example
 * const batcher = new GroupCommit(redis, { ttlSeconds: 604800 })
 * await batcher.add(opsFor(event, ctx)) // resolves once the batch holding these ops is stored
 */
import type { Redis } from '../db/redis.ts'
import { runScript } from '../db/script.ts'
import type { CountedEvent } from '../events/types.ts'
import { APPLY_BATCH } from './apply.lua.ts'
import { type Caps, type Op, opsFor, signature, visitorOps } from './increments.ts'
import { dayOf, type Keys, type ShardKeys } from './keys.ts'

/** Lua's unpack() has a stack limit of a few thousand values; PFADD calls are split below it. */
const PFADD_CHUNK = 1000
/** The per-day "seen" sets behind the caps live for the day plus a margin. */
const SEEN_TTL_SECONDS = 2 * 86_400
/**
 * Batches in flight at once. More overlap measured no faster (the process is CPU-bound, and
 * requests wait less only when the loop is idle), so one, which also keeps Redis load steady.
 */
const MAX_IN_FLIGHT = 1
/** Distinct counters in one batch before a new batch starts. */
const MAX_BATCH_OPS = 20_000

export interface GroupCommitOptions {
  ttlSeconds: number
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
  /**
   * What the requests of a failed batch are rejected with, given Redis's error (default: that
   * error). The failure is reported once per batch through `onCommit`.
   */
  failure?: (error: unknown) => unknown
}

export interface Commit {
  /** requests in the batch */
  requests: number
  /** distinct events and visitors: the size of the Redis call */
  ops: number
  /** events added with caps (browser events) and without (server events) */
  cappedEvents: number
  uncappedEvents: number
  seconds: number
  /** Redis's error when the batch was not stored */
  error?: unknown
}

type Capped = Extract<Op, { op: 'capped' }>

/** Ops merged so that each (key, field) and each capped member appears once. */
class MergedOps {
  readonly incr = new Map<string, Map<string, number>>()
  readonly capped = new Map<string, Capped>()
  readonly pfadd = new Map<string, Set<string>>()

  merge(ops: readonly Op[]): void {
    for (const op of ops) {
      if (op.op === 'incr') {
        let fields = this.incr.get(op.key)
        if (!fields) {
          fields = new Map()
          this.incr.set(op.key, fields)
        }
        fields.set(op.field, (fields.get(op.field) ?? 0) + op.by)
      } else if (op.op === 'capped') {
        const id = `${op.seen}\n${op.key}\n${op.prefix}\n${op.member}`
        const prev = this.capped.get(id)
        if (prev) prev.by += op.by
        else this.capped.set(id, { ...op })
      } else {
        let set = this.pfadd.get(op.key)
        if (!set) {
          set = new Set()
          this.pfadd.set(op.key, set)
        }
        set.add(op.element)
      }
    }
  }

  /** Removes and returns the PFADDs (for keys outside the batch's slot). */
  takePfadds(): Map<string, Set<string>> {
    const pfadd = new Map(this.pfadd)
    this.pfadd.clear()
    return pfadd
  }

  /** KEYS and ARGV of APPLY_BATCH. */
  toScriptArgs(ttl: number, seenTtl: number): { keys: string[]; args: string[] } {
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
    // Seen sets first: the script gives the first nSeen keys their own TTL.
    for (const c of this.capped.values()) idx(c.seen)
    const nSeen = keys.length

    const args: string[] = [String(ttl), String(seenTtl), String(nSeen)]
    const incr: string[] = []
    let n = 0
    for (const [key, fields] of this.incr) {
      const k = idx(key)
      for (const [field, by] of fields) {
        incr.push(k, field, String(by))
        n++
      }
    }
    args.push(String(n), ...incr, String(this.capped.size))
    for (const c of this.capped.values()) {
      args.push(idx(c.seen), String(c.cap), c.member, idx(c.key), c.prefix, String(c.by))
    }
    const pf: string[] = []
    let p = 0
    for (const [key, set] of this.pfadd) {
      const k = idx(key)
      const elements = [...set]
      for (let i = 0; i < elements.length; i += PFADD_CHUNK) {
        const chunk = elements.slice(i, i + PFADD_CHUNK)
        pf.push(k, String(chunk.length), ...chunk)
        p++
      }
    }
    args.push(String(p), ...pf)
    return { keys, args }
  }
}

/** The events of the requests merged into one round trip: each distinct event once, with a count. */
class Batch {
  readonly events = new Map<string, { event: CountedEvent; n: number; caps?: Caps }>()
  readonly visitors = new Map<string, Set<string>>()
  size = 0
  requests = 0
  cappedEvents = 0
  uncappedEvents = 0
  readonly done: Promise<void>
  resolve!: () => void
  reject!: (err: unknown) => void

  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // Every request awaits `done`; this keeps a rejection with no listener left from crashing.
    this.done.catch(() => {})
  }

  add(events: readonly CountedEvent[], caps: Caps | undefined, visitor: string | undefined): void {
    this.requests++
    if (caps === undefined) this.uncappedEvents += events.length
    else this.cappedEvents += events.length
    for (const event of events) {
      const sig = signature(event, caps !== undefined)
      const entry = this.events.get(sig)
      if (entry) entry.n++
      else {
        this.events.set(sig, { event, n: 1, caps })
        this.size++
      }
    }
    if (visitor !== undefined && events.length > 0) {
      const day = dayOf(events[0]!.at)
      let set = this.visitors.get(day)
      if (!set) {
        set = new Set()
        this.visitors.set(day, set)
      }
      if (!set.has(visitor)) {
        set.add(visitor)
        this.size++
      }
    }
  }

  toOps(shard: ShardKeys, keys: Keys): MergedOps {
    const merged = new MergedOps()
    for (const { event, n, caps } of this.events.values()) merged.merge(opsFor(event, { keys: shard, caps }, n))
    for (const [day, hashes] of this.visitors) merged.merge(visitorOps(shard, keys, day, hashes))
    return merged
  }
}

export class GroupCommit {
  private readonly queue: Batch[] = []
  private open: Batch | undefined
  private inFlight = 0
  private scheduled = false
  private nextShard = 0
  private readonly ttl: number

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly options: GroupCommitOptions,
  ) {
    this.ttl = options.ttlSeconds
  }

  /**
   * Adds one request's events (capped when `caps` is given, with the sender's visitor hash when
   * given); resolves when they are stored, rejects if their batch failed.
   */
  add(events: readonly CountedEvent[], caps?: Caps, visitor?: string): Promise<void> {
    let batch = this.open
    if (!batch || batch.size >= MAX_BATCH_OPS) {
      batch = this.open = new Batch()
      this.queue.push(batch)
    }
    batch.add(events, caps, visitor)
    this.kick()
    return batch.done
  }

  /** Resolves when every batch added so far has been committed or has failed. */
  async drain(): Promise<void> {
    const last = this.queue.at(-1)
    if (last) await last.done.catch(() => {})
    while (this.inFlight > 0) await Bun.sleep(1)
  }

  private kick(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return
    this.scheduled = true
    // setImmediate runs after this turn's I/O: every request that arrived in it joins the batch.
    setImmediate(() => {
      this.scheduled = false
      this.send()
    })
  }

  private addVisitors(visitors: Map<string, Set<string>>): void {
    for (const [key, elements] of visitors) {
      // The counts are stored and acknowledged: a lost visitor add only lowers an estimate.
      // The TTL goes with the add, in one MULTI on the key's own slot.
      this.redis
        .multi()
        .pfAdd(key, [...elements])
        .expire(key, this.ttl)
        .exec()
        .catch((err) => this.options.onVisitorsLost?.(err))
    }
  }

  private send(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.shift()!
      if (batch === this.open) this.open = undefined
      this.inFlight++
      const started = performance.now()
      // batches take turns over the shards, spreading the writes over a cluster's nodes
      const shard = this.keys.shards[this.nextShard++ % this.keys.shards.length]!
      let script: { keys: string[]; args: string[] }
      let visitors: Map<string, Set<string>> | undefined
      try {
        const merged = batch.toOps(shard, this.keys)
        // The global visitors HyperLogLog is in another slot than a shard of several: it gets
        // its own call after the counts are stored (PFADD is idempotent, so a retry is harmless).
        if (shard.tag !== this.keys.tag) visitors = merged.takePfadds()
        script = merged.toScriptArgs(this.ttl, SEEN_TTL_SECONDS)
      } catch (err) {
        this.inFlight--
        batch.reject(err)
        continue
      }
      const { keys, args } = script
      // Settles once: on Redis's answer, or on the timeout, whichever comes first. A plain
      // timer rather than Promise.race: no extra promises per batch.
      let settled = false
      const settle = (error?: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.inFlight--
        this.options.onCommit?.({
          requests: batch.requests,
          ops: batch.size,
          cappedEvents: batch.cappedEvents,
          uncappedEvents: batch.uncappedEvents,
          seconds: (performance.now() - started) / 1000,
          error,
        })
        if (error === undefined) {
          batch.resolve()
          if (visitors) this.addVisitors(visitors)
        } else batch.reject(this.options.failure ? this.options.failure(error) : error)
        this.kick()
      }
      const ms = this.options.timeoutMs ?? 5000
      const timer = setTimeout(() => settle(new Error(`Redis did not answer within ${ms} ms`)), ms)
      runScript(this.redis, APPLY_BATCH, keys, args).then(
        () => settle(),
        (err) => settle(err ?? new Error('Redis call failed')),
      )
    }
  }
}
