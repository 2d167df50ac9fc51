/**
 * One subscriber of the live feed: a bounded queue of encoded SSE chunks behind a pull-based
 * `ReadableStream`, the body of its HTTP response.
 *
 * Pull-based, so Bun takes the next chunk only once the socket has room: a client that stops
 * reading makes its own queue grow, and past `maxBytes` it is dropped (its stream errors, the
 * route has Bun let go of the socket, the browser reconnects and gets a fresh snapshot) instead of
 * being buffered without bound or slowing anyone else down. Chunks are shared between clients, so the queue
 * holds references, not copies.
 *
 * Every way a client ends (the peer went away, too slow, shutdown) goes through one idempotent
 * step that releases it from the hub: the stream's `finally`.
 */
import type { EventType } from '../events/types.ts'

export type EndReason = 'disconnected' | 'too_slow' | 'shutdown'

export class LiveClient {
  readonly stream: ReadableStream<Uint8Array>
  /** same for clients that watch the same types, so a message is built once per filter */
  readonly filterKey: string
  /** settles with the reason once the client has ended */
  readonly done: Promise<EndReason>
  private settle: (reason: EndReason) => void = () => {}
  private readonly queue: Uint8Array[] = []
  private queuedBytes = 0
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined
  private wake: (() => void) | undefined
  private ended: EndReason | undefined

  constructor(
    /** the types it watches; undefined for all */
    readonly types: readonly EventType[] | undefined,
    private readonly maxBytes: number,
    private readonly onEnd: (client: LiveClient, reason: EndReason) => void,
  ) {
    this.filterKey = types ? types.join(',') : '*'
    this.done = new Promise((resolve) => {
      this.settle = resolve
    })
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller
        },
        pull: (controller) => this.pull(controller),
        cancel: () => this.end('disconnected'),
      },
      { highWaterMark: 0 },
    )
  }

  get open(): boolean {
    return this.ended === undefined
  }

  /** Queues a chunk; false when the client is gone or has just been dropped for falling behind. */
  send(chunk: Uint8Array): boolean {
    if (this.ended) return false
    if (this.queuedBytes + chunk.byteLength > this.maxBytes) {
      this.end('too_slow')
      return false
    }
    this.queue.push(chunk)
    this.queuedBytes += chunk.byteLength
    this.wake?.()
    return true
  }

  /** Ends the client; only the first call counts. */
  end(reason: EndReason): void {
    if (this.ended) return
    this.ended = reason
    this.queue.length = 0
    this.queuedBytes = 0
    try {
      // an error, not a clean end: the response is cut short, so the peer cannot take what it
      // got for the whole story and reconnects
      if (reason === 'too_slow') this.controller?.error(new Error('live client fell behind'))
      else if (reason === 'shutdown') this.controller?.close()
    } catch {
      // already closed or cancelled by the peer
    }
    this.wake?.()
    this.onEnd(this, reason)
    this.settle(reason)
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (this.queue.length === 0 && !this.ended) {
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
      this.wake = undefined
    }
    const chunk = this.queue.shift()
    if (!chunk) return
    this.queuedBytes -= chunk.byteLength
    controller.enqueue(chunk)
  }
}
