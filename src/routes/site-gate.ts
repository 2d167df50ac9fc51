/**
 * Which site a beacon counts for, and whether the page that sent it may send for that site: no
 * Postgres query, only the registry in memory, and each (site named, sender) pair decided once
 * until the sites change.
 *
 * - A beacon names its site (`?site=`: `t.js`'s `data-site`, a domain or an id; the Events API's
 *   `domain`), or its sender's host names it (the Origin, else the Referer, matched against the
 *   sites' domains, `www.` or not).
 * - A sender of no site's domain counts for the default site while the default site has no
 *   domains of its own: a deployment without sites counts every page, as before sites. Once the
 *   default site has domains, such a beacon is refused (403, `unknown_site`), as is one naming a
 *   site that does not exist.
 * - The site's allowed origins decide who may send for it: the listed ones; when none are listed,
 *   any origin for the default site (ALLOWED_ORIGINS empty), and any origin of one of its own
 *   domains for another. Refused: 403, `origin`. The refused origin is never echoed.
 *
 * @example
 * const gate = new SiteGate({ sites, contexts })
 * const { site, anyOrigin } = gate.admit('https://shop.example.com', undefined) // or throws a Refusal
 */

import { BoundedMap } from '../memo.ts'
import type { SiteContext, SiteContexts } from '../sites/context.ts'
import type { SiteRegistry } from '../sites/registry.ts'
import { DEFAULT_SITE, type Site, siteDomain } from '../sites/site.ts'
import { Refusal } from './refusal.ts'

export interface Admitted {
  site: SiteContext
  /** every origin may send for the site (Access-Control-Allow-Origin may be the request's own, or `*`) */
  anyOrigin: boolean
}

/** Pairs of (site named, sender) remembered: a deployment's pages are few, a flood's are many. */
const REMEMBERED = 4096

const shown = (s: string) => JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s)

/** The host of an origin (`https://shop.example.com:8443`), as sites keep domains; undefined for none. */
function originDomain(origin: string): string | undefined {
  const host = URL.parse(origin)?.hostname
  return host ? siteDomain(host) : undefined
}

export class SiteGate {
  private readonly decided = new BoundedMap<string, Admitted | Refusal>(REMEMBERED)
  private generation = -1

  constructor(private readonly deps: { sites: SiteRegistry; contexts: SiteContexts }) {}

  /**
   * The site a beacon from `sender` (an origin, undefined when the request names none) that names
   * `named` (undefined for none) counts for; throws a {@link Refusal} when there is none, or when
   * the sender may not send for it. `serverSent`: a request with neither Origin nor Referer may
   * come from a back end (the Events API's server-side clients), which no browser policy binds.
   */
  admit(sender: string | undefined, named: string | undefined, serverSent = false): Admitted {
    const { sites } = this.deps
    if (sites.generation !== this.generation) {
      this.decided.clear()
      this.generation = sites.generation
    }
    const key = `${named ?? ''}\n${sender ?? ''}\n${serverSent ? 1 : 0}`
    let decision = this.decided.get(key)
    if (decision === undefined) {
      decision = this.decide(sender, named, serverSent)
      this.decided.set(key, decision)
    }
    if (decision instanceof Refusal) throw decision
    return decision
  }

  private decide(sender: string | undefined, named: string | undefined, serverSent: boolean): Admitted | Refusal {
    const { sites, contexts } = this.deps
    const domain = sender === undefined ? undefined : originDomain(sender)
    let site: Site | undefined
    if (named !== undefined) {
      site = sites.resolve(named)
      if (site === undefined) return new Refusal('unknown_site', 403, `no site has the id or domain ${shown(named)}`)
    } else {
      site = domain === undefined ? undefined : sites.forHost(domain)
      if (site === undefined) {
        const fallback = sites.get(DEFAULT_SITE)
        if (fallback === undefined || fallback.domains.length > 0) {
          return new Refusal(
            'unknown_site',
            403,
            `no site counts the pages of ${sender === undefined ? '(no origin)' : shown(sender)}: name one with data-site, or add the domain to a site`,
          )
        }
        site = fallback
      }
    }
    const anyOrigin = site.allowedOrigins.length === 0 && site.id === DEFAULT_SITE
    const allowed =
      anyOrigin ||
      (sender === undefined
        ? serverSent
        : site.allowedOrigins.length > 0
          ? site.allowedOrigins.includes(sender)
          : domain !== undefined && site.domains.includes(domain))
    if (!allowed) {
      return new Refusal(
        'origin',
        403,
        `origin ${sender ?? '(none)'} is not allowed to send events${site.id === DEFAULT_SITE ? '' : ` for site ${site.id}`}`,
      )
    }
    return { site: contexts.of(site), anyOrigin }
  }
}
