/**
 * The read side: exact stats, top features/pages, the dashboard and per-user generation counts.
 * Everything is admin-only except `/analytics/me`, which takes the user's own HS256 JWT.
 */
import { Elysia } from 'elysia'
import type { Config } from '../config.ts'
import { HttpError } from '../errors.ts'
import { isUserId, USER_ID_RULE } from '../events/limits.ts'
import { dashboard } from '../read/dashboard.ts'
import type { ReadDeps } from '../read/exact.ts'
import { FIRST_DAY, LAST_DAY, parseStats, parseTop } from '../read/params.ts'
import { stats } from '../read/stats.ts'
import { top } from '../read/top.ts'
import { userGenerations } from '../read/users.ts'
import { requireToken, requireUser } from './auth.ts'

type Query = Record<string, string | undefined>

const doc = (summary: string, description: string, security = 'admin') => ({
  detail: { summary, description, tags: ['reads'], security: [{ [security]: [] }] },
})

export const reads = (
  deps: ReadDeps & { config: Pick<Config, 'adminToken' | 'userJwtSecret' | 'countedProperties' | 'timeZone'> },
) => {
  const context = () => ({ timeZone: deps.config.timeZone, now: deps.now() })
  const admin = (request: Request) => requireToken(request, deps.config.adminToken, 'ADMIN_TOKEN')
  return new Elysia({ name: 'reads' })
    .get(
      '/analytics/stats',
      ({ request, query }) => {
        admin(request)
        return stats(deps, parseStats(query as Query, context()))
      },
      doc(
        'Exact series of one event type (or all), or of visits',
        `Query: metric=events|visits, event_type, from, to (YYYY-MM-DD, inclusive, in tz, ${FIRST_DAY} to ${LAST_DAY}), ` +
          'granularity=day|hour, tz (IANA). ' +
          'Answers {series: [{t, count}], total}; 422 names a bad parameter.',
      ),
    )
    .get(
      '/analytics/top',
      async ({ request, query }) => {
        admin(request)
        const q = parseTop(query as Query, deps.config.countedProperties, context())
        const { items, total } = await top(deps, q)
        return { dimension: q.dimension, event_type: q.eventType ?? null, from: q.from, to: q.to, items, total }
      },
      doc(
        'Top values of a dimension',
        'Query: dimension=feature|page|source|utm_source|utm_medium|utm_campaign|entry_page|browser|os|device|' +
          `country|hostname|prop:<key>, event_type (prop:<key> only), from, to (UTC days, ${FIRST_DAY} to ` +
          `${LAST_DAY}), limit (1-100). Answers {items: [{name, count}], total}: total is the range's visits ` +
          '(visit dimensions) or events.',
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
        return userGenerations(deps, id)
      },
      doc('Generations of any user', 'generations_today, generations_this_month, generations_total (UTC).'),
    )
    .get(
      '/analytics/me',
      async ({ request }) => userGenerations(deps, await requireUser(request, deps.config.userJwtSecret)),
      doc('Generations of the calling user', 'Bearer: an HS256 JWT whose sub is the user id.', 'user'),
    )
}
