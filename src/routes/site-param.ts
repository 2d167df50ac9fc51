/**
 * The `site` of a read, a live feed or a goal: a site's id or any of its domains. It may be left
 * out while the deployment counts one site; once there are more, leaving it out is a 422 that
 * names the choices, so that no read silently answers for a site nobody asked about.
 *
 * @example
 * const site = readSite(deps, query.site)           // the site's keys, calendar and settings
 * await stats(siteReadDeps(deps, site), params)      // a read of that site only (read/exact.ts)
 */

import type { Config } from '../config.ts'
import { HttpError } from '../errors.ts'
import type { SiteContext, SiteContexts } from '../sites/context.ts'
import type { SiteRegistry } from '../sites/registry.ts'
import type { Site } from '../sites/site.ts'
import type { Access, Tokens } from './auth.ts'

export interface SiteParamDeps {
  sites: SiteRegistry
  contexts: SiteContexts
}

/** Choices named in an error: enough to pick one, not the whole list of a large deployment. */
const CHOICES_NAMED = 20

const choice = (site: Site) => ({ id: site.id, name: site.name, domains: site.domains })

function choices(sites: readonly Site[]): Record<string, unknown> {
  return {
    parameter: 'site',
    choices: sites.slice(0, CHOICES_NAMED).map(choice),
    ...(sites.length > CHOICES_NAMED ? { more: sites.length - CHOICES_NAMED } : {}),
  }
}

/**
 * The site `value` names, or the only one; 422 when it must be named, 404 for none of that name.
 * A shared link (`access`) reads its own site, named or not, and no other: 403.
 */
export function readSite(deps: SiteParamDeps, value: string | undefined | null, access?: Access): SiteContext {
  if (access?.role === 'link') {
    const own = deps.sites.get(access.site)
    // a site deleted since the token was checked: its links read nothing
    if (own === undefined) throw new HttpError(401, 'invalid token', undefined, { 'www-authenticate': 'Bearer' })
    if (value !== undefined && value !== null && value !== '' && deps.sites.resolve(value)?.id !== own.id)
      throw new HttpError(403, `this shared link reads site ${own.id} (${own.name}) only`, { parameter: 'site' })
    return deps.contexts.of(own)
  }
  if (value === undefined || value === null || value === '') {
    const all = deps.sites.list()
    if (all.length === 1) return deps.contexts.of(all[0]!)
    throw new HttpError(
      422,
      `site is required: this deployment counts ${all.length} sites; name one by its id or a domain`,
      choices(all),
    )
  }
  const site = deps.sites.resolve(value)
  if (site === undefined) {
    const all = deps.sites.list()
    const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value
    throw new HttpError(404, `no site has the id or domain ${JSON.stringify(shown)}`, choices(all))
  }
  return deps.contexts.of(site)
}

/** The tokens of the routes that read sites: the admin's, the viewer's, and every site's shared links. */
export const siteTokens = (deps: {
  config: Pick<Config, 'adminToken' | 'viewerToken'>
  sites: SiteRegistry
}): Tokens => ({
  admin: deps.config.adminToken,
  viewer: deps.config.viewerToken,
  link: (token) => deps.sites.linkSite(token),
})
