/**
 * Abuse limits of the write routes, all per instance: a token bucket per client address, and
 * slots, a cap on requests in one stage of their work that sheds load with 503 before memory
 * grows. A slot is held by a `using` declaration, so no caller pairs an enter with a leave.
 *
 * @example
 * const buckets = new TokenBuckets({ perSecond: 50, burst: 200 })
 * const wait = buckets.take('203.0.113.9') // 0 when allowed, else seconds until a token
 * const writes = new Slots(5000)
 * using _slot = writes.take() // 503 when 5000 are already taken; released at the end of the scope
 */
import { overloaded } from './refusal.ts'

export interface BucketOptions {
  /** tokens added per second (0 disables the limit) */
  perSecond: number
  /** bucket size: requests allowed at once after a quiet spell */
  burst: number
  /** addresses tracked at most; beyond it the idlest are forgotten (they start full again) */
  maxTracked?: number
  now?: () => number
}

interface Bucket {
  tokens: number
  /** ms of the last refill */
  at: number
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()
  private readonly maxTracked: number
  private readonly now: () => number
  private lastSweep = 0

  constructor(private readonly options: BucketOptions) {
    this.maxTracked = options.maxTracked ?? 100_000
    this.now = options.now ?? Date.now
  }

  get enabled(): boolean {
    return this.options.perSecond > 0
  }

  get size(): number {
    return this.buckets.size
  }

  /** Takes one token for `key`: 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    if (!this.enabled) return 0
    const { perSecond, burst } = this.options
    const now = this.now()
    if (now - this.lastSweep > 30_000) {
      this.lastSweep = now
      this.sweep()
    }
    let bucket = this.buckets.get(key)
    if (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond)
      bucket.at = now
      // Map keeps insertion order: moving the key to the end keeps the idlest first
      this.buckets.delete(key)
      this.buckets.set(key, bucket)
    } else {
      if (this.buckets.size >= this.maxTracked) this.forgetIdlest()
      bucket = { tokens: burst, at: now }
      this.buckets.set(key, bucket)
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil((1 - bucket.tokens) / perSecond)
  }

  /** Drops buckets full again (idle long enough to refill): they would start full anyway. */
  sweep(): void {
    const now = this.now()
    const { perSecond, burst } = this.options
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * perSecond >= burst) this.buckets.delete(key)
    }
  }

  private forgetIdlest(): void {
    const drop = Math.max(1, Math.floor(this.maxTracked / 10))
    let n = 0
    for (const key of this.buckets.keys()) {
      this.buckets.delete(key)
      if (++n >= drop) break
    }
  }
}

/**
 * A cap on requests in one stage of their work (0: no cap). A slot is held by a `using`
 * declaration, so the language releases it when the scope ends, however it ends; the disposable
 * is one object per Slots, so holding a slot allocates nothing (this is on every beacon's path).
 *
 * @example
 * {
 *   using _slot = writes.take() // throws the 503 refusal when every slot is taken
 *   await recorder.browser(events, sender)
 * } // released here
 */
export class Slots {
  private current = 0
  private readonly slot: Disposable = {
    [Symbol.dispose]: () => {
      this.current--
    },
  }

  constructor(private readonly max: number) {}

  get count(): number {
    return this.current
  }

  /** Takes a slot for the enclosing `using` scope; a 503 refusal when none is free. */
  take(): Disposable {
    if (this.max > 0 && this.current >= this.max) throw overloaded()
    this.current++
    return this.slot
  }
}
