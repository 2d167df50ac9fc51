/**
 * The flusher: moves pending counter deltas from Redis to Postgres exactly once.
 *
 * One flush: take the lease → replay snapshots left by flushes that died → freeze what is pending
 * into a new snapshot (atomic) → write it to Postgres in one transaction with its batch id →
 * delete the snapshot. A snapshot is deleted only after its transaction committed, and a batch id
 * already in `analytics_flush_log` is never applied again, so a crash at any step loses nothing
 * and doubles nothing. The lease only keeps instances from doing the same work twice; correctness
 * does not depend on it.
 *
 * A batch Postgres refuses for its data, not for being down (a value no row may hold, which the
 * limits on what is counted are there to prevent), is set aside: it stays in Redis, where reads
 * still count it, is named in the log, `/metrics`, `/readyz` and the dashboard, and is skipped by
 * later flushes until an admin retries or exports it. Counters add up in any order, so the
 * batches after it flush as usual: no value can stop the flush (invariant I7).
 *
 * @example
 * const flusher = new Flusher({ redis, pool, keys, log, metrics }, { intervalMs: 300_000, ttlSeconds })
 * flusher.start()           // Bun timer, never overlapping itself, backs off on failure
 * await flusher.flush()     // one flush now (waits for a running one first)
 * await flusher.stop()      // stops the timer and runs a final flush
 */
import { randomBytes } from 'node:crypto'
import type { Pool } from '@neondatabase/serverless'
import { type Keys, PENDING_KINDS, ROWS, type ShardKeys, SNAPSHOT_KINDS } from '../counters/keys.ts'
import type { Redis } from '../db/redis.ts'
import { runScript } from '../db/script.ts'
import { enforceRetention } from '../log/retention.ts'
import { decodeRows } from '../log/row.ts'
import type { EventStore } from '../log/store.ts'
import { errorMessage, type Logger } from '../log.ts'
import type { Metrics } from '../metrics.ts'
import { type SnapshotHashes, toRows } from './rows.ts'
import {
  DROP_SNAPSHOT,
  HOLD,
  MOVE_PENDING,
  READ_VISITOR_SET,
  RELEASE_LEASE,
  TAKE_HELD,
  TAKE_LEASE,
} from './scripts.lua.ts'
import { type StepHook, type VisitorSet, writeBatch } from './write.ts'

export interface FlusherDeps {
  redis: Redis
  pool: Pool
  keys: Keys
  log: Logger
  metrics?: Metrics
  /** where the event log's rows go, in the same transaction as the counters */
  eventStore?: EventStore
  /** EVENTS_RETENTION_DAYS: the log's days older than this are dropped after a flush (0: kept) */
  retentionDays?: number
  /** the sites whose counters are flushed, each flush (default: the default site alone) */
  sites?: () => readonly number[]
}

export interface FlusherOptions {
  intervalMs: number
  /** TTL of snapshot keys (the counters' TTL) */
  ttlSeconds: number
  /** set false to flush without the lease (tests of I2 without it) */
  lease?: boolean
  leaseMs?: number
  /** first retry delay after a failure; doubles up to the interval */
  retryBaseMs?: number
  statementTimeoutMs?: number
  /** test-only: called between steps so a crash can be injected */
  onStep?: StepHook
  /**
   * Pending event log rows that make a flush run before the interval (checked every
   * ROWS_CHECK_MS): rows grow with traffic, counters only with distinct keys.
   */
  flushRows?: number
}

/** How often the pending event log rows are counted, to flush early when there are many. */
export const ROWS_CHECK_MS = 2000

export interface FlushStats {
  runs: number
  consecutiveFailures: number
  lastFlushAt?: string
  lastDurationMs?: number
  lastCounters: number
  countersTotal: number
  /** snapshots in Redis not yet written (left by failed or crashed flushes), not counting held ones */
  waitingBatches: number
  lastError?: string
}

/**
 * How long the final flush at shutdown may take in all: under the 10 s grace period most
 * orchestrators give, with room for the HTTP server and the clients to close. A flush cut short
 * loses nothing: its snapshot stays in Redis and the next flush of any instance writes it.
 */
export const FINAL_FLUSH_MS = 8000
/**
 * How long the final flush waits for the lease before it flushes without it. A holder may be an
 * instance that died mid-flush (its lease lasts up to 30 s); batch ids keep a flush without the
 * lease exactly-once, so waiting longer would only risk the grace period.
 */
const FINAL_LEASE_WAIT_MS = 1000

/** timer: skip if another instance flushes; request: wait for the lease; final: see FINAL_LEASE_WAIT_MS. */
type FlushMode = 'timer' | 'request' | 'final'

export class FlushError extends Error {}

/** Another instance holds the lease: not a failure of this flush, nothing to retry here. */
class LeaseBusy extends FlushError {}

/**
 * SQLSTATE classes of a refusal for the data itself, the same on every retry: 22 data exception
 * (a malformed date or count, an untranslatable character), 23 integrity constraint violation, 54
 * program limit exceeded (an index row too large). Any other error (a connection lost, a timeout,
 * a serialization failure, Postgres shutting down) is retried, with everything behind it.
 */
const DATA_CLASSES = new Set(['22', '23', '54'])

/** The SQLSTATE of a Postgres error that refuses the data itself, else undefined. */
export function dataRefusal(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  return typeof code === 'string' && code.length === 5 && DATA_CLASSES.has(code.slice(0, 2)) ? code : undefined
}

/** A snapshot set aside, as `GET /analytics/flush/held` lists it. */
export interface HeldBatch {
  batch_id: string
  /** the site whose counts it holds */
  site: number
  /** its place in its shard's order of moves */
  seq: number
  held_at: string
  /** Postgres's SQLSTATE and message */
  code: string
  error: string
  /** distinct counters it holds */
  counters: number
  /** event log rows it holds */
  events?: number
}

/** A held snapshot's whole content, as the export answers it: each pending kind's hash, and its log rows. */
export interface HeldExport extends HeldBatch {
  hashes: SnapshotHashes
  /** the event log's rows, as Redis holds them (src/log/row.ts) */
  rows: string[]
}

type HeldInfo = Omit<HeldBatch, 'batch_id'>

/** A held snapshot from its record in the held hash. */
const heldBatch = (batchId: string, info: string): HeldBatch => ({
  batch_id: batchId,
  ...(JSON.parse(info) as HeldInfo),
})

export class Flusher {
  readonly instanceId = randomBytes(6).toString('hex')
  private chain: Promise<unknown> = Promise.resolve()
  private timer: Timer | undefined
  private rowsTimer: Timer | undefined
  private running = false
  private stopped = false
  private readonly stats: FlushStats = {
    runs: 0,
    consecutiveFailures: 0,
    lastCounters: 0,
    countersTotal: 0,
    waitingBatches: 0,
  }

  constructor(
    private readonly deps: FlusherDeps,
    private readonly options: FlusherOptions,
  ) {}

  /**
   * Starts the timer; the first flush runs one interval from now, or sooner once
   * `flushRows` log rows are pending.
   */
  start(): void {
    this.stopped = false
    this.schedule(this.options.intervalMs)
    const threshold = this.options.flushRows
    if (threshold !== undefined) {
      this.rowsTimer = setInterval(() => {
        if (this.running || this.stopped) return
        this.rowsWaiting()
          .then((rows) => {
            if (rows < threshold || this.running || this.stopped) return
            const run = this.chain.then(() => this.flushOnce('timer'))
            this.chain = run.catch(() => {})
          })
          .catch(() => {})
      }, ROWS_CHECK_MS)
    }
  }

  /** Log rows dropped past EVENTS_PENDING_MAX, as Redis remembers them (a week past the last), over every shard. */
  droppedRows(): Promise<number> {
    return this.overShards(async (shard) =>
      (await this.deps.redis.hVals(shard.dropped)).reduce((a, n) => a + Number(n), 0),
    )
  }

  /** Log rows pending (not yet moved into a snapshot), over every shard. */
  private rowsWaiting(): Promise<number> {
    return this.overShards((shard) => this.deps.redis.lLen(shard.pending(ROWS)))
  }

  /** Log rows in Redis not yet in Postgres: pending, and in snapshots not yet written. */
  pendingRows(): Promise<number> {
    const { redis } = this.deps
    return this.overShards(async (shard) => {
      const ids = await redis.zRange(shard.snapshots, 0, -1)
      const lengths = await Promise.all([
        redis.lLen(shard.pending(ROWS)),
        ...ids.map((id) => redis.lLen(shard.snapshot(id, ROWS))),
      ])
      return lengths.reduce((a, b) => a + b, 0)
    })
  }

  /**
   * Stops the timer, waits for a running flush, then flushes what is left, all within
   * {@link FINAL_FLUSH_MS}; it never throws.
   */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    clearInterval(this.rowsTimer)
    const final = this.chain.then(() => this.flushOnce('final'))
    this.chain = final.catch(() => {})
    let timer: Timer | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), FINAL_FLUSH_MS)
    })
    try {
      const outcome = await Promise.race([final.then(() => 'done' as const), late])
      if (outcome === 'late') {
        this.deps.log.error('final flush did not finish in time; counts stay in Redis for the next flush', {
          ms: FINAL_FLUSH_MS,
        })
      }
    } catch (err) {
      this.deps.log.error('final flush failed; counts stay in Redis', { error: errorMessage(err) })
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Flushes now and resolves with the number of counters written. Calls are serialized: a call
   * made while a flush runs waits for it and then flushes again, so everything acknowledged
   * before the call is covered.
   */
  flush(): Promise<number> {
    const run = this.chain.then(() => this.flushOnce('request'))
    this.chain = run.catch(() => {})
    return run
  }

  getStats(): FlushStats {
    return { ...this.stats }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      const run = this.chain.then(() => this.flushOnce('timer'))
      this.chain = run.catch(() => {})
      run.then(
        () => this.schedule(this.options.intervalMs),
        () => {
          const base = this.options.retryBaseMs ?? 1000
          const backoff = base * 2 ** Math.min(this.stats.consecutiveFailures - 1, 20)
          this.schedule(Math.min(backoff, this.options.intervalMs))
        },
      )
    }, delayMs)
  }

  private async flushOnce(mode: FlushMode): Promise<number> {
    this.running = true
    try {
      return await this.flushRun(mode)
    } finally {
      this.running = false
    }
  }

  private async flushRun(mode: FlushMode): Promise<number> {
    const started = performance.now()
    const { metrics, log } = this.deps
    let lease: Lease | undefined
    try {
      if (this.options.lease !== false) {
        // inside the try: a Redis failure here is a failed flush like any other
        lease = await Lease.take(this.deps.redis, this.deps.keys.lease, this.instanceId, {
          ms: this.options.leaseMs ?? 30_000,
          waitMs: mode === 'timer' ? 0 : mode === 'final' ? FINAL_LEASE_WAIT_MS : 30_000,
          // a request waiting for the lease gives up when the instance starts to stop
          giveUp: () => mode === 'request' && this.stopped,
        })
        if (!lease) {
          // On the timer: another instance is flushing and will write what is pending.
          if (mode === 'timer') return 0
          if (mode === 'request') {
            throw new LeaseBusy('another instance has held the flush lease for 30 s; try again later')
          }
          log.info('final flush without the lease: another instance holds it; batch ids keep the write exactly once')
        }
      }
      let counters = 0
      let batches = 0
      for (const shard of this.shards()) {
        const flushed = await this.flushShard(shard)
        counters += flushed.counters
        batches += flushed.batches
      }

      const ms = performance.now() - started
      Object.assign(this.stats, {
        runs: this.stats.runs + 1,
        consecutiveFailures: 0,
        lastFlushAt: new Date().toISOString(),
        lastDurationMs: Math.round(ms),
        lastCounters: counters,
        countersTotal: this.stats.countersTotal + counters,
        waitingBatches: 0,
        lastError: undefined,
      })
      await this.keepRetention()
      metrics?.flushRuns.inc({ result: 'ok' })
      metrics?.flushSeconds.observe(ms / 1000)
      metrics?.flushCounters.inc(counters)
      if (batches > 0) log.info('flush', { counters, batches, ms: Math.round(ms) })
      return counters
    } catch (err) {
      if (err instanceof LeaseBusy) throw err
      this.stats.consecutiveFailures++
      this.stats.lastError = errorMessage(err)
      this.stats.waitingBatches = await this.waitingBatches().catch(() => -1)
      metrics?.flushRuns.inc({ result: 'failed' })
      log.error('flush failed; counts stay in Redis and are retried', {
        error: errorMessage(err),
        consecutiveFailures: this.stats.consecutiveFailures,
        waitingBatches: this.stats.waitingBatches,
      })
      throw new FlushError(`flush failed: ${errorMessage(err)}`)
    } finally {
      metrics?.flushFailures.set(this.stats.consecutiveFailures)
      await lease?.release()
    }
  }

  /** Drops the log's days past EVENTS_RETENTION_DAYS (at most once an hour); a failure only logs. */
  private async keepRetention(): Promise<void> {
    const { eventStore, retentionDays, log } = this.deps
    if (!eventStore || !retentionDays) return
    try {
      const dropped = await enforceRetention(eventStore, Date.now(), retentionDays)
      if (dropped.length > 0) log.info('event log days dropped: older than EVENTS_RETENTION_DAYS', { days: dropped })
    } catch (err) {
      log.warn('event log retention failed; it is tried again after a later flush', { error: errorMessage(err) })
    }
  }

  /** Snapshots in Redis not yet written to Postgres and not held, over every shard. */
  waitingBatches(): Promise<number> {
    const { redis } = this.deps
    return this.overShards(async (shard) => (await redis.zCard(shard.snapshots)) - (await redis.hLen(shard.held)))
  }

  /** Snapshots set aside, over every shard. */
  heldBatches(): Promise<number> {
    return this.overShards((shard) => this.deps.redis.hLen(shard.held))
  }

  /** Every site's shards: what a flush moves and writes, one snapshot each. */
  private shards(): ShardKeys[] {
    const { keys, sites } = this.deps
    return (sites?.() ?? [keys.site]).flatMap((site) => keys.forSite(site).shards)
  }

  private async overShards(count: (shard: ShardKeys) => Promise<number>): Promise<number> {
    const counts = await Promise.all(this.shards().map(count))
    return counts.reduce((a, b) => a + b, 0)
  }

  /** The snapshots set aside, oldest first. */
  async held(): Promise<HeldBatch[]> {
    const all = await Promise.all(
      this.shards().map(async (shard) =>
        Object.entries(await this.deps.redis.hGetAll(shard.held)).map(([id, info]) => heldBatch(id, info)),
      ),
    )
    return all.flat().sort((a, b) => a.held_at.localeCompare(b.held_at) || a.seq - b.seq)
  }

  /**
   * Retries a held snapshot: it is released and a flush runs at once. Resolves with the batch
   * as held again when Postgres refused it again, undefined when it was written; false when no
   * snapshot of that id is held.
   */
  async retryHeld(batchId: string): Promise<HeldBatch | undefined | false> {
    const shard = await this.shardHolding(batchId)
    if (!shard) return false
    await this.deps.redis.hDel(shard.held, batchId)
    this.deps.log.info('held flush batch released for a retry', { batchId })
    await this.flush()
    const again = await this.deps.redis.hGet(shard.held, batchId)
    return again === null ? undefined : heldBatch(batchId, again)
  }

  /**
   * A held snapshot's content, and with `remove` its keys deleted in the same step (its counts
   * leave Redis and every read; the answer is then their only copy). Undefined when no snapshot
   * of that id is held. Runs in turn with this instance's flushes.
   */
  async exportHeld(batchId: string, remove: boolean): Promise<HeldExport | undefined> {
    const run = this.chain.then(async () => {
      const shard = await this.shardHolding(batchId)
      if (!shard) return undefined
      const reply = (await runScript(
        this.deps.redis,
        TAKE_HELD,
        [shard.held, shard.snapshots, ...SNAPSHOT_KINDS.map((k) => shard.snapshot(batchId, k))],
        [batchId, remove ? '1' : '0'],
      )) as [string, ...string[][]] | null
      if (!reply) return undefined
      const [info, ...hashes] = reply
      const exported: HeldExport = { ...heldBatch(batchId, info), hashes: {}, rows: hashes[PENDING_KINDS.length] ?? [] }
      PENDING_KINDS.forEach((kind, i) => {
        const flat = hashes[i] ?? []
        if (flat.length === 0) return
        const hash: Record<string, string> = {}
        for (let j = 0; j < flat.length; j += 2) hash[flat[j]!] = flat[j + 1]!
        exported.hashes[kind] = hash
      })
      if (remove) this.deps.log.warn('held flush batch exported and removed from Redis', { batchId })
      return exported
    })
    this.chain = run.catch(() => {})
    return run
  }

  private async shardHolding(batchId: string): Promise<ShardKeys | undefined> {
    for (const shard of this.shards()) {
      if (await this.deps.redis.hExists(shard.held, batchId)) return shard
    }
    return undefined
  }

  /** Replays the shard's leftover snapshots, then moves and writes what is pending in it. */
  private async flushShard(shard: ShardKeys): Promise<{ counters: number; batches: number }> {
    const { redis } = this.deps
    let counters = 0
    // Leftovers first, oldest first, so Postgres receives batches in order.
    const leftovers = await redis.zRangeWithScores(shard.snapshots, 0, -1)
    const held = leftovers.length === 0 ? new Set<string>() : new Set(await redis.hKeys(shard.held))
    for (const { value, score } of leftovers) {
      // A snapshot waiting through a long Postgres outage, or held, must not expire meanwhile:
      // every flush renews its TTL.
      await Promise.all(
        [...SNAPSHOT_KINDS.map((k) => shard.snapshot(value, k)), shard.snapshots, shard.held].map((key) =>
          redis.expire(key, this.options.ttlSeconds),
        ),
      )
      if (!held.has(value)) counters += await this.writeOrHold(shard, value, score)
    }

    const batchId = `${Date.now().toString(36)}-${this.instanceId}-${randomBytes(4).toString('hex')}`
    const seq = Number(
      await runScript(
        redis,
        MOVE_PENDING,
        [
          ...SNAPSHOT_KINDS.map((k) => shard.pending(k)),
          ...SNAPSHOT_KINDS.map((k) => shard.snapshot(batchId, k)),
          shard.snapshots,
          shard.sequence,
        ],
        [batchId, String(this.options.ttlSeconds), String(SNAPSHOT_KINDS.length)],
      ),
    )
    if (seq > 0) {
      await this.options.onStep?.('moved', batchId)
      counters += await this.writeOrHold(shard, batchId, seq)
    }
    return { counters, batches: leftovers.length - held.size + (seq > 0 ? 1 : 0) }
  }

  /** Writes one snapshot, or sets it aside when Postgres refuses its data; other errors are thrown. */
  private async writeOrHold(shard: ShardKeys, batchId: string, seq: number): Promise<number> {
    try {
      return await this.writeSnapshot(shard, batchId, seq)
    } catch (err) {
      const code = dataRefusal(err)
      if (code === undefined) throw err
      const counters = (
        await Promise.all(PENDING_KINDS.map((k) => this.deps.redis.hLen(shard.snapshot(batchId, k))))
      ).reduce((a, b) => a + b, 0)
      const events = await this.deps.redis.lLen(shard.snapshot(batchId, ROWS))
      const info: HeldInfo = {
        site: shard.site,
        seq,
        held_at: new Date().toISOString(),
        code,
        error: errorMessage(err),
        counters,
        events,
      }
      await runScript(
        this.deps.redis,
        HOLD,
        [shard.held],
        [batchId, JSON.stringify(info), String(this.options.ttlSeconds)],
      )
      this.deps.metrics?.flushHeld.inc()
      this.deps.log.error('flush batch set aside: Postgres refused its data; later batches keep flushing', {
        batchId,
        code,
        error: info.error,
        counters,
        help: 'GET /analytics/flush/held lists it; see "Held flush batches" in the README',
      })
      return 0
    }
  }

  /** Writes one snapshot (unless already written) and forgets it; returns the counters written. */
  private async writeSnapshot(shard: ShardKeys, batchId: string, seq: number): Promise<number> {
    const { redis, pool } = this.deps
    const keys = this.deps.keys.forSite(shard.site)
    const snapKeys = SNAPSHOT_KINDS.map((k) => shard.snapshot(batchId, k))
    const hashes = await Promise.all(PENDING_KINDS.map((k) => redis.hGetAll(shard.snapshot(batchId, k))))
    const snapshot: SnapshotHashes = {}
    PENDING_KINDS.forEach((kind, i) => {
      snapshot[kind] = hashes[i]
    })
    const rows = toRows(snapshot)
    const events = decodeRows(await readList(redis, shard.snapshot(batchId, ROWS)), shard.site)
    if (rows.counters === 0) {
      // registered but empty: its keys expired (Postgres stayed unreachable for longer than the
      // counters' TTL), and so did its counts
      this.deps.log.error('snapshot expired before it could be written; its counts are lost', { batchId })
    }
    let written = 0
    if (rows.counters > 0) {
      const visitors = new Map(
        await Promise.all(rows.visitorDays.map(async (day) => [day, await readVisitorSet(redis, keys, day)] as const)),
      )
      const log = this.deps.eventStore
      if (log && events.length > 0) await log.prepare(events)
      const result = await writeBatch(
        pool,
        { batchId, site: shard.site, seq, rows, visitors, events: log ? events : [] },
        { statementTimeoutMs: this.options.statementTimeoutMs, onStep: this.options.onStep, eventStore: log },
      )
      if (result === 'applied') {
        written = rows.counters
        await this.options.onStep?.('committed', batchId)
      }
    }
    await runScript(redis, DROP_SNAPSHOT, [...snapKeys, shard.snapshots], [batchId])
    return written
  }
}

/**
 * A day's visitors as they are now in Redis: the HyperLogLog's bytes (null once it has expired),
 * and its estimate. The set only grows while it lives, so the latest read holds every earlier one.
 */
async function readVisitorSet(redis: Redis, keys: Keys, day: string): Promise<VisitorSet> {
  const [hll, estimate] = (await runScript(redis, READ_VISITOR_SET, [keys.visitors(day)], [], { binary: true })) as [
    Buffer | null,
    number,
  ]
  return { hll: hll ?? null, estimate: Number(estimate) }
}

/** LRANGE chunk: a snapshot's rows are read a slice at a time, not in one reply of up to ~80 MB. */
const LIST_CHUNK = 50_000

/** A whole list, read in slices (a snapshot's list no longer changes). */
async function readList(redis: Redis, key: string): Promise<string[]> {
  const all: string[] = []
  for (let from = 0; ; from += LIST_CHUNK) {
    const part = await redis.lRange(key, from, from + LIST_CHUNK - 1)
    all.push(...part)
    if (part.length < LIST_CHUNK) return all
  }
}

/** A Redis lease with expiry, renewed while held. */
class Lease {
  private renewal: Timer | undefined

  private constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly owner: string,
  ) {}

  static async take(
    redis: Redis,
    key: string,
    owner: string,
    options: { ms: number; waitMs: number; giveUp?: () => boolean },
  ): Promise<Lease | undefined> {
    const deadline = Date.now() + options.waitMs
    for (;;) {
      if (options.giveUp?.()) return undefined
      const got = await runScript(redis, TAKE_LEASE, [key], [owner, String(options.ms)])
      if (got === 1) {
        const lease = new Lease(redis, key, owner)
        lease.renewal = setInterval(
          () => void runScript(redis, TAKE_LEASE, [key], [owner, String(options.ms)]).catch(() => {}),
          Math.max(options.ms / 3, 100),
        )
        return lease
      }
      if (Date.now() >= deadline) return undefined
      await Bun.sleep(100)
    }
  }

  async release(): Promise<void> {
    clearInterval(this.renewal)
    await runScript(this.redis, RELEASE_LEASE, [this.key], [this.owner]).catch(() => {})
  }
}
