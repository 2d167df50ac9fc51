/**
 * What counting and reading a site needs beside its settings: its keys, its calendar (its time
 * zone's days) and its visitor hasher (its own salts, so one person's hashes on two sites cannot be
 * joined). Made once per site and kept while its settings stay the same object: the registry hands
 * out a new object only when it has read the sites again.
 *
 * @example
 * const contexts = new SiteContexts({ redis, keys, saltPeriod: 'year' })
 * const shop = contexts.of(sites.forHost('shop.example.com')!)
 * await recorder.browser(request, sender, client, shop)
 */
import type { SiteCounting } from '../counters/batcher.ts'
import { createCalendar } from '../counters/calendar.ts'
import type { Keys } from '../counters/keys.ts'
import { type SaltPeriod, VisitorHasher } from '../counters/visitors.ts'
import type { Redis } from '../db/redis.ts'
import type { Site } from './site.ts'

export interface SiteContext extends SiteCounting {
  site: Site
  /** hashes its visitors with its own salt */
  visitors: VisitorHasher
}

export class SiteContexts {
  private readonly made = new Map<number, SiteContext>()

  constructor(private readonly deps: { redis: Redis; keys: Keys; saltPeriod: SaltPeriod }) {}

  of(site: Site): SiteContext {
    const known = this.made.get(site.id)
    if (known?.site === site) return known
    // the same zone keeps its calendar and hasher (and the hasher its cached salts)
    const same = known?.site.timeZone === site.timeZone ? known : undefined
    const keys = this.deps.keys.forSite(site.id)
    const calendar = same?.calendar ?? createCalendar(site.timeZone)
    const context: SiteContext = {
      site,
      keys,
      calendar,
      visitors: same?.visitors ?? new VisitorHasher(this.deps.redis, keys, calendar, this.deps.saltPeriod),
    }
    this.made.set(site.id, context)
    return context
  }
}
