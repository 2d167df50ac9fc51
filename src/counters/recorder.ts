/**
 * Records validated events: hands them to the group commit, and resolves only once they are in
 * Redis. A Redis failure rejects with {@link CountersUnavailable}; accepted events are counted in
 * the metrics per batch, by the group commit's `onCommit`.
 */
import { CountersUnavailable } from '../errors.ts'
import type { CountedEvent, Visit } from '../events/types.ts'
import type { GroupCommit } from './batcher.ts'
import type { Caps } from './increments.ts'
import type { VisitorHasher } from './visitors.ts'

export interface Sender {
  ip: string
  userAgent: string
}

export class Recorder {
  constructor(
    private readonly batcher: GroupCommit,
    private readonly caps: Caps,
    private readonly visitors: VisitorHasher,
  ) {}

  /**
   * Browser events: capped values, one visitor hash for the sender. The batch's own promise is
   * returned, not one derived per request: this runs for every beacon. `client` is the request,
   * left out of its batch if its client has gone by then.
   */
  browser(request: { events: CountedEvent[]; visit: Visit }, sender: Sender, client?: Request): Promise<void> {
    const { events, visit } = request
    const visitor = this.visitors.hash(events[0]!.at, sender.ip, sender.userAgent)
    if (typeof visitor === 'string') return this.batcher.add({ events, caps: this.caps, visitor, visit, client })
    // only the first request of a day waits for the day's salt
    return visitor.then(
      (hash) => this.batcher.add({ events, caps: this.caps, visitor: hash, visit, client }),
      unavailable,
    )
  }

  /** Server events: trusted values, no visitors. */
  server(events: CountedEvent[], client?: Request): Promise<void> {
    return this.batcher.add({ events, client })
  }
}

function unavailable(err: unknown): never {
  throw new CountersUnavailable(err)
}
