/**
 * Group commit: the increments of all requests that arrive while Redis is busy are merged in
 * memory and applied in one Lua call (one round trip), and each request is answered only after
 * its batch is in Redis. A failed call rejects every request of that batch; the script is atomic,
 * so nothing is half-applied.
 *
 * @example
 * const batcher = new GroupCommit(redis, { ttlSeconds: 604800 })
 * await batcher.add(opsFor(event, ctx)) // resolves once the batch holding these ops is stored
 */
import type { Redis } from '../db/redis.ts'
import { APPLY_BATCH } from './apply.lua.ts'
import type { Op } from './increments.ts'
import { runScript } from './script.ts'

/** Lua's unpack() has a stack limit of a few thousand values; PFADD calls are split below it. */
const PFADD_CHUNK = 1000

export interface GroupCommitOptions {
  ttlSeconds: number
  /** TTL of the per-day "seen" sets behind the caps: the day plus a margin */
  seenTtlSeconds?: number
  /** batches in flight at once */
  maxInFlight?: number
  /** distinct counters in one batch before a new batch starts */
  maxBatchOps?: number
  /** called after every commit: batch size in requests, distinct ops, seconds, error if any */
  onCommit?: (requests: number, ops: number, seconds: number, error?: unknown) => void
}

type Capped = Extract<Op, { op: 'capped' }>

class Batch {
  readonly incr = new Map<string, Map<string, number>>()
  readonly capped = new Map<string, Capped>()
  readonly pfadd = new Map<string, Set<string>>()
  size = 0
  requests = 0
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

  merge(ops: readonly Op[]): void {
    this.requests++
    for (const op of ops) {
      if (op.op === 'incr') {
        let fields = this.incr.get(op.key)
        if (!fields) {
          fields = new Map()
          this.incr.set(op.key, fields)
        }
        const prev = fields.get(op.field)
        if (prev === undefined) this.size++
        fields.set(op.field, (prev ?? 0) + op.by)
      } else if (op.op === 'capped') {
        const id = `${op.seen}\n${op.key}\n${op.prefix}\n${op.member}`
        const prev = this.capped.get(id)
        if (prev) prev.by += op.by
        else {
          this.capped.set(id, { ...op })
          this.size++
        }
      } else {
        let set = this.pfadd.get(op.key)
        if (!set) {
          set = new Set()
          this.pfadd.set(op.key, set)
        }
        if (!set.has(op.element)) {
          set.add(op.element)
          this.size++
        }
      }
    }
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

export class GroupCommit {
  private readonly queue: Batch[] = []
  private open: Batch | undefined
  private inFlight = 0
  private scheduled = false
  private readonly ttl: number
  private readonly seenTtl: number
  private readonly maxInFlight: number
  private readonly maxBatchOps: number

  constructor(
    private readonly redis: Redis,
    private readonly options: GroupCommitOptions,
  ) {
    this.ttl = options.ttlSeconds
    this.seenTtl = options.seenTtlSeconds ?? 2 * 86_400
    this.maxInFlight = options.maxInFlight ?? 1
    this.maxBatchOps = options.maxBatchOps ?? 20_000
  }

  /** Adds one request's ops; resolves when they are stored, rejects if their batch failed. */
  add(ops: readonly Op[]): Promise<void> {
    let batch = this.open
    if (!batch || batch.size >= this.maxBatchOps) {
      batch = this.open = new Batch()
      this.queue.push(batch)
    }
    batch.merge(ops)
    this.kick()
    return batch.done
  }

  /** Requests waiting for a batch to be stored (queued or in flight). */
  pending(): number {
    return this.queue.length + this.inFlight
  }

  /** Resolves when every batch added so far has been committed or has failed. */
  async drain(): Promise<void> {
    const last = this.queue.at(-1)
    if (last) await last.done.catch(() => {})
    while (this.inFlight > 0) await Bun.sleep(1)
  }

  private kick(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return
    this.scheduled = true
    // setImmediate runs after this turn's I/O: every request that arrived in it joins the batch.
    setImmediate(() => {
      this.scheduled = false
      this.send()
    })
  }

  private send(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.shift()!
      if (batch === this.open) this.open = undefined
      this.inFlight++
      const started = performance.now()
      const { keys, args } = batch.toScriptArgs(this.ttl, this.seenTtl)
      runScript(this.redis, APPLY_BATCH, keys, args).then(
        () => {
          this.inFlight--
          this.options.onCommit?.(batch.requests, batch.size, (performance.now() - started) / 1000)
          batch.resolve()
          this.kick()
        },
        (err) => {
          this.inFlight--
          this.options.onCommit?.(batch.requests, batch.size, (performance.now() - started) / 1000, err)
          batch.reject(err)
          this.kick()
        },
      )
    }
  }
}
