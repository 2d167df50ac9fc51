/**
 * Sites (src/sites/): the products one deployment counts apart.
 *
 * - `GET /analytics/sites` (admin or viewer): every site, the default site (0) first, and whether
 *   the token may manage them (`manage`).
 * - `POST /analytics/sites` (admin): adds a site from a JSON body; 201 with the site, 409 when a
 *   domain or the name is another site's.
 * - `PATCH /analytics/sites/:site` (admin): changes the settings the body names (`null` resets one
 *   to its default); `:site` is an id or one of the site's domains.
 * - `DELETE /analytics/sites/:site` (admin): deletes a site and what is its own (not site 0).
 *
 * Each change is read from Postgres by every instance within a second (registry.ts).
 */
import type { Pool } from '@neondatabase/serverless'
import { Elysia } from 'elysia'
import Type from 'typebox'
import type { Config } from '../config.ts'
import type { Keys } from '../counters/keys.ts'
import type { Redis } from '../db/redis.ts'
import { HttpError } from '../errors.ts'
import { createLink, deleteLink, listLinks, parseLinkName } from '../sites/links.ts'
import type { SiteRegistry } from '../sites/registry.ts'
import { parseSiteBody, siteJson } from '../sites/site.ts'
import { createSite, deleteSite, deleteSiteKeys, siteIdOf, updateSite } from '../sites/store.ts'
import { requireAccess } from './auth.ts'
import { readJsonBody } from './body.ts'
import { errors, json, operation, parameters, SECURITY } from './openapi.ts'
import { ref } from './openapi-schemas.ts'
import { siteTokens } from './site-param.ts'

const BODY = { limit: 16_384, timeoutMs: 10_000 }
const SiteParam = Type.Object({ site: Type.String({ description: 'a site’s id, or one of its domains' }) })

export const sites = (deps: {
  pool: Pool
  redis: Redis
  keys: Keys
  sites: SiteRegistry
  config: Pick<Config, 'adminToken' | 'viewerToken' | 'allowedOrigins' | 'countedProperties'>
  calendar: { zone: string }
}) => {
  const tokens = siteTokens(deps)
  // every instance is told of the change; this one's copy, just read again, answers
  const answer = async (id: number) => {
    await deps.sites.changed()
    return siteJson(deps.sites.get(id)!)
  }
  return new Elysia({ name: 'sites' })
    .get(
      '/analytics/sites',
      async ({ request }) => {
        const access = requireAccess(request, tokens, 'read')
        const manage = access.role === 'admin'
        // from the copy every instance keeps: the dashboard asks for it first, and it must answer
        // while Postgres does not (the pages then show what Redis holds)
        const all = deps.sites.list()
        // a shared link sees its own site only
        const seen = access.role === 'link' ? all.filter((site) => site.id === access.site) : all
        return { sites: seen.map(siteJson), manage }
      },
      operation({
        summary: 'Every site: the default site (0) first, then the others by id (a shared link: its own)',
        tags: ['sites'],
        security: SECURITY.read,
        responses: { 200: json('the sites', 'Sites'), ...errors(401) },
      }),
    )
    .post(
      '/analytics/sites',
      async ({ request, set }) => {
        requireAccess(request, tokens, 'admin')
        const fields = parseSiteBody(await readJsonBody(request, BODY, 'a JSON object'), 'create')
        const site = await createSite(deps.pool, fields)
        // anything a deleted site of the same id left in Redis is not the new one's
        await deleteSiteKeys(deps.redis, deps.keys, site.id)
        set.status = 201
        return answer(site.id)
      },
      {
        parse: 'none',
        ...operation({
          summary:
            'Add a site: its domains, and optionally its name, time zone, allowed origins and counted properties',
          tags: ['sites'],
          security: SECURITY.admin,
          requestBody: { required: true, content: { 'application/json': { schema: ref('SiteSettings') } } },
          responses: { 201: json('the site', 'Site'), ...errors(400, 401, 403, 409, 413, 415, 422) },
        }),
      },
    )
    .patch(
      '/analytics/sites/:site',
      async ({ request, params }) => {
        requireAccess(request, tokens, 'admin')
        const fields = parseSiteBody(await readJsonBody(request, BODY, 'a JSON object'), 'update')
        const id = await siteIdOf(deps.pool, params.site)
        await updateSite(deps.pool, id, fields)
        return answer(id)
      },
      {
        parse: 'none',
        ...operation({
          summary: 'Change a site’s settings: those the body names; null resets one to its default',
          tags: ['sites'],
          security: SECURITY.admin,
          parameters: parameters('path', SiteParam),
          requestBody: { required: true, content: { 'application/json': { schema: ref('SiteSettings') } } },
          responses: { 200: json('the site', 'Site'), ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
        }),
      },
    )
    .delete(
      '/analytics/sites/:site',
      async ({ request, params, set }) => {
        requireAccess(request, tokens, 'admin')
        const id = await siteIdOf(deps.pool, params.site)
        await deleteSite(deps.pool, id)
        await deps.sites.changed()
        await deleteSiteKeys(deps.redis, deps.keys, id)
        set.status = 204
        return ''
      },
      operation({
        summary: 'Delete a site with its domains, goals, funnels and event log rows (not the default site)',
        tags: ['sites'],
        security: SECURITY.admin,
        parameters: parameters('path', SiteParam),
        responses: { 204: { description: 'deleted' }, ...errors(401, 403, 404, 422) },
      }),
    )
    .get(
      '/analytics/sites/:site/links',
      async ({ request, params }) => {
        requireAccess(request, tokens, 'admin')
        const id = await siteIdOf(deps.pool, params.site)
        return { links: await listLinks(deps.pool, id) }
      },
      operation({
        summary: 'The shared links of a site: read-only tokens of that site alone (never shown again)',
        tags: ['sites'],
        security: SECURITY.admin,
        parameters: parameters('path', SiteParam),
        responses: { 200: json('the links', 'SiteLinks'), ...errors(401, 403, 404) },
      }),
    )
    .post(
      '/analytics/sites/:site/links',
      async ({ request, params, set }) => {
        requireAccess(request, tokens, 'admin')
        const id = await siteIdOf(deps.pool, params.site)
        if (!deps.sites.get(id)) throw new HttpError(404, `no site ${id}`, { parameter: 'site' })
        const name = parseLinkName(await readJsonBody(request, BODY, 'a JSON object'))
        const { link, token } = await createLink(deps.pool, id, name)
        await deps.sites.changed()
        set.status = 201
        // the token is shown this once: only its digest is kept
        return { ...link, token, url: `dashboard#token=${token}` }
      },
      {
        parse: 'none',
        ...operation({
          summary: 'Make a shared link of a site: a read-only token of that site alone, shown once',
          description:
            'Its holder reads the site’s stats, tops, goals, funnels, live feed and dashboard, and nothing of another site (403). `url` is the dashboard signed in with it, relative to this service.',
          tags: ['sites'],
          security: SECURITY.admin,
          parameters: parameters('path', SiteParam),
          requestBody: {
            required: true,
            content: { 'application/json': { schema: Type.Object({ name: Type.String({ maxLength: 100 }) }) } },
          },
          responses: {
            201: json('the link, with its token', 'NewSiteLink'),
            ...errors(400, 401, 403, 404, 409, 413, 415, 422),
          },
        }),
      },
    )
    .delete(
      '/analytics/sites/:site/links/:link',
      async ({ request, params, set }) => {
        requireAccess(request, tokens, 'admin')
        const id = await siteIdOf(deps.pool, params.site)
        await deleteLink(deps.pool, id, params.link)
        await deps.sites.changed()
        set.status = 204
        return ''
      },
      operation({
        summary: 'Revoke a shared link: its token reads nothing from then on, on every instance',
        tags: ['sites'],
        security: SECURITY.admin,
        parameters: parameters('path', Type.Object({ site: SiteParam.properties.site, link: Type.String() })),
        responses: { 204: { description: 'revoked' }, ...errors(401, 403, 404) },
      }),
    )
}
