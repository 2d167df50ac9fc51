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
import type { SiteRegistry } from '../sites/registry.ts'
import { parseSiteBody, type SiteDefaults, siteJson, sitesOf } from '../sites/site.ts'
import { createSite, deleteSite, deleteSiteKeys, siteIdOf, storedSites, updateSite } from '../sites/store.ts'
import { bearerToken, requireAccess, tokenMatches } from './auth.ts'
import { readJsonBody } from './body.ts'
import { errors, json, operation, parameters, SECURITY } from './openapi.ts'
import { ref } from './openapi-schemas.ts'

const BODY = { limit: 16_384, timeoutMs: 10_000 }
const SiteParam = Type.Object({ site: Type.String({ description: 'a site’s id, or one of its domains' }) })

const allSites = async (pool: Pool, defaults: SiteDefaults) => sitesOf(await storedSites(pool), defaults)

export const sites = (deps: {
  pool: Pool
  redis: Redis
  keys: Keys
  sites: SiteRegistry
  config: Pick<Config, 'adminToken' | 'viewerToken' | 'allowedOrigins' | 'countedProperties'>
  calendar: { zone: string }
}) => {
  const tokens = { admin: deps.config.adminToken, viewer: deps.config.viewerToken }
  const defaults: SiteDefaults = {
    timeZone: deps.calendar.zone,
    allowedOrigins: deps.config.allowedOrigins,
    countedProperties: deps.config.countedProperties,
  }
  // every instance is told of the change; this one's copy, just read again, answers
  const answer = async (id: number) => {
    await deps.sites.changed()
    return siteJson(deps.sites.get(id)!)
  }
  return new Elysia({ name: 'sites' })
    .get(
      '/analytics/sites',
      async ({ request }) => {
        requireAccess(request, tokens, 'read')
        const manage = tokenMatches(bearerToken(request), tokens.admin)
        return { sites: (await allSites(deps.pool, defaults)).map(siteJson), manage }
      },
      operation({
        summary: 'Every site: the default site (0) first, then the others by id',
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
}
