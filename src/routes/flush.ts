/**
 * `POST /analytics/flush` (admin): runs one flush now and answers `{"flushed": n}` with the
 * number of counters written. A failure answers 503; the counts stay in Redis for the next try.
 */
import { Elysia } from 'elysia'
import type { Deps } from '../deps.ts'
import { HttpError } from '../errors.ts'
import { errorMessage } from '../log.ts'
import { requireAccess } from './auth.ts'

export const flush = (deps: Pick<Deps, 'config' | 'flusher'>) =>
  new Elysia({ name: 'flush' }).post(
    '/analytics/flush',
    async ({ request }) => {
      requireAccess(request, { admin: deps.config.adminToken, viewer: deps.config.viewerToken }, 'admin')
      try {
        return { flushed: await deps.flusher.flush() }
      } catch (err) {
        throw new HttpError(503, `${errorMessage(err)}; counts are kept in Redis and retried`, undefined, {
          'retry-after': '5',
        })
      }
    },
    {
      parse: 'none',
      detail: { summary: 'Flush to Postgres now', tags: ['admin'], security: [{ admin: [] }] },
    },
  )
