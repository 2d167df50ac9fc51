/**
 * The live feed of one app instance: a single poller reads today's counts from Redis once per
 * tick, diffs them against the previous read and fans the result out to every subscriber.
 * Redis is the shared truth, so every instance shows every instance's events; the work per tick
 * is one round trip however many screens watch.
 *
 * The poller and the heartbeat run only while someone watches: they start with the first
 * subscriber and stop with the last, forgetting the state so a later subscriber never gets a
 * stale snapshot.
 *
 * @example
 * const hub = new LiveHub(redisLiveSource(redis, keys, calendar), { maxClients: 10_000, log })
 * const client = hub.subscribe(['page_view']) // undefined when the instance is full
 * return new Response(client.stream, { headers: { 'content-type': 'text/event-stream' } })
 * // at shutdown, before the HTTP server stops (it waits for open streams):
 * hub.close()
 */
import type { EventType } from '../events/types.ts'
import { errorMessage, type Logger, silentLogger } from '../log.ts'
import { type EndReason, LiveClient } from './client.ts'
import type { LiveSource } from './source.ts'
import { sseComment, sseMessage, sseRetry } from './sse.ts'
import { clockOf, countsFor, diffStates, type LiveDiff, type LiveState, liveState, snapshotFor } from './state.ts'

export interface LiveHubOptions {
  /** subscribers allowed on this instance; beyond it `subscribe` answers undefined */
  maxClients: number
  /** how often Redis is read (ms) */
  tickMs?: number
  /** how often every client gets a comment (ms); must stay under Bun's 10 s idle timeout */
  heartbeatMs?: number
  /** bytes a client may have waiting before it is dropped */
  maxQueueBytes?: number
  /** the `retry:` a client is told to wait before reconnecting (ms) */
  retryMs?: number
  now?: () => number
  log?: Logger
}

export interface LiveHubStats {
  clients: number
  /** a poll is scheduled or in flight */
  polling: boolean
  heartbeating: boolean
  /** Redis reads since the hub was made */
  polls: number
  /** clients dropped for falling behind */
  dropped: number
}

const encoder = new TextEncoder()
const HEARTBEAT = encoder.encode(sseComment('heartbeat'))

export class LiveHub {
  private readonly clients = new Set<LiveClient>()
  private readonly tickMs: number
  private readonly heartbeatMs: number
  private readonly maxQueueBytes: number
  private readonly now: () => number
  private readonly log: Logger
  private readonly preamble: Uint8Array
  private state: LiveState | undefined
  /** the id of the latest state: every message about it carries it */
  private version = 0
  /** the current state's snapshot per filter, so a reconnecting crowd costs one build each */
  private readonly snapshots = new Map<string, Uint8Array>()
  private pollTimer: Timer | undefined
  private heartbeatTimer: Timer | undefined
  private inFlight = false
  private failing = false
  private closed = false
  private polls = 0
  private dropped = 0

  constructor(
    private readonly source: LiveSource,
    private readonly options: LiveHubOptions,
  ) {
    this.tickMs = options.tickMs ?? 1000
    this.heartbeatMs = options.heartbeatMs ?? 4000
    this.maxQueueBytes = options.maxQueueBytes ?? 64 * 1024
    this.now = options.now ?? Date.now
    this.log = options.log ?? silentLogger
    this.preamble = encoder.encode(sseRetry(options.retryMs ?? 2000))
  }

  get size(): number {
    return this.clients.size
  }

  /** True once {@link close} has run: subscribe then refuses everyone. */
  get closing(): boolean {
    return this.closed
  }

  stats(): LiveHubStats {
    return {
      clients: this.clients.size,
      polling: this.pollTimer !== undefined || this.inFlight,
      heartbeating: this.heartbeatTimer !== undefined,
      polls: this.polls,
      dropped: this.dropped,
    }
  }

  /**
   * A new subscriber watching `types` (all when undefined), or undefined when the instance is
   * at its cap or shutting down. Its stream starts with a snapshot: at once when the hub has a
   * current state, else after the first read.
   */
  subscribe(types?: readonly EventType[]): LiveClient | undefined {
    if (this.closed || this.clients.size >= this.options.maxClients) return undefined
    const client = new LiveClient(types, this.maxQueueBytes, (c, reason) => this.release(c, reason))
    this.clients.add(client)
    // the first bytes also flush the response headers, so the client knows it is connected
    client.send(this.preamble)
    if (this.state) client.send(this.snapshotFor(client))
    this.heartbeatTimer ??= setInterval(() => this.heartbeat(), this.heartbeatMs)
    if (!this.pollTimer && !this.inFlight) void this.tick()
    return client
  }

  /** Ends every stream and refuses new subscribers. Call it before stopping the HTTP server. */
  close(): void {
    this.closed = true
    for (const client of [...this.clients]) client.end('shutdown')
    this.stop()
  }

  private release(client: LiveClient, reason: EndReason): void {
    this.clients.delete(client)
    if (reason === 'too_slow') {
      this.dropped++
      this.log.debug('live client dropped: it fell behind', { clients: this.clients.size })
    }
    if (this.clients.size === 0) this.stop()
  }

  private stop(): void {
    clearTimeout(this.pollTimer)
    clearInterval(this.heartbeatTimer)
    this.pollTimer = undefined
    this.heartbeatTimer = undefined
    this.forget()
  }

  /** Drops the state, so nobody is sent a snapshot older than the next good read. */
  private forget(): void {
    this.state = undefined
    this.snapshots.clear()
  }

  private heartbeat(): void {
    for (const client of this.clients) client.send(HEARTBEAT)
  }

  private async tick(): Promise<void> {
    this.pollTimer = undefined
    this.inFlight = true
    // scheduling runs on the monotonic clock; `now` only says which day and hour it is
    const started = performance.now()
    const clock = clockOf(this.now())
    let next: LiveState | undefined
    try {
      this.polls++
      const reading = await this.source(clock.day, this.now())
      next = liveState(reading.fields, { today: reading.visitors, now: reading.visitorsNow }, clock, reading.today)
      if (this.failing) this.log.info('live feed reads Redis again')
      this.failing = false
    } catch (err) {
      // clients keep their numbers and heartbeats; new ones wait, and all get a fresh snapshot
      // from the next good read
      if (!this.failing) this.log.warn('live feed cannot read Redis', { error: errorMessage(err) })
      this.failing = true
      this.forget()
    } finally {
      this.inFlight = false
    }
    if (this.clients.size === 0 || this.closed) {
      this.forget()
      return
    }
    if (next) this.publish(next)
    const delay = Math.max(0, started + this.tickMs - performance.now())
    this.pollTimer = setTimeout(() => void this.tick(), delay)
  }

  private publish(next: LiveState): void {
    const prev = this.state
    const diff = prev ? diffStates(prev, next) : 'snapshot'
    if (diff === undefined) return
    this.state = next
    this.snapshots.clear()
    this.version++
    if (diff === 'snapshot') for (const client of this.clients) client.send(this.snapshotFor(client))
    else this.fanOut((types) => this.countsMessage(diff, next, types))
  }

  /** Sends each client its message, built once per distinct filter. */
  private fanOut(build: (types: readonly EventType[] | undefined) => string | undefined): void {
    const built = new Map<string, Uint8Array | undefined>()
    for (const client of this.clients) {
      const key = client.filterKey
      let chunk = built.get(key)
      if (!built.has(key)) {
        const text = build(client.types)
        chunk = text === undefined ? undefined : encoder.encode(text)
        built.set(key, chunk)
      }
      if (chunk) client.send(chunk)
    }
  }

  private snapshotFor(client: LiveClient): Uint8Array {
    let chunk = this.snapshots.get(client.filterKey)
    if (!chunk) {
      const data = JSON.stringify(snapshotFor(this.state!, client.types))
      chunk = encoder.encode(sseMessage({ id: String(this.version), event: 'snapshot', data }))
      this.snapshots.set(client.filterKey, chunk)
    }
    return chunk
  }

  private countsMessage(diff: LiveDiff, next: LiveState, types: readonly EventType[] | undefined): string | undefined {
    const data = countsFor(diff, next, types)
    return data && sseMessage({ id: String(this.version), event: 'counts', data: JSON.stringify(data) })
  }
}
