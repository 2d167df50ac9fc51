/**
 * The live feed of every site on this instance: a hub per site someone watches, reading that
 * site's keys in its own days. A hub polls Redis only while it has subscribers, so a site nobody
 * watches costs nothing. The default site's hub is the deployment's own (`deps.live`).
 *
 * @example
 * const hubs = new LiveHubs(() => deps.live, { redis, maxClients: 10_000, log })
 * const client = hubs.subscribe(site) // undefined when the instance is full or closing
 * hubs.size // every hub's clients: the instance's cap is over them all
 */
import type { Redis } from '../db/redis.ts'
import type { EventType } from '../events/types.ts'
import type { Logger } from '../log.ts'
import type { SiteContext } from '../sites/context.ts'
import { DEFAULT_SITE } from '../sites/site.ts'
import type { LiveClient } from './client.ts'
import { LiveHub } from './hub.ts'
import { redisLiveSource } from './source.ts'

export interface LiveHubsOptions {
  redis: Redis
  maxClients: number
  /** the zone the deployment's own hub counts today in (TIME_ZONE) */
  zone: string
  log?: Logger
  now?: () => number
}

export class LiveHubs {
  private readonly hubs = new Map<number, { zone: string; hub: LiveHub }>()
  private closed = false

  constructor(
    /** the default site's hub, read at each use (a test may replace it) */
    private readonly own: () => LiveHub,
    private readonly options: LiveHubsOptions,
  ) {}

  /** The hub of a site: made on first use, and made again when the site's time zone changed. */
  of(site: SiteContext): LiveHub {
    const { id } = site.site
    const zone = site.calendar.zone
    if (id === DEFAULT_SITE && zone === this.options.zone) return this.own()
    const known = this.hubs.get(id)
    if (known?.zone === zone) return known.hub
    // a hub of the site's former days: its clients reconnect and find the new one
    known?.hub.close()
    const { redis, maxClients, log, now } = this.options
    const hub = new LiveHub(redisLiveSource(redis, site.keys, site.calendar), { maxClients, log, now })
    this.hubs.set(id, { zone, hub })
    return hub
  }

  /**
   * A new subscriber to a site's hub (see LiveHub.subscribe), or undefined when the instance has
   * `maxClients` over all its hubs, or is closing.
   */
  subscribe(site: SiteContext, types?: readonly EventType[]): LiveClient | undefined {
    if (this.closing || this.size >= this.options.maxClients) return undefined
    return this.of(site).subscribe(types)
  }

  /** True once {@link close} has run. */
  get closing(): boolean {
    return this.closed || this.own().closing
  }

  /** Clients of every hub. */
  get size(): number {
    let n = this.own().size
    for (const { hub } of this.hubs.values()) n += hub.size
    return n
  }

  /** Ends every stream of every hub and refuses new ones. */
  close(): void {
    this.closed = true
    this.own().close()
    for (const { hub } of this.hubs.values()) hub.close()
  }
}
