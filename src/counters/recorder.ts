/**
 * Records validated events: turns them into counter ops, hands them to the group commit, and
 * resolves only once they are in Redis. A Redis failure becomes a 503 the client can retry.
 */

import { HttpError } from '../errors.ts'
import type { CountedEvent } from '../events/types.ts'
import type { Metrics } from '../metrics.ts'
import type { GroupCommit } from './batcher.ts'
import { type Caps, type Op, opsFor } from './increments.ts'
import type { Keys } from './keys.ts'
import type { VisitorHasher } from './visitors.ts'

export interface Sender {
  ip: string
  userAgent: string
}

export class Recorder {
  constructor(
    private readonly batcher: GroupCommit,
    private readonly keys: Keys,
    private readonly caps: Caps,
    private readonly visitors: VisitorHasher,
    private readonly metrics: Metrics,
  ) {}

  /** Browser events: capped values, one visitor hash for the sender. */
  async browser(events: CountedEvent[], sender: Sender): Promise<void> {
    const visitor = await this.store(() => this.visitors.hash(events[0]!.at, sender.ip, sender.userAgent))
    const ctx = { keys: this.keys, caps: this.caps, visitor }
    await this.commit(events.length === 1 ? opsFor(events[0]!, ctx) : events.flatMap((e) => opsFor(e, ctx)))
    this.metrics.accepted.inc({ source: 'browser' }, events.length)
  }

  /** Server events: trusted values, no visitors. */
  async server(events: CountedEvent[]): Promise<void> {
    const ctx = { keys: this.keys }
    await this.commit(events.flatMap((e) => opsFor(e, ctx)))
    this.metrics.accepted.inc({ source: 'server' }, events.length)
  }

  private commit(ops: Op[]): Promise<void> {
    return this.store(() => this.batcher.add(ops))
  }

  private async store<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch {
      // The batcher logs and counts the failure once per batch, not once per request.
      throw new HttpError(503, 'counters are unavailable; retry later', undefined, { 'retry-after': '1' })
    }
  }
}
