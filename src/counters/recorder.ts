/**
 * Records validated events: turns them into counter ops, hands them to the group commit, and
 * resolves only once they are in Redis. A Redis failure becomes a 503 the client can retry.
 */

import { HttpError } from '../errors.ts'
import type { CountedEvent } from '../events/types.ts'
import type { Metrics } from '../metrics.ts'
import type { GroupCommit } from './batcher.ts'
import type { Caps } from './increments.ts'
import type { VisitorHasher } from './visitors.ts'

export interface Sender {
  ip: string
  userAgent: string
}

export class Recorder {
  // label children bound once: the hot path skips prom-client's label hashing
  private readonly acceptedBrowser: ReturnType<Metrics['accepted']['labels']>
  private readonly acceptedServer: ReturnType<Metrics['accepted']['labels']>

  constructor(
    private readonly batcher: GroupCommit,
    private readonly caps: Caps,
    private readonly visitors: VisitorHasher,
    metrics: Metrics,
  ) {
    this.acceptedBrowser = metrics.accepted.labels('browser')
    this.acceptedServer = metrics.accepted.labels('server')
  }

  /**
   * Browser events: capped values, one visitor hash for the sender. Promise chains rather than
   * an async function: this runs for every beacon.
   */
  browser(events: CountedEvent[], sender: Sender): Promise<void> {
    const visitor = this.visitors.hash(events[0]!.at, sender.ip, sender.userAgent)
    const stored =
      typeof visitor === 'string'
        ? this.batcher.add(events, this.caps, visitor)
        : // only the first request of a day waits for the day's salt
          visitor.then((hash) => this.batcher.add(events, this.caps, hash))
    return stored.then(() => {
      this.acceptedBrowser.inc(events.length)
    }, failed)
  }

  /** Server events: trusted values, no visitors. */
  async server(events: CountedEvent[]): Promise<void> {
    try {
      await this.batcher.add(events)
    } catch {
      throw unavailable()
    }
    this.acceptedServer.inc(events.length)
  }
}

/**
 * What a request whose batch was not stored gets: a 503 the client can retry. The batcher logs
 * and counts the failure once per batch, not once per request.
 */
function failed(): never {
  throw unavailable()
}

/** What a request whose batch was not stored gets: a 503 the client can retry. */
const unavailable = () => new HttpError(503, 'counters are unavailable; retry later', undefined, { 'retry-after': '1' })
