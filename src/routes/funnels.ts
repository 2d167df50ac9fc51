/**
 * Funnels, saved and read.
 *
 * - `GET /analytics/funnels` (admin or viewer): the saved funnels, oldest first, with their
 *   steps' goals, and whether the token may manage them (`manage`).
 * - `POST /analytics/funnels` (admin): saves a funnel from `{"name", "steps", "window"}`; 201.
 * - `DELETE /analytics/funnels/:id` (admin): deletes a saved funnel; 204.
 * - `GET /analytics/funnel` (admin or viewer): a funnel's visitors per step, drop-off and overall
 *   conversion over a range under filters: a saved one (`funnel=<id>`) or steps given ad hoc
 *   (`steps=page_view,3,user_signup`), with `window` (24h by default, or the saved funnel's).
 */
import { Elysia } from 'elysia'
import Type from 'typebox'
import type { Config } from '../config.ts'
import { csvFileName, csvResponse } from '../csv.ts'
import { HttpError } from '../errors.ts'
import { MAX_STEPS, MIN_STEPS } from '../filters/funnel.ts'
import { parseFilters } from '../filters/parse.ts'
import { type Funnel, funnelJson, parseFunnelBody, parseStepIds, parseWindow, windowText } from '../funnels/funnel.ts'
import { createFunnel, deleteFunnel, findFunnel, listFunnels, stepGoals } from '../funnels/store.ts'
import { type Goal, goalJson } from '../goals/goal.ts'
import { listGoals, withGoals } from '../goals/store.ts'
import { type ReadDeps, siteReadDeps } from '../read/exact.ts'
import { funnelFigures } from '../read/funnel.ts'
import { onlyParameters, parseRange, wantsCsv } from '../read/params.ts'
import { Day, Filters, Format, SiteParam, SiteQuery, TimeZone } from '../read/query.ts'
import { type Access, bearerToken, requireAccess, tokenMatches } from './auth.ts'
import { readJsonBody } from './body.ts'
import { errors, json, operation, parameters, SECURITY } from './openapi.ts'
import { ref } from './openapi-schemas.ts'
import { readSite, type SiteParamDeps, siteTokens } from './site-param.ts'

const BODY = { limit: 16_384, timeoutMs: 10_000 }
const MAX_DAYS = 400

const FunnelQuery = Type.Object(
  {
    site: Type.Optional(SiteParam),
    funnel: Type.Optional(Type.String({ description: 'a saved funnel’s id; or give steps' })),
    steps: Type.Optional(
      Type.String({
        description: `${MIN_STEPS} to ${MAX_STEPS} goal ids in order, comma-separated (page_view,3,user_signup); or give funnel`,
      }),
    ),
    window: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,5}[mhd]$',
        description:
          'how long after the first step the last may come, 1m to 30d; 24h, or the saved funnel’s, when absent',
      }),
    ),
    from: Type.Optional({ ...Day, description: `${Day.description}; 30 days before to when absent` }),
    to: Type.Optional({ ...Day, description: `${Day.description}; today when absent. At most ${MAX_DAYS} days` }),
    tz: Type.Optional(TimeZone),
    filters: Type.Optional(Filters),
    format: Type.Optional(Format),
  },
  { additionalProperties: true },
)
const FUNNEL_PARAMETERS = Object.keys(FunnelQuery.properties)
const FunnelId = Type.Object({ id: Type.String({ description: 'a saved funnel’s id' }) })

type Query = Record<string, string | undefined>

/** A saved funnel's steps as goals, from every goal (a step whose goal is gone is left out of a list). */
const stepsOf = (f: Funnel, all: readonly Goal[]): Goal[] => f.steps.flatMap((id) => all.filter((g) => g.id === id))

const SITE_PARAMETERS = Object.keys(SiteQuery.properties)

export const funnels = (deps: ReadDeps & SiteParamDeps & { config: Pick<Config, 'adminToken' | 'viewerToken'> }) => {
  const tokens = siteTokens(deps)
  /** The site a request's query names (or the only one, or a shared link's own), by id. */
  const siteIdOf = (query: unknown, access: Access): number => {
    onlyParameters(query as Query, SITE_PARAMETERS)
    return readSite(deps, (query as Query).site, access).site.id
  }
  return new Elysia({ name: 'funnels' })
    .get(
      '/analytics/funnels',
      async ({ request, query }) => {
        const site = siteIdOf(query, requireAccess(request, tokens, 'read'))
        const manage = tokenMatches(bearerToken(request), tokens.admin)
        const [saved, all] = await Promise.all([listFunnels(deps.pool, site), listGoals(deps.pool, site)])
        return { funnels: saved.map((f) => funnelJson(f, stepsOf(f, all))), manage }
      },
      operation({
        summary: 'The saved funnels of a site, with their steps’ goals',
        tags: ['funnels'],
        security: SECURITY.read,
        parameters: parameters('query', SiteQuery),
        responses: { 200: json('the funnels', 'Funnels'), ...errors(401, 404, 422) },
      }),
    )
    .post(
      '/analytics/funnels',
      async ({ request, set, query }) => {
        const site = siteIdOf(query, requireAccess(request, tokens, 'admin'))
        const body = await readJsonBody(request, BODY, 'a JSON object')
        const { funnel, goals } = await createFunnel(deps.pool, site, parseFunnelBody(body))
        set.status = 201
        return funnelJson(funnel, goals)
      },
      {
        parse: 'none',
        ...operation({
          summary: 'Save a funnel: 2 to 8 goals in order, and a window',
          description:
            'Its steps are goal ids (GET /analytics/goals); a configured goal a saved funnel names cannot be deleted while it does.',
          tags: ['funnels'],
          security: SECURITY.admin,
          parameters: parameters('query', SiteQuery),
          requestBody: { required: true, content: { 'application/json': { schema: ref('NewFunnel') } } },
          responses: { 201: json('the funnel', 'Funnel'), ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
        }),
      },
    )
    .delete(
      '/analytics/funnels/:id',
      async ({ request, params, set, query }) => {
        const access = requireAccess(request, tokens, 'admin')
        await deleteFunnel(deps.pool, siteIdOf(query, access), params.id)
        set.status = 204
        return ''
      },
      operation({
        summary: 'Delete a saved funnel',
        tags: ['funnels'],
        security: SECURITY.admin,
        parameters: [...parameters('path', FunnelId), ...parameters('query', SiteQuery)],
        responses: { 204: { description: 'deleted' }, ...errors(401, 403, 404, 422) },
      }),
    )
    .get(
      '/analytics/funnel',
      async ({ request, query }) => {
        const access = requireAccess(request, tokens, 'read')
        const q = query as Query
        onlyParameters(q, FUNNEL_PARAMETERS)
        const asCsv = wantsCsv(q)
        if (q.funnel !== undefined && q.steps !== undefined) {
          throw new HttpError(422, 'funnel and steps are two ways to name a funnel: give one', { parameter: 'funnel' })
        }
        if (q.funnel === undefined && q.steps === undefined) {
          throw new HttpError(422, 'steps or funnel is required: steps=page_view,user_signup or funnel=<id>', {
            parameter: 'steps',
          })
        }
        const site = readSite(deps, q.site, access)
        const id = site.site.id
        const saved = q.funnel === undefined ? null : await findFunnel(deps.pool, id, q.funnel)
        const stepIds = saved ? saved.steps : parseStepIds(q.steps, 'steps')
        const windowMs = q.window !== undefined || !saved ? parseWindow(q.window, 'window') : saved.windowMs
        const range = parseRange(q, 30, MAX_DAYS, { timeZone: site.calendar.zone, now: deps.now() })
        const filters = await withGoals(deps.pool, id, parseFilters(q.filters))
        const steps = await stepGoals(deps.pool, id, stepIds, saved ? `funnel ${saved.id}'s steps` : 'steps')
        const result = await funnelFigures(siteReadDeps(deps, site), range, filters, steps, windowMs)
        if (asCsv) {
          return csvResponse(
            csvFileName(['funnel', saved?.name ?? 'steps'], range.from, range.to),
            ['step', 'goal', 'name', 'visitors', 'conversion_rate', 'dropoff', 'dropoff_rate'],
            result.steps.map((s, i) => [
              i + 1,
              s.goal.id,
              s.goal.name,
              s.visitors,
              s.conversion_rate ?? '',
              s.dropoff,
              s.dropoff_rate ?? '',
            ]),
          )
        }
        return {
          ...range,
          funnel: saved ? { id: saved.id, name: saved.name } : null,
          window: windowText(windowMs),
          window_minutes: Math.round(windowMs / 60_000),
          steps: result.steps.map(({ goal, ...figures }) => ({ goal: goalJson(goal), ...figures })),
          conversion_rate: result.conversion_rate,
        }
      },
      operation({
        summary: 'A funnel’s visitors per step, drop-off and conversion, under filters',
        description:
          'Unique visitors who complete the first step in the range, then each later step in order within the window of their first, counting only their events that pass the filters. From the event log, exactly.',
        tags: ['funnels'],
        security: SECURITY.read,
        parameters: parameters('query', FunnelQuery),
        responses: {
          200: {
            description: 'the funnel’s figures',
            content: { ...json('', 'FunnelResult').content, 'text/csv': { schema: Type.String() } },
          },
          ...errors(401, 404, 422),
        },
      }),
    )
}
