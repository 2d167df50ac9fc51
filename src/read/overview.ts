/**
 * The all-sites overview: for every site, its unique visitors, visits and page views over a range
 * of its own days, and their trend by day. Each figure is the site's own exact read (stats.ts):
 * the same numbers its dashboard shows, each site in its own time zone.
 *
 * @example
 * const sites = await overview(deps, registry.list().map((s) => contexts.of(s)), { from: '2026-11-01' })
 * sites[0] // { id: 0, name: 'default', visitors: 812, visits: 1033, page_views: 2410, trend: [...] }
 */
import type { SiteContext } from '../sites/context.ts'
import { type ReadDeps, siteReadDeps } from './exact.ts'
import { parseStats } from './params.ts'
import { stats } from './stats.ts'

export interface SiteOverview {
  id: number
  name: string
  domains: string[]
  time_zone: string
  from: string
  to: string
  visitors: number
  visits: number
  page_views: number
  /** each day of the range: its visits and page views */
  trend: { t: string; visits: number; page_views: number }[]
}

/** Sites read at once: each is three reads, and the pool and Redis serve every other read too. */
const SITES_AT_ONCE = 8

/** One site's overview, over `range` (from and to, as a read takes them; the last 30 days when absent). */
async function siteOverview(deps: ReadDeps, site: SiteContext, range: { from?: string; to?: string }) {
  const own = siteReadDeps(deps, site)
  const context = { timeZone: site.calendar.zone, now: deps.now() }
  const read = (q: Record<string, string | undefined>) => stats(own, parseStats({ ...range, ...q }, context))
  const [visits, views, visitors] = await Promise.all([
    read({ metric: 'visits' }),
    read({ metric: 'events', event_type: 'page_view' }),
    read({ metric: 'visitors' }),
  ])
  return {
    id: site.site.id,
    name: site.site.name,
    domains: site.site.domains,
    time_zone: site.calendar.zone,
    from: visits.from,
    to: visits.to,
    visitors: visitors.total,
    visits: visits.total,
    page_views: views.total,
    trend: visits.series.map((p, i) => ({ t: p.t, visits: p.count, page_views: views.series[i]?.count ?? 0 })),
  } satisfies SiteOverview
}

/** Every site's overview, in the order given. A bad `from` or `to` is the first site's 422. */
export async function overview(
  deps: ReadDeps,
  sites: readonly SiteContext[],
  range: { from?: string; to?: string } = {},
): Promise<SiteOverview[]> {
  const out: SiteOverview[] = new Array(sites.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < sites.length; i = next++) out[i] = await siteOverview(deps, sites[i]!, range)
  }
  await Promise.all(Array.from({ length: Math.min(SITES_AT_ONCE, sites.length) }, worker))
  return out
}
