/**
 * The read side: exact stats, top features/pages, the dashboard and per-user counts.
 * Each takes the admin or the viewer token, except `/analytics/me`, which takes the user's own
 * HS256 JWT.
 */
import { Elysia } from 'elysia'
import Type from 'typebox'
import type { Config } from '../config.ts'
import { csvFileName, csvResponse } from '../csv.ts'
import { HttpError } from '../errors.ts'
import { isUserId, USER_ID_RULE } from '../events/limits.ts'
import { parseFilters } from '../filters/parse.ts'
import { findGoal, withGoals } from '../goals/store.ts'
import { dashboard } from '../read/dashboard.ts'
import { type ReadDeps, siteReadDeps } from '../read/exact.ts'
import { filteredDashboard, filteredStats, filteredTop, type ItemFigures, withFigures } from '../read/filtered.ts'
import { logCheck } from '../read/log-check.ts'
import { overview } from '../read/overview.ts'
import { DASHBOARD_PARAMETERS, onlyParameters, parseRange, parseStats, parseTop, wantsCsv } from '../read/params.ts'
import { isConversionMetric, isQualityMetric } from '../read/quality.ts'
import {
  DashboardQuery,
  LogCheckQuery,
  OverviewQuery,
  SiteQuery,
  StatsQuery,
  topQuery,
  UserIdParams,
} from '../read/query.ts'
import { stats } from '../read/stats.ts'
import { type TopItem, top } from '../read/top.ts'
import { userCounts } from '../read/users.ts'
import { type Access, requireAccess, requireUser } from './auth.ts'
import { errors, json, type Operation, operation, parameters, SECURITY } from './openapi.ts'
import { readSite, type SiteParamDeps, siteTokens } from './site-param.ts'

type Query = Record<string, string | undefined>

/** Days one drift check may cover: a read of every day's events and visits, twice. */
const MAX_CHECK_DAYS = 92
const LOG_CHECK_PARAMETERS = Object.keys(LogCheckQuery.properties)
const SITE_PARAMETERS = Object.keys(SiteQuery.properties)
const OVERVIEW_PARAMETERS = Object.keys(OverviewQuery.properties)

/** A read's operation: JSON `ok`, and with `csv` the same as text/csv (`format=csv`). */
const read = (
  summary: string,
  description: string,
  ok: Parameters<typeof json>[1],
  options: { parameters?: Operation['parameters']; csv?: string; security?: Operation['security']; errors?: number[] },
) =>
  operation({
    summary,
    description,
    tags: ['reads'],
    security: options.security ?? SECURITY.read,
    parameters: options.parameters,
    responses: {
      200: options.csv
        ? { description: 'the counts', content: { ...json('', ok).content, 'text/csv': { schema: CSV } } }
        : json('the counts', ok),
      ...errors(...(options.errors ?? [401, 404, 422])),
    },
  })

const CSV = Type.String({ description: 'a header row, then one row per point or item' })

export const reads = (
  deps: ReadDeps &
    SiteParamDeps & {
      config: Pick<Config, 'adminToken' | 'viewerToken' | 'userJwtSecret' | 'countedProperties'>
    },
) => {
  /**
   * The site a read names: its reads' deps, its id, its counted properties, and the zone its
   * counters count days in (its calendar's, as every read of them takes it).
   */
  const siteOf = (query: Query, access?: Access) => {
    const site = readSite(deps, query.site, access)
    return {
      id: site.site.id,
      deps: siteReadDeps(deps, site),
      countedProperties: site.site.countedProperties,
      context: () => ({ timeZone: site.calendar.zone, now: deps.now() }),
    }
  }
  const tokens = siteTokens(deps)
  const admin = (request: Request) => requireAccess(request, tokens, 'read')
  return new Elysia({ name: 'reads' })
    .get(
      '/analytics/stats',
      async ({ request, query }) => {
        const access = admin(request)
        const asCsv = wantsCsv(query as Query)
        const site = siteOf(query as Query, access)
        const q = parseStats(query as Query, site.context())
        q.filters = await withGoals(deps.pool, site.id, q.filters)
        const goal = q.goal === undefined ? undefined : await findGoal(deps.pool, site.id, q.goal)
        const fromLog = q.filters.length > 0 || isQualityMetric(q.metric) || isConversionMetric(q.metric)
        const result = fromLog ? await filteredStats(site.deps, q, q.filters, goal) : await stats(site.deps, q)
        if (!asCsv) return result
        const what = ['stats', result.metric, goal?.id ?? result.event_type ?? 'all', result.granularity]
        if (isConversionMetric(result.metric)) {
          const withValue = goal?.value != null
          return csvResponse(
            csvFileName(what, result.from, result.to),
            [
              't',
              'visitors',
              'conversions',
              ...(result.metric === 'conversion_rate' ? ['conversion_rate'] : []),
              ...(withValue ? ['goal_value'] : []),
            ],
            result.series.map((p) => [
              p.t,
              p.visitors ?? 0,
              p.count,
              ...(result.metric === 'conversion_rate' ? [p.value ?? ''] : []),
              ...(withValue ? [p.goal_value ?? 0] : []),
            ]),
          )
        }
        if (isQualityMetric(result.metric)) {
          return csvResponse(
            csvFileName(what, result.from, result.to),
            ['t', 'visits', result.metric],
            result.series.map((p) => [p.t, p.count, p.value ?? '']),
          )
        }
        return csvResponse(
          csvFileName(what, result.from, result.to),
          ['t', 'count'],
          result.series.map((p) => [p.t, p.count]),
        )
      },
      read(
        'Exact series of one event type (or all), of visits, of unique visitors, or of what visits were worth (bounce rate, visit duration, views per visit)',
        'Dense: every bucket of the range (hours, days, ISO weeks from Monday or calendar months; t is a bucket’s first day in the range), 0 where nothing was counted. For visitors, total is the union of the days, and a week or month the union of its days.',
        'Stats',
        { parameters: parameters('query', StatsQuery), csv: 't,count' },
      ),
    )
    .get(
      '/analytics/top',
      async ({ request, query }) => {
        const access = admin(request)
        const asCsv = wantsCsv(query as Query)
        const site = siteOf(query as Query, access)
        const q = parseTop(query as Query, site.countedProperties, site.context())
        q.filters = await withGoals(deps.pool, site.id, q.filters)
        const goal = q.goal === undefined ? undefined : await findGoal(deps.pool, site.id, q.goal)
        const ranked =
          q.filters.length > 0
            ? await filteredTop(site.deps, q, q.filters, site.countedProperties)
            : await top(site.deps, q)
        const total = ranked.total
        // each item's visit quality and conversions, from the event log, when asked for
        const items: (TopItem & ItemFigures)[] =
          q.metrics.length === 0 ? ranked.items : await withFigures(site.deps, q, ranked.items, goal)
        const columns = [...q.metrics, ...(goal?.value ? (['goal_value'] as const) : [])]
        if (asCsv)
          return csvResponse(
            csvFileName(['top', q.dimension], q.from, q.to),
            ['name', 'count', ...columns],
            items.map((i) => [i.name, i.count, ...columns.map((m) => i[m] ?? '')]),
          )
        return {
          dimension: q.dimension,
          event_type: q.eventType ?? null,
          ...(goal ? { goal: goal.id } : {}),
          from: q.from,
          to: q.to,
          items,
          total,
        }
      },
      read(
        'Top values of a dimension',
        'Over days of TIME_ZONE; total is the range’s visits (visit dimensions) or events.',
        'Top',
        // the default site's counted properties: another site's are its own (GET /analytics/sites)
        { parameters: parameters('query', topQuery(deps.config.countedProperties)), csv: 'name,count' },
      ),
    )
    .get(
      '/analytics/dashboard',
      async ({ request, query }) => {
        const access = admin(request)
        onlyParameters(query as Query, DASHBOARD_PARAMETERS)
        const site = siteOf(query as Query, access)
        const filters = await withGoals(deps.pool, site.id, parseFilters((query as Query).filters))
        return filters.length > 0 ? await filteredDashboard(site.deps, filters) : await dashboard(site.deps)
      },
      read(
        'Dashboard metrics',
        'The original pattern’s keys, exact, plus page views, visitors and top pages. Under filters every key is counted from the event log, the totals over the days it keeps.',
        'Dashboard',
        { parameters: parameters('query', DashboardQuery) },
      ),
    )
    .get(
      '/analytics/overview',
      async ({ request, query }) => {
        const access = admin(request)
        if (access.role === 'link')
          throw new HttpError(403, 'a shared link reads its own site only: see /analytics/stats')
        onlyParameters(query as Query, OVERVIEW_PARAMETERS)
        const q = query as Query
        const sites = deps.sites.list().map((site) => deps.contexts.of(site))
        return { sites: await overview(deps, sites, { from: q.from, to: q.to }) }
      },
      read(
        'Every site at a glance: unique visitors, visits, page views and their trend by day',
        'Each site over the same days of its own time zone (the last 30 days by default), exactly as its own reads count them. For the admin and viewer tokens: a shared link reads its own site only (403).',
        'Overview',
        { parameters: parameters('query', OverviewQuery), errors: [401, 403, 422] },
      ),
    )
    .get(
      '/analytics/log/check',
      async ({ request, query }) => {
        const access = admin(request)
        onlyParameters(query as Query, LOG_CHECK_PARAMETERS)
        const site = siteOf(query as Query, access)
        return await logCheck(site.deps, parseRange(query as Query, 30, MAX_CHECK_DAYS, site.context()))
      },
      read(
        'The event log against the counters, day by day',
        `Each day's events and visits from the counters and from the event log, which agree unless log rows were dropped past EVENTS_PENDING_MAX or a day is past EVENTS_RETENTION_DAYS; drift counts the days that differ. At most ${MAX_CHECK_DAYS} days.`,
        'LogCheck',
        { parameters: parameters('query', LogCheckQuery) },
      ),
    )
    .get(
      '/analytics/users/:id',
      async ({ request, params, query }) => {
        const access = admin(request)
        onlyParameters(query as Query, SITE_PARAMETERS)
        // Elysia has decoded the parameter already (null when its escapes are malformed)
        const id = params.id as string | null
        if (!isUserId(id)) throw new HttpError(422, `id must be ${USER_ID_RULE}`, { parameter: 'id' })
        return userCounts(siteOf(query as Query, access).deps, id)
      },
      read(
        'Counts of any user',
        'Each event type counted for the user ({} for none), and generation_completed as generations_*. Days of TIME_ZONE.',
        'UserCounts',
        { parameters: [...parameters('path', UserIdParams), ...parameters('query', SiteQuery)] },
      ),
    )
    .get(
      '/analytics/me',
      async ({ request, query }) => {
        onlyParameters(query as Query, SITE_PARAMETERS)
        const user = await requireUser(request, deps.config.userJwtSecret)
        return userCounts(siteOf(query as Query).deps, user)
      },
      read(
        'Counts of the calling user',
        'As /analytics/users/{id}, for the user the token’s sub names, on the site named.',
        'UserCounts',
        {
          parameters: parameters('query', SiteQuery),
          security: SECURITY.user,
          errors: [401, 404, 422],
        },
      ),
    )
}
