/**
 * Goals and their conversions.
 *
 * - `GET /analytics/goals` (admin or viewer): every goal, the built-in ones (an event type each)
 *   first, then the configured ones, and whether the token may manage them (`manage`).
 * - `POST /analytics/goals` (admin): adds a page goal or an event goal (src/goals/goal.ts) from a
 *   JSON body; 201 with the goal, 409 when its name is taken.
 * - `DELETE /analytics/goals/:id` (admin): removes a configured goal. Nothing is counted for a
 *   goal, so nothing else changes: a goal is a query over the event log.
 * - `GET /analytics/conversions` (admin or viewer): every goal's converting visitors, conversion
 *   rate and value over a range under filters, in one pass over the log (the goals panel).
 */
import { Elysia } from 'elysia'
import Type from 'typebox'
import type { Config } from '../config.ts'
import { csvFileName, csvResponse } from '../csv.ts'
import { parseFilters } from '../filters/parse.ts'
import { goalJson, parseGoalBody } from '../goals/goal.ts'
import { createGoal, deleteGoal, listGoals, withGoals } from '../goals/store.ts'
import { type ReadDeps, siteReadDeps } from '../read/exact.ts'
import { goalConversions } from '../read/filtered.ts'
import { onlyParameters, parseRange, wantsCsv } from '../read/params.ts'
import { Day, Filters, Format, SiteParam, SiteQuery, TimeZone } from '../read/query.ts'
import { bearerToken, requireAccess, tokenMatches } from './auth.ts'
import { readJsonBody } from './body.ts'
import { errors, json, operation, parameters, SECURITY } from './openapi.ts'
import { ref } from './openapi-schemas.ts'
import { readSite, type SiteParamDeps, siteTokens } from './site-param.ts'

/** A goal's body is a few hundred bytes; this leaves room and no more. */
const BODY = { limit: 16_384, timeoutMs: 10_000 }
const MAX_DAYS = 400

const ConversionsQuery = Type.Object(
  {
    site: Type.Optional(SiteParam),
    from: Type.Optional({ ...Day, description: `${Day.description}; 30 days before to when absent` }),
    to: Type.Optional({ ...Day, description: `${Day.description}; today when absent. At most ${MAX_DAYS} days` }),
    tz: Type.Optional(TimeZone),
    filters: Type.Optional(Filters),
    format: Type.Optional(Format),
  },
  { additionalProperties: true },
)
const CONVERSIONS_PARAMETERS = Object.keys(ConversionsQuery.properties)
const GoalId = Type.Object({ id: Type.String({ description: 'a configured goal’s id' }) })

type Query = Record<string, string | undefined>

const SITE_PARAMETERS = Object.keys(SiteQuery.properties)

export const goals = (deps: ReadDeps & SiteParamDeps & { config: Pick<Config, 'adminToken' | 'viewerToken'> }) => {
  const tokens = siteTokens(deps)
  return new Elysia({ name: 'goals' })
    .get(
      '/analytics/goals',
      async ({ request, query }) => {
        const access = requireAccess(request, tokens, 'read')
        onlyParameters(query as Query, SITE_PARAMETERS)
        const site = readSite(deps, (query as Query).site, access)
        // whether this token may add and delete them: the dashboard shows its form only then
        const manage = tokenMatches(bearerToken(request), tokens.admin)
        return { goals: (await listGoals(deps.pool, site.site.id)).map(goalJson), manage }
      },
      operation({
        summary: 'Every goal of a site: one per event type, then the configured ones',
        tags: ['goals'],
        security: SECURITY.read,
        parameters: parameters('query', SiteQuery),
        responses: { 200: json('the goals', 'Goals'), ...errors(401, 404, 422) },
      }),
    )
    .post(
      '/analytics/goals',
      async ({ request, set, query }) => {
        requireAccess(request, tokens, 'admin')
        onlyParameters(query as Query, SITE_PARAMETERS)
        const site = readSite(deps, (query as Query).site)
        const body = parseGoalBody(await readJsonBody(request, BODY, 'a JSON object'))
        const goal = await createGoal(deps.pool, site.site.id, body)
        set.status = 201
        return goalJson(goal)
      },
      {
        parse: 'none',
        ...operation({
          summary: 'Add a goal: a page goal (a path pattern) or an event goal (a type, and a property value)',
          description:
            'It applies to every day the event log keeps: a goal is a query, not a counter. A value sums a numeric property of its conversions (revenue).',
          tags: ['goals'],
          security: SECURITY.admin,
          parameters: parameters('query', SiteQuery),
          requestBody: { required: true, content: { 'application/json': { schema: ref('NewGoal') } } },
          responses: { 201: json('the goal', 'Goal'), ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
        }),
      },
    )
    .delete(
      '/analytics/goals/:id',
      async ({ request, params, set, query }) => {
        requireAccess(request, tokens, 'admin')
        onlyParameters(query as Query, SITE_PARAMETERS)
        const site = readSite(deps, (query as Query).site)
        await deleteGoal(deps.pool, site.site.id, params.id)
        set.status = 204
        return ''
      },
      operation({
        summary: 'Delete a configured goal',
        tags: ['goals'],
        security: SECURITY.admin,
        parameters: [...parameters('path', GoalId), ...parameters('query', SiteQuery)],
        responses: { 204: { description: 'deleted' }, ...errors(401, 403, 404, 422) },
      }),
    )
    .get(
      '/analytics/conversions',
      async ({ request, query }) => {
        const access = requireAccess(request, tokens, 'read')
        const q = query as Query
        onlyParameters(q, CONVERSIONS_PARAMETERS)
        const asCsv = wantsCsv(q)
        const site = readSite(deps, q.site, access)
        const range = parseRange(q, 30, MAX_DAYS, { timeZone: site.calendar.zone, now: deps.now() })
        const filters = await withGoals(deps.pool, site.site.id, parseFilters(q.filters))
        const all = await listGoals(deps.pool, site.site.id)
        const result = await goalConversions(siteReadDeps(deps, site), range, filters, all)
        if (asCsv) {
          return csvResponse(
            csvFileName(['conversions'], range.from, range.to),
            ['goal', 'name', 'conversions', 'conversion_rate', 'value', 'value_per_conversion'],
            result.goals.map((g) => [
              g.goal.id,
              g.goal.name,
              g.conversions,
              g.conversion_rate ?? '',
              g.value ?? '',
              g.value_per_conversion ?? '',
            ]),
          )
        }
        return {
          ...range,
          visitors: result.visitors,
          goals: result.goals.map(({ goal, ...figures }) => ({ goal: goalJson(goal), ...figures })),
        }
      },
      operation({
        summary: 'Every goal’s converting visitors, conversion rate and value, under filters',
        description:
          'Conversion rate as Plausible defines it: the unique visitors who completed the goal, over the unique visitors, both under the same filters. From the event log, exactly.',
        tags: ['goals'],
        security: SECURITY.read,
        parameters: parameters('query', ConversionsQuery),
        responses: {
          200: {
            description: 'the goals’ figures',
            content: { ...json('', 'Conversions').content, 'text/csv': { schema: Type.String() } },
          },
          ...errors(401, 404, 422),
        },
      }),
    )
}
