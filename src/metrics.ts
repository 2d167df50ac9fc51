/**
 * Prometheus metrics of one app instance (its own registry, so several apps in one test process
 * do not collide).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { fullest, type RedisNodeInfo } from './db/redis-info.ts'

export type RejectReason =
  | 'bot'
  | 'origin'
  /** the beacon named no site this deployment counts, or came from a page of none */
  | 'unknown_site'
  | 'invalid'
  | 'too_large'
  | 'content_type'
  | 'unauthorized'
  | 'unavailable'
  | 'rate_limited'
  | 'overloaded'
  /** the body did not arrive within BODY_TIMEOUT_MS */
  | 'timeout'
  /** the body could not be read: the client went away while sending it */
  | 'aborted'
  /** the client went away before its events were stored, so they were left out */
  | 'client_gone'

export function createMetrics() {
  const registry = new Registry()
  const registers = [registry]
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    accepted: new Counter({
      name: 'analytics_events_accepted_total',
      help: 'Events stored in Redis, by source',
      labelNames: ['source'] as const,
      registers,
    }),
    rejected: new Counter({
      name: 'analytics_events_rejected_total',
      help: 'Requests or events not counted, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    batchRequests: new Histogram({
      name: 'analytics_group_commit_requests',
      help: 'Requests merged into one Redis round trip',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'analytics_group_commit_seconds',
      help: 'Duration of one group-commit round trip to Redis',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    redisErrors: new Counter({
      name: 'analytics_redis_errors_total',
      help: 'Failed Redis calls on the write path',
      registers,
    }),
    flushRuns: new Counter({
      name: 'analytics_flush_runs_total',
      help: 'Flushes to Postgres, by result',
      labelNames: ['result'] as const,
      registers,
    }),
    flushSeconds: new Histogram({
      name: 'analytics_flush_seconds',
      help: 'Duration of a successful flush',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
    flushCounters: new Counter({
      name: 'analytics_flush_counters_total',
      help: 'Counters written to Postgres',
      registers,
    }),
    flushFailures: new Gauge({
      name: 'analytics_flush_consecutive_failures',
      help: 'Flushes failed in a row (0 after a success)',
      registers,
    }),
    flushHeld: new Counter({
      name: 'analytics_flush_held_total',
      help: 'Flush batches set aside by this instance because Postgres refused their data',
      registers,
    }),
    logRows: new Counter({
      name: 'analytics_events_logged_total',
      help: 'Event log rows stored in Redis by this instance (each counted event is one)',
      registers,
    }),
    logDropped: new Counter({
      name: 'analytics_events_log_dropped_total',
      help: 'Event log rows not kept because EVENTS_PENDING_MAX rows were waiting for Postgres; their counters are exact, filtered reads miss them',
      registers,
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/**
 * Gauges read at scrape time from the parts that hold the state: the flusher, the live hub and
 * Redis itself (its INFO; of a cluster, the fullest master's).
 */
export function observe(
  metrics: Metrics,
  flusher: {
    waitingBatches(): Promise<number>
    heldBatches(): Promise<number>
    pendingRows(): Promise<number>
    getStats(): { lastFlushAt?: string }
  },
  live: { readonly size: number },
  redisMemory: { read(): Promise<RedisNodeInfo[]> },
): void {
  const registers = [metrics.registry]
  new Gauge({
    name: 'analytics_live_clients',
    help: 'Live-feed (SSE) clients connected to this instance',
    registers,
    collect() {
      this.set(live.size)
    },
  })
  new Gauge({
    name: 'analytics_flush_waiting_batches',
    help: 'Snapshots in Redis not yet written to Postgres (left by failed or crashed flushes)',
    registers,
    async collect() {
      this.set(await flusher.waitingBatches().catch(() => -1))
    },
  })
  new Gauge({
    name: 'analytics_flush_held_batches',
    help: 'Snapshots set aside because Postgres refused their data: kept in Redis and counted by reads, not flushed until retried or exported',
    registers,
    async collect() {
      this.set(await flusher.heldBatches().catch(() => -1))
    },
  })
  new Gauge({
    name: 'analytics_events_pending_rows',
    help: 'Event log rows in Redis waiting for Postgres (pending and in snapshots being written)',
    registers,
    async collect() {
      this.set(await flusher.pendingRows().catch(() => -1))
    },
  })
  new Gauge({
    name: 'analytics_flush_last_success_timestamp_seconds',
    help: 'When this instance last flushed successfully (0: not yet)',
    registers,
    collect() {
      const at = flusher.getStats().lastFlushAt
      this.set(at ? Date.parse(at) / 1000 : 0)
    },
  })
  // both gauges of one scrape share one INFO read (RedisMemory.read)
  const redisGauge = (name: string, help: string, value: (master: RedisNodeInfo) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const master = await redisMemory.read().then(fullest, () => undefined)
        this.set(master ? value(master) : -1)
      },
    })
  redisGauge(
    'analytics_redis_used_memory_bytes',
    "Redis's used_memory (of a cluster, the fullest master's; -1: INFO failed)",
    (m) => m.usedMemory,
  )
  redisGauge(
    'analytics_redis_maxmemory_bytes',
    "Redis's maxmemory, the limit of used_memory (0: no limit; of a cluster, the fullest master's)",
    (m) => m.maxmemory,
  )
}
