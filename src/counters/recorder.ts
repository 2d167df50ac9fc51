/**
 * Records validated events: hands them to the group commit, and resolves only once they are in
 * Redis. A Redis failure rejects with {@link CountersUnavailable}; accepted events are counted in
 * the metrics per batch, by the group commit's `onCommit`.
 */
import { CountersUnavailable } from '../errors.ts'
import type { CountedEvent, Sender, Visit } from '../events/types.ts'
import type { GroupCommit, SiteCounting } from './batcher.ts'
import type { Caps } from './increments.ts'
import type { VisitorHasher } from './visitors.ts'

export type { Sender }

/** A site as the recorder counts for it: its keys, days and visitor hasher (src/sites/context.ts). */
export interface SiteRecording extends SiteCounting {
  visitors: VisitorHasher
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
   * left out of its batch if its client has gone by then. `site`: the site counted for (the
   * default site's when absent).
   */
  browser(
    request: { events: CountedEvent[]; visit: Visit },
    sender: Sender,
    client?: Request,
    site?: SiteRecording,
  ): Promise<void> {
    const { events, visit } = request
    const visitor = (site?.visitors ?? this.visitors).hash(events[0]!.at, sender.ip, sender.userAgent)
    if (typeof visitor === 'string') return this.batcher.add({ site, events, caps: this.caps, visitor, visit, client })
    // only the first request of a day waits for the day's salt
    return visitor.then(
      (hash) => this.batcher.add({ site, events, caps: this.caps, visitor: hash, visit, client }),
      unavailable,
    )
  }

  /**
   * Server events: trusted values. One sent with its browser's address and User-Agent
   * (`senders[i]`, forwarded by the back end) is hashed into the visitor exactly as that browser's
   * beacons were (same salt, same address form), and joins that visitor's visit if one is in
   * progress; the address and User-Agent go no further than the hash. Without them, an event
   * belongs to no visit.
   */
  server(
    events: CountedEvent[],
    client?: Request,
    senders?: readonly (Sender | undefined)[],
    site?: SiteRecording,
  ): Promise<void> {
    if (senders === undefined) return this.batcher.add({ site, events, client })
    const hasher = site?.visitors ?? this.visitors
    const hashes = events.map((event, k) => {
      const sender = senders[k]
      return sender && hasher.hash(event.at, sender.ip, sender.userAgent)
    })
    if (hashes.every((h) => typeof h !== 'object')) {
      return this.batcher.addServer(events, hashes as (string | undefined)[], client, site)
    }
    // only the first events of a salt period wait for its salt
    return Promise.all(hashes).then((visitors) => this.batcher.addServer(events, visitors, client, site), unavailable)
  }
}

function unavailable(err: unknown): never {
  throw new CountersUnavailable(err)
}
