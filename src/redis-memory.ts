/**
 * Redis's memory headroom. Near `maxmemory` a `noeviction` Redis refuses writes, and beacons get
 * 503s: someone should hear of it before. A light timer of its own reads INFO (every master of a
 * cluster) and logs a warning when a master passes {@link MEMORY_WARN_RATIO} of its
 * `maxmemory`, once: again only after it has gone below and passed it anew. `/metrics` and
 * `/readyz` read the same numbers when asked.
 *
 * @example
 * const memory = new RedisMemory(() => readRedisInfo(redis), log)
 * memory.start() // checks now, then every 15 s
 * memory.stop()
 */
import { memoryRatio, type RedisNodeInfo } from './db/redis-info.ts'
import { errorMessage, type Logger } from './log.ts'

/** The share of `maxmemory` past which a warning is logged. */
export const MEMORY_WARN_RATIO = 0.8
const PERCENT = Math.round(MEMORY_WARN_RATIO * 100)

/** How often the timer looks (INFO is a few hundred bytes; this costs Redis nothing). */
const CHECK_INTERVAL_MS = 15_000

export class RedisMemory {
  readonly #read: () => Promise<RedisNodeInfo[]>
  readonly #log: Logger
  readonly #intervalMs: number
  /** masters past the ratio at the last check: warned about, not again until they go below */
  readonly #above = new Set<string>()
  #reading?: Promise<RedisNodeInfo[]>
  #timer?: Timer
  #failing = false

  constructor(read: () => Promise<RedisNodeInfo[]>, log: Logger, options: { intervalMs?: number } = {}) {
    this.#read = read
    this.#log = log
    this.#intervalMs = options.intervalMs ?? CHECK_INTERVAL_MS
  }

  /** The masters' INFO; callers at the same moment (a scrape's gauges) share one read. */
  read(): Promise<RedisNodeInfo[]> {
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined
    })
    return this.#reading
  }

  /** Reads once and logs the masters that passed the ratio since the last check. */
  async check(): Promise<RedisNodeInfo[]> {
    const masters = await this.read()
    for (const master of masters) {
      const ratio = memoryRatio(master) ?? 0
      if (ratio < MEMORY_WARN_RATIO) {
        if (this.#above.delete(master.node)) {
          this.#log.info(`redis memory back under ${PERCENT}% of maxmemory`, { node: master.node, ratio: round(ratio) })
        }
      } else if (!this.#above.has(master.node)) {
        this.#above.add(master.node)
        this.#log.warn(
          `redis memory past ${PERCENT}% of maxmemory: at maxmemory Redis refuses writes and events are answered 503; ` +
            'raise maxmemory or flush more often (FLUSH_INTERVAL_MS)',
          { node: master.node, used_memory: master.usedMemory, maxmemory: master.maxmemory, ratio: round(ratio) },
        )
      }
    }
    return masters
  }

  /** Checks now, then every interval, until {@link stop}. */
  start(): void {
    if (this.#timer) return
    const tick = () =>
      this.check().then(
        () => {
          this.#failing = false
        },
        (err) => {
          // a side path: one line when it starts failing (Redis down is logged elsewhere)
          if (!this.#failing) this.#log.warn('redis memory not checked', { error: errorMessage(err) })
          this.#failing = true
        },
      )
    this.#timer = setInterval(tick, this.#intervalMs)
    this.#timer.unref()
    tick()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}

function round(ratio: number): number {
  return Math.round(ratio * 1000) / 1000
}
