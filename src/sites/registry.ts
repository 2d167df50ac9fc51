/**
 * The sites in memory, so that finding a beacon's site costs no Postgres query: by id, and by the
 * domain of a page's host (`www.` or not). Every instance keeps its own copy and watches one Redis
 * key, the sites' version, which each change raises (`changed`): an instance reloads from Postgres
 * when the version it last read differs, so a change made on one instance (or by `bun run site`)
 * is seen by every other within {@link SiteRegistry.start}'s interval.
 *
 * @example
 * const sites = new SiteRegistry({ pool, redis, key: keys.sites, defaults })
 * await sites.load()
 * sites.forHost('www.shop.example.com') // the site of shop.example.com, or undefined
 * const stop = sites.start(1000)
 */
import { timingSafeEqual } from 'node:crypto'
import type { Pool } from '@neondatabase/serverless'
import type { Redis } from '../db/redis.ts'
import { type LinkDigest, linkDigests, tokenDigest } from './links.ts'
import { type Site, type SiteDefaults, siteDomain, siteNumber, sitesOf } from './site.ts'
import { storedSites } from './store.ts'

export interface SiteRegistryDeps {
  pool: Pool
  redis: Redis
  /** the Redis key of the sites' version (keys.ts `sites`) */
  key: string
  defaults: SiteDefaults
  /** told of a failed reload; the copy held stays in use */
  onError?: (error: unknown) => void
}

/** The copy is read again at least this often, whatever the version says. */
const RELOAD_MS = 60_000

interface Snapshot {
  byId: Map<number, Site>
  byDomain: Map<string, Site>
  /** shared links by the hex of their token's digest */
  links: Map<string, LinkDigest>
}

export class SiteRegistry {
  private snapshot: Snapshot
  /** raised on every load: what is remembered of the sites (routes/site-gate.ts) is forgotten when it moves */
  generation = 0
  /** the version the snapshot was read under; undefined before the first load */
  private version: string | null | undefined
  private loading: Promise<void> | undefined
  private loadedAt = 0

  constructor(private readonly deps: SiteRegistryDeps) {
    this.snapshot = build(sitesOf([], deps.defaults))
  }

  /** Reads the version, then every site: a change between the two is read again next time. */
  async load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const version = await this.deps.redis.get(this.deps.key)
        const [stored, links] = await Promise.all([storedSites(this.deps.pool), linkDigests(this.deps.pool)])
        this.snapshot = build(sitesOf(stored, this.deps.defaults), links)
        this.generation++
        this.version = version
        this.loadedAt = Date.now()
      } finally {
        this.loading = undefined
      }
    })()
    return this.loading
  }

  /**
   * Reloads when the sites' version moved since the last load, or the last load is a minute old (a
   * change whose version could not be raised); true when it did.
   */
  async refresh(): Promise<boolean> {
    const version = await this.deps.redis.get(this.deps.key)
    if (this.version !== undefined && version === this.version && Date.now() - this.loadedAt < RELOAD_MS) return false
    await this.load()
    return true
  }

  /** Tells every instance that the sites changed (after a change is committed), and reloads here. */
  async changed(): Promise<void> {
    await this.deps.redis.incr(this.deps.key)
    await this.load()
  }

  /** Watches the version every `intervalMs`; returns the function that stops it. */
  start(intervalMs = 1000): () => void {
    let running = false
    const timer = setInterval(async () => {
      if (running) return
      running = true
      try {
        await this.refresh()
      } catch (err) {
        this.deps.onError?.(err)
      } finally {
        running = false
      }
    }, intervalMs)
    timer.unref?.()
    return () => clearInterval(timer)
  }

  /** Every site, by id (the default site first). */
  list(): Site[] {
    return [...this.snapshot.byId.values()]
  }

  get(id: number): Site | undefined {
    return this.snapshot.byId.get(id)
  }

  /** The site of a page's host: its domain, with or without `www.`. */
  forHost(host: string): Site | undefined {
    const domain = siteDomain(host)
    return domain === undefined ? undefined : this.snapshot.byDomain.get(domain)
  }

  /**
   * The site a shared link's token reads, or undefined when it is none. The token is found by its
   * digest, which is then compared in constant time.
   */
  linkSite(token: string): number | undefined {
    const digest = tokenDigest(token)
    const link = this.snapshot.links.get(digest.toString('hex'))
    return link && timingSafeEqual(link.digest, digest) ? link.site : undefined
  }

  /** A site named by its id (digits) or by one of its domains. */
  resolve(name: string): Site | undefined {
    const id = siteNumber(name)
    return id === undefined ? this.forHost(name) : this.get(id)
  }
}

function build(sites: readonly Site[], links: readonly LinkDigest[] = []): Snapshot {
  const byId = new Map<number, Site>()
  const byDomain = new Map<string, Site>()
  for (const site of sites) {
    byId.set(site.id, site)
    for (const domain of site.domains) byDomain.set(domain, site)
  }
  // a link of a site that is gone reads nothing
  const live = links.filter((link) => byId.has(link.site))
  return { byId, byDomain, links: new Map(live.map((link) => [link.digest.toString('hex'), link])) }
}
