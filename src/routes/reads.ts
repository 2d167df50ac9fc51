/**
 * The read side: exact stats, top features/pages, the dashboard and per-user counts.
 * Each takes the admin or the viewer token, except `/analytics/me`, which takes the user's own
 * HS256 JWT.
 */
import { Elysia } from 'elysia'
import type { Config } from '../config.ts'
import { csvFileName, toCsv } from '../csv.ts'
import { HttpError } from '../errors.ts'
import { isUserId, USER_ID_RULE } from '../events/limits.ts'
import { dashboard } from '../read/dashboard.ts'
import type { ReadDeps } from '../read/exact.ts'
import { FIRST_DAY, LAST_DAY, parseStats, parseTop } from '../read/params.ts'
import { stats } from '../read/stats.ts'
import { top } from '../read/top.ts'
import { userCounts } from '../read/users.ts'
import { requireAccess, requireUser } from './auth.ts'

type Query = Record<string, string | undefined>

/** `format=json` (the default) or `format=csv`; anything else is a 422 naming it. */
function wantsCsv(query: Query): boolean {
  const format = query.format ?? 'json'
  if (format !== 'json' && format !== 'csv')
    throw new HttpError(422, 'format must be json or csv', { parameter: 'format' })
  return format === 'csv'
}

/** A CSV answer with a header row, downloaded as `name` (see {@link csvFileName}). */
const csv = (name: string, header: string[], rows: (string | number)[][]) =>
  new Response(toCsv(header, rows), {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
      'x-content-type-options': 'nosniff',
    },
  })

const doc = (summary: string, description: string, security = 'admin') => ({
  detail: { summary, description, tags: ['reads'], security: [{ [security]: [] }] },
})

export const reads = (
  deps: ReadDeps & {
    config: Pick<Config, 'adminToken' | 'viewerToken' | 'userJwtSecret' | 'countedProperties' | 'timeZone'>
  },
) => {
  const context = () => ({ timeZone: deps.config.timeZone, now: deps.now() })
  const admin = (request: Request) =>
    requireAccess(request, { admin: deps.config.adminToken, viewer: deps.config.viewerToken }, 'read')
  return new Elysia({ name: 'reads' })
    .get(
      '/analytics/stats',
      async ({ request, query }) => {
        admin(request)
        const asCsv = wantsCsv(query as Query)
        const result = await stats(deps, parseStats(query as Query, context()))
        if (!asCsv) return result
        const what = ['stats', result.metric, result.event_type ?? 'all', result.granularity]
        return csv(
          csvFileName(what, result.from, result.to),
          ['t', 'count'],
          result.series.map((p) => [p.t, p.count]),
        )
      },
      doc(
        'Exact series of one event type (or all), of visits, or of unique visitors',
        `Query: metric=events|visits|visitors, event_type, from, to (YYYY-MM-DD, inclusive, in tz, ${FIRST_DAY} to ${LAST_DAY}), ` +
          'granularity=hour|day|week|month (weeks from Monday, months from the 1st; t is a bucket’s first day in the range), ' +
          'tz (IANA), until (an instant on a quarter-hour: count only before it; not for visitors). ' +
          'Answers {series: [{t, count}], total} (for visitors, total is the union of the days, a week or month the union of its days); ' +
          'format=csv answers the points as text/csv (t,count). 422 names a bad parameter.',
      ),
    )
    .get(
      '/analytics/top',
      async ({ request, query }) => {
        admin(request)
        const asCsv = wantsCsv(query as Query)
        const q = parseTop(query as Query, deps.config.countedProperties, context())
        const { items, total } = await top(deps, q)
        if (asCsv)
          return csv(
            csvFileName(['top', q.dimension], q.from, q.to),
            ['name', 'count'],
            items.map((i) => [i.name, i.count]),
          )
        return { dimension: q.dimension, event_type: q.eventType ?? null, from: q.from, to: q.to, items, total }
      },
      doc(
        'Top values of a dimension',
        'Query: dimension=feature|page|source|utm_source|utm_medium|utm_campaign|entry_page|browser|os|device|' +
          `country|hostname|prop:<key>, event_type (prop:<key> only), from, to (days of TIME_ZONE, ${FIRST_DAY} ` +
          `to ${LAST_DAY}), limit (1-100, decimal digits). Answers {items: [{name, count}], total}: total is the range's visits ` +
          '(visit dimensions) or events; format=csv answers the items as text/csv (name,count).',
      ),
    )
    .get(
      '/analytics/dashboard',
      ({ request }) => {
        admin(request)
        return dashboard(deps)
      },
      doc('Dashboard metrics', 'The original pattern’s keys, exact, plus page views, visitors and top pages.'),
    )
    .get(
      '/analytics/users/:id',
      ({ request, params }) => {
        admin(request)
        // Elysia has decoded the parameter already (null when its escapes are malformed)
        const id = params.id as string | null
        if (!isUserId(id)) throw new HttpError(422, `id must be ${USER_ID_RULE}`, { parameter: 'id' })
        return userCounts(deps, id)
      },
      doc(
        'Counts of any user',
        'events: {<event type>: {today, this_month, total}} of every type counted for the user ({} for none); ' +
          'generations_today, generations_this_month, generations_total (generation_completed). Days of TIME_ZONE.',
      ),
    )
    .get(
      '/analytics/me',
      async ({ request }) => userCounts(deps, await requireUser(request, deps.config.userJwtSecret)),
      doc(
        'Counts of the calling user',
        'As /analytics/users/:id. Bearer: an HS256 JWT whose sub is the user id.',
        'user',
      ),
    )
}
