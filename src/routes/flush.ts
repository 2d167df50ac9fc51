/**
 * The flush, by hand (admin).
 *
 * - `POST /analytics/flush`: runs one flush now and answers `{"flushed": n}` with the number of
 *   counters written. A failure answers 503; the counts stay in Redis for the next try.
 * - `GET /analytics/flush/held`: the batches set aside because Postgres refused their data.
 * - `GET /analytics/flush/held/:batch`: one of them whole (each pending kind's hash of fields and
 *   counts), for a look or a copy.
 * - `POST /analytics/flush/held/:batch/retry`: releases it and flushes now; answers whether it was
 *   written or held again (with Postgres's reason).
 * - `DELETE /analytics/flush/held/:batch`: exports it and removes it from Redis in one step: the
 *   answer is then the only copy of its counts.
 */
import { Elysia, t } from 'elysia'
import type { Deps } from '../deps.ts'
import { HttpError } from '../errors.ts'
import { errorMessage } from '../log.ts'
import { requireAccess } from './auth.ts'

/** What a batch id is made of (base-36 time, instance id, random hex, dashes between). */
const BATCH_ID = /^[0-9a-z-]{1,100}$/

const admin = { tags: ['admin'], security: [{ admin: [] }] }

export const flush = (deps: Pick<Deps, 'config' | 'flusher'>) => {
  const tokens = { admin: deps.config.adminToken, viewer: deps.config.viewerToken }
  const heldId = (request: Request, batch: string) => {
    requireAccess(request, tokens, 'admin')
    if (!BATCH_ID.test(batch)) throw new HttpError(422, 'batch must be a batch id as GET /analytics/flush/held lists')
    return batch
  }
  const notHeld = (batch: string) =>
    new HttpError(404, `no held batch ${batch}: GET /analytics/flush/held lists the held ones`)
  const flushNow = async () => {
    try {
      return await deps.flusher.flush()
    } catch (err) {
      throw new HttpError(503, `${errorMessage(err)}; counts are kept in Redis and retried`, undefined, {
        'retry-after': '5',
      })
    }
  }
  return new Elysia({ name: 'flush' })
    .post(
      '/analytics/flush',
      async ({ request }) => {
        requireAccess(request, tokens, 'admin')
        return { flushed: await flushNow() }
      },
      { parse: 'none', detail: { summary: 'Flush to Postgres now', ...admin } },
    )
    .get(
      '/analytics/flush/held',
      async ({ request }) => {
        requireAccess(request, tokens, 'admin')
        return { held: await deps.flusher.held() }
      },
      { detail: { summary: 'Flush batches set aside because Postgres refused their data', ...admin } },
    )
    .get(
      '/analytics/flush/held/:batch',
      async ({ request, params }) => {
        const batch = heldId(request, params.batch)
        const exported = await deps.flusher.exportHeld(batch, false)
        if (!exported) throw notHeld(batch)
        return exported
      },
      { params: t.Object({ batch: t.String() }), detail: { summary: 'One held batch, whole', ...admin } },
    )
    .post(
      '/analytics/flush/held/:batch/retry',
      async ({ request, params }) => {
        const batch = heldId(request, params.batch)
        let again: Awaited<ReturnType<typeof deps.flusher.retryHeld>>
        try {
          again = await deps.flusher.retryHeld(batch)
        } catch (err) {
          throw new HttpError(
            503,
            `${errorMessage(err)}; the batch is kept in Redis and retried by the next flush`,
            undefined,
            {
              'retry-after': '5',
            },
          )
        }
        if (again === false) throw notHeld(batch)
        return again === undefined ? { batch_id: batch, written: true } : { ...again, written: false }
      },
      { parse: 'none', params: t.Object({ batch: t.String() }), detail: { summary: 'Retry a held batch', ...admin } },
    )
    .delete(
      '/analytics/flush/held/:batch',
      async ({ request, params }) => {
        const batch = heldId(request, params.batch)
        const exported = await deps.flusher.exportHeld(batch, true)
        if (!exported) throw notHeld(batch)
        return exported
      },
      {
        parse: 'none',
        params: t.Object({ batch: t.String() }),
        detail: { summary: 'Export a held batch and remove it from Redis', ...admin },
      },
    )
}
