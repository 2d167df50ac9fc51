/**
 * The read side: exact stats, top features/pages, the dashboard and per-user generation counts.
 * Everything is admin-only except `/analytics/me`, which takes the user's own HS256 JWT.
 */
import { Elysia } from 'elysia'
import type { Deps } from '../app.ts'
import { HttpError } from '../errors.ts'
import { dashboard } from '../read/dashboard.ts'
import { parseStats, parseTop } from '../read/params.ts'
import { stats } from '../read/stats.ts'
import { top } from '../read/top.ts'
import { userGenerations } from '../read/users.ts'
import { requireToken, requireUser } from './auth.ts'

type Query = Record<string, string | undefined>

export const reads = (deps: Deps) => {
  const admin = (request: Request) => requireToken(request, deps.config.adminToken, 'ADMIN_TOKEN')
  return new Elysia({ name: 'reads' })
    .get('/analytics/stats', ({ request, query }) => {
      admin(request)
      return stats(deps, parseStats(query as Query))
    })
    .get('/analytics/top', async ({ request, query }) => {
      admin(request)
      const q = parseTop(query as Query)
      const items = await top(deps, q)
      return { dimension: q.dimension, from: q.from, to: q.to, items }
    })
    .get('/analytics/dashboard', ({ request }) => {
      admin(request)
      return dashboard(deps)
    })
    .get('/analytics/users/:id', ({ request, params }) => {
      admin(request)
      const id = decodeURIComponent(params.id)
      if (id === '' || id.length > 128) throw new HttpError(422, 'id must be 1-128 characters', { parameter: 'id' })
      return userGenerations(deps, id)
    })
    .get('/analytics/me', async ({ request }) =>
      userGenerations(deps, await requireUser(request, deps.config.userJwtSecret)),
    )
}
